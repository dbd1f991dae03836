"""SQLite databases: sqlite3 (sync) and aiosqlite (async) on the shared SQLAlchemy core.

Every connection gets ``PRAGMA foreign_keys = ON``; file databases get WAL journaling,
a busy timeout and their parent directory created. storeroom emits ``BEGIN`` itself
(the sqlite3 module's legacy transaction handling would leave SELECT, DDL and
SAVEPOINT outside the transaction), so DDL is transactional and savepoints nest.

``:memory:`` is one shared connection in a one-slot QueuePool rather than a
StaticPool: a StaticPool would hand that connection to a second thread in the
middle of another thread's transaction; the one-slot pool makes it wait instead.
Each engine has its own memory database (the sync and async twins do not share one).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self, get_args

from sqlalchemy import event, exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool

from storeroom.config.models import PoolSettings
from storeroom.errors import ConfigurationError
from storeroom.sqla import AsyncSqlaDatabase, SqlaBase, SqlaDatabase
from storeroom.sqla.engine import pool_options
from storeroom.sqla.statements import BulkInsert
from storeroom_sqlite._errors import SQLiteErrorTranslator
from storeroom_sqlite.settings import JournalMode, SQLiteSettings

__all__ = ["PLUGIN_NAME", "AsyncSQLiteDatabase", "SQLiteDatabase", "is_memory_url"]

PLUGIN_NAME = "sqlite"
DEFAULT_URL = "sqlite:///var/storeroom.db"
_JOURNAL_MODES = frozenset(get_args(JournalMode))
_LONE_STATEMENT = "storeroom_lone_statement"  # execution option: skip our explicit BEGIN
BULK_CHUNK = 5000  # rows per executemany: bounds memory for generators


def _uri_mode(url: URL) -> bool:
    return str(url.query.get("uri", "")).lower() in ("true", "1")


def is_memory_url(url: URL) -> bool:
    """``sqlite://``, ``sqlite:///:memory:`` or a ``mode=memory`` URI."""
    database = url.database or ""
    if database in ("", ":memory:"):
        return True
    return _uri_mode(url) and ("mode=memory" in database or str(url.query.get("mode", "")) == "memory")


class _SQLite(SqlaBase):
    """What the sync and async SQLite databases share."""

    PLUGIN_NAME: ClassVar[str] = PLUGIN_NAME
    settings_model: ClassVar[type[Any] | None] = SQLiteSettings
    transactional_ddl: ClassVar[bool] = True
    concurrent_writers: ClassVar[bool] = False  # one writer per file: the unit of work journals in-transaction
    dialect_name = "sqlite"
    sync_driver = "pysqlite"
    async_driver = "aiosqlite"
    error_translator = SQLiteErrorTranslator()

    def __init__(
        self,
        url: str | URL = DEFAULT_URL,
        *,
        name: str = "default",
        pool: PoolSettings | None = None,
        busy_timeout: float = 5.0,
        journal_mode: str | None = None,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        if journal_mode is not None:
            journal_mode = journal_mode.lower()
            if journal_mode not in _JOURNAL_MODES:
                raise ConfigurationError(
                    f"journal_mode {journal_mode!r} is not one of {', '.join(sorted(_JOURNAL_MODES))}",
                    key="journal_mode",
                )
        if busy_timeout < 0:
            raise ConfigurationError("busy_timeout must be >= 0 seconds", key="busy_timeout")
        self.busy_timeout = float(busy_timeout)
        self.journal_mode = journal_mode
        super().__init__(url, name=name, pool=pool, engine_options=engine_options)

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        settings = cls._own_settings(name, settings)
        return cls(
            settings.url,
            name=name,
            pool=settings.pool,
            busy_timeout=settings.busy_timeout,
            journal_mode=settings.journal_mode,
        )

    @property
    def in_memory(self) -> bool:
        return is_memory_url(self._url)

    @property
    def path(self) -> Path | None:
        """The database file (None for memory databases and ``file:`` URIs)."""
        if self.in_memory or _uri_mode(self._url):
            return None
        return Path(self._url.database or "")

    def _engine_options(self, url: URL) -> dict[str, Any]:
        connect_args = {"check_same_thread": False, "timeout": self.busy_timeout}
        if is_memory_url(url):
            return {
                "poolclass": AsyncAdaptedQueuePool if self._is_async else QueuePool,
                "pool_size": 1,
                "max_overflow": 0,
                "pool_timeout": self._pool_settings.timeout,
                "pool_recycle": -1,  # recycling would drop the data
                "pool_pre_ping": False,
                "connect_args": connect_args,
            }
        if not _uri_mode(url) and url.database:
            folder = Path(url.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file where the folder should be, no permission ...
                raise ConfigurationError(
                    f"database {self.name!r}: cannot create the folder {str(folder)!r} for its file: "
                    f"{exc.strerror or type(exc).__name__}",
                    key=f"databases.{self.name}.url",
                ) from exc
        # pre_ping guards against a server dropping idle connections; a file has no server.
        return {**pool_options(self._pool_settings), "pool_pre_ping": False, "connect_args": connect_args}

    def _configure_engine(self, engine: Engine) -> None:
        journal_mode = self.journal_mode or (None if is_memory_url(self._url) else "wal")

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # BEGIN is ours (see _on_begin)
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA foreign_keys = ON")
                if journal_mode is not None:
                    cursor.execute("PRAGMA journal_mode")
                    current = cursor.fetchone()
                    if not current or str(current[0]).lower() != journal_mode:
                        # journal_mode is one of the validated literals, never user text
                        cursor.execute(f"PRAGMA journal_mode = {journal_mode}")
                        cursor.fetchone()
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            options = conn.get_execution_options()
            if options.get(_LONE_STATEMENT) or options.get("isolation_level") == "AUTOCOMMIT":
                return
            # Straight to the driver: a full SQLAlchemy execution would double the cost of
            # a small query. sqlite3 still issues COMMIT/ROLLBACK when SQLAlchemy asks.
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute("BEGIN")
            finally:
                cursor.close()

    def _single_statement(self, conn: Connection) -> None:
        # A lone statement is atomic in sqlite's autocommit mode: BEGIN/COMMIT around it
        # would add nothing but work (three extra driver round trips on aiosqlite).
        conn.execution_options(**{_LONE_STATEMENT: True})

    def _bulk_insert_on(self, conn: Connection, plan: BulkInsert, rows: Iterator[Mapping[str, Any]]) -> int:
        """``executemany`` of value tuples straight on the sqlite3 cursor, a chunk at a time.

        SQLAlchemy's executemany would turn each row's dict into a tuple in Python; the
        plan's ``tuple_chunks`` does it in C (``benchmarks/orm_bulk_create.py``). Errors are
        raised as SQLAlchemy's, so they are translated like any other.
        """
        sql = str(plan.statement().compile(dialect=conn.dialect))
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        dbapi = conn.dialect.loaded_dbapi
        total = 0
        try:
            for _, chunk in plan.tuple_chunks(rows, BULK_CHUNK):
                try:
                    cursor.executemany(sql, chunk)
                except dbapi.Error as exc:
                    raise sa_exc.DBAPIError.instance(
                        sql, None, exc, dbapi.Error, hide_parameters=True, dialect=conn.dialect
                    ) from exc
                total += len(chunk)
        finally:
            cursor.close()
        return total

    def _begin_read_only(self, conn: Connection) -> None:
        conn.exec_driver_sql("PRAGMA query_only = ON")

    def _end_read_only(self, conn: Connection) -> None:
        # query_only is a connection flag, not transactional: it outlives COMMIT/ROLLBACK.
        conn.exec_driver_sql("PRAGMA query_only = OFF")
        conn.rollback()


class SQLiteDatabase(_SQLite, SqlaDatabase):
    """Sync SQLite (sqlite3). ``SQLiteDatabase("sqlite:///var/app.db", name="main")``."""


class AsyncSQLiteDatabase(_SQLite, AsyncSqlaDatabase):
    """Async SQLite (aiosqlite)."""
