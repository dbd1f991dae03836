"""MySQL and MariaDB databases: PyMySQL (sync) and asyncmy (async) on the shared core.

``mysql://`` serves both servers; which one a connection reached is read once per
connection (see :mod:`storeroom_mysql._server`) and reported in health details. DDL
is *not* transactional here: MySQL and MariaDB commit implicitly before and after
``CREATE``/``ALTER``/``DROP``, even inside ``transaction()`` (``transactional_ddl``
is False, so schema sync applies changes step by step).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pymysql.charset import charset_by_name
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine

from storeroom.config.models import PoolSettings, validate_model
from storeroom.errors import ConfigurationError
from storeroom.logs import get_logger
from storeroom.sqla import AsyncSqlaDatabase, BulkInsert, SqlaBase, SqlaDatabase
from storeroom.sqla.engine import pool_options, positive_seconds, settings_url
from storeroom.sqla.statements import Statement, native_ready, prepare, statement_text
from storeroom_mysql._bulk import insert_rows
from storeroom_mysql._errors import MySQLErrorTranslator
from storeroom_mysql._fetch import afetch_dicts, afetch_rows, has_cursor_listeners
from storeroom_mysql._server import FACTS_KEY, ServerFacts, end_handshake_timeout, read_facts
from storeroom_mysql._ssl import build_ssl_context
from storeroom_mysql._urls import ASYNC_DRIVER, ASYNC_DRIVERS, SYNC_DRIVER, SYNC_DRIVERS, resolve_mysql_url
from storeroom_mysql.settings import DEFAULT_BULK_MAX_BYTES, MySQLSettings, MySQLSslSettings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable

__all__ = ["PLUGIN_NAME", "AsyncMySQLDatabase", "MySQLDatabase"]

PLUGIN_NAME = "mysql"

logger = get_logger("storeroom.mysql")


def _ssl_context(value: MySQLSslSettings | Mapping[str, Any] | ssl.SSLContext | None) -> ssl.SSLContext | None:
    if value is None or isinstance(value, ssl.SSLContext):
        return value
    if not isinstance(value, MySQLSslSettings):
        value = validate_model(MySQLSslSettings, dict(value), "ssl")
    return build_ssl_context(value)


class _MySQL(SqlaBase):
    """What the sync and async MySQL/MariaDB databases share."""

    PLUGIN_NAME: ClassVar[str] = PLUGIN_NAME
    settings_model: ClassVar[type[Any] | None] = MySQLSettings
    #: MySQL and MariaDB commit DDL implicitly; it cannot be rolled back
    transactional_ddl: ClassVar[bool] = False
    dialect_name = "mysql"
    url_schemes: ClassVar[tuple[str, ...]] = ("mysql", "mariadb")  # a url alone selects this backend
    sync_driver = SYNC_DRIVER
    async_driver = ASYNC_DRIVER
    extra_sync_drivers = SYNC_DRIVERS[1:]
    extra_async_drivers = ASYNC_DRIVERS[1:]
    error_translator = MySQLErrorTranslator()
    _bound_handshake = False  # connections open with read_timeout = connect_timeout (see _server)

    def __init__(
        self,
        url: str | URL,
        *,
        name: str = "default",
        pool: PoolSettings | None = None,
        connect_timeout: float | None = 10.0,
        statement_timeout: float | None = None,
        charset: str = "utf8mb4",
        ssl: MySQLSslSettings | Mapping[str, Any] | ssl.SSLContext | None = None,
        bulk_max_bytes: int = DEFAULT_BULK_MAX_BYTES,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.connect_timeout = positive_seconds(connect_timeout, "connect_timeout")
        self.statement_timeout = positive_seconds(statement_timeout, "statement_timeout")
        if not isinstance(charset, str) or not charset:
            raise ConfigurationError(f"charset must be a MySQL character set name, got {charset!r}", key="charset")
        try:
            known = charset_by_name(charset) is not None
        except KeyError:
            known = False
        if not known:
            raise ConfigurationError(f"charset {charset!r} is not a MySQL character set", key="charset")
        self.charset = charset
        if isinstance(bulk_max_bytes, bool) or not isinstance(bulk_max_bytes, int) or bulk_max_bytes < 4096:
            raise ConfigurationError(
                f"bulk_max_bytes must be an integer of at least 4096, got {bulk_max_bytes!r}", key="bulk_max_bytes"
            )
        self.bulk_max_bytes = bulk_max_bytes
        self._ssl = _ssl_context(ssl)
        self._facts: ServerFacts | None = None
        super().__init__(url, name=name, pool=pool, engine_options=engine_options)

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        settings = cls._own_settings(name, settings)
        return cls(
            settings_url(settings, "mysql"),
            name=name,
            pool=settings.pool,
            connect_timeout=settings.connect_timeout,
            statement_timeout=settings.statement_timeout,
            charset=settings.charset,
            ssl=settings.ssl,
            bulk_max_bytes=settings.bulk_max_bytes,
        )

    # -- construction hooks -----------------------------------------------------------------

    def _resolve_url(self, url: str | URL) -> URL:
        return resolve_mysql_url(url, is_async=self._is_async)

    def _engine_options(self, url: URL) -> dict[str, Any]:
        connect_args: dict[str, Any] = {}
        self._bound_handshake = self.connect_timeout is not None and "read_timeout" not in url.query
        if self.connect_timeout is not None:
            connect_args["connect_timeout"] = self.connect_timeout
            if self._bound_handshake:
                connect_args["read_timeout"] = self.connect_timeout  # lifted again in _on_connect
        if "charset" not in url.query:
            connect_args["charset"] = self.charset
        if self._ssl is not None:
            connect_args["ssl"] = self._ssl
        return {**pool_options(self._pool_settings), "connect_args": connect_args}

    def _configure_engine(self, engine: Engine) -> None:
        event.listen(engine, "connect", self._on_connect)

    def _on_connect(self, dbapi_connection: Any, record: Any) -> None:
        try:
            facts = read_facts(
                dbapi_connection, statement_timeout=self.statement_timeout, require_tls=self._ssl is not None
            )
        except BaseException:
            dbapi_connection.close()
            raise
        if self._bound_handshake:
            end_handshake_timeout(dbapi_connection)
        record.info[FACTS_KEY] = facts
        first = self._facts is None
        self._facts = facts
        if first:
            self._check_recycle(facts)

    def _check_recycle(self, facts: ServerFacts) -> None:
        recycle = self._pool_settings.recycle
        if recycle < 0 or recycle >= facts.wait_timeout:
            logger.warning(
                "database %r: pool.recycle (%s s) is not below the server's wait_timeout (%s s); "
                "idle connections may be dropped by the server (pre_ping will replace them)",
                self.name,
                recycle,
                facts.wait_timeout,
            )

    # -- facts --------------------------------------------------------------------------------

    @property
    def server_facts(self) -> ServerFacts | None:
        """What the last new connection learnt: version string, packet limit, wait_timeout."""
        return self._facts

    @property
    def flavour(self) -> str | None:
        """``"MariaDB"`` or ``"MySQL"`` once a connection has been made; None before."""
        return self._facts.flavour if self._facts is not None else None

    def _health_details(self) -> dict[str, Any]:
        details = super()._health_details()
        facts = self._facts
        details["flavour"] = facts.flavour if facts is not None else None
        details["server_version_string"] = facts.version if facts is not None else None
        return details

    # -- dialect hooks ------------------------------------------------------------------------

    def _begin_read_only(self, conn: Connection) -> None:
        # SQLAlchemy's begin() sends nothing on MySQL; this starts the transaction itself,
        # read-only from its first statement (writes fail with error 1792).
        conn.exec_driver_sql("START TRANSACTION READ ONLY")

    def _bulk_insert_on(self, conn: Connection, plan: BulkInsert, rows: Iterator[Mapping[str, Any]]) -> int:
        if not hasattr(plan, "tuples"):  # an older core without value tuples
            return self._insert_batches(conn, plan, plan.batches(rows))
        return self._insert_rows(conn, plan, plan.tuples(rows))

    def _insert_batches(self, conn: Connection, plan: BulkInsert, batches: Iterable[list[dict[str, Any]]]) -> int:
        return self._insert_rows(conn, plan, (row.values() for row in chain.from_iterable(batches)))  # type: ignore[misc]

    def _insert_rows(self, conn: Connection, plan: BulkInsert, rows: Iterable[Sequence[Any]]) -> int:
        return insert_rows(conn, plan, rows, max_bytes=self.bulk_max_bytes, max_rows=self.bulk_batch_size)


class MySQLDatabase(_MySQL, SqlaDatabase):
    """Sync MySQL/MariaDB (PyMySQL). ``MySQLDatabase("mysql://app@127.0.0.1/app", name="main")``."""


class AsyncMySQLDatabase(_MySQL, AsyncSqlaDatabase):
    """Async MySQL/MariaDB (asyncmy)."""

    #: read ``fetch_*`` rows through asyncmy's cursor (see :mod:`storeroom_mysql._fetch`)
    native_fetch: ClassVar[bool] = True

    @property
    def _native(self) -> bool:
        return self.native_fetch and not has_cursor_listeners(self._sync_engine)

    async def _afetch_on(
        self, conn: AsyncConnection, clause: Executable, params: Mapping[str, Any], one: bool
    ) -> tuple[Sequence[str], Sequence[Sequence[Any]]]:
        if self._native and native_ready(clause, self._sync_engine.dialect):
            return await afetch_rows(conn, clause, params, one)
        return await super()._afetch_on(conn, clause, params, one)

    async def fetch_all(self, sql: Statement, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row, as dicts; asyncmy builds them (the biggest cost of a large result)."""
        if not self._native:
            return await super().fetch_all(sql, params)
        clause, bound = prepare(sql, params)
        if not native_ready(clause, self._sync_engine.dialect):
            return await super().fetch_all(sql, params)
        async with self._use(statement_text(sql)) as conn:
            return await afetch_dicts(conn, clause, bound)
