"""The sync SQLAlchemy-backed :class:`~storeroom.database.DatabaseInterface`."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL, Connection, Engine

from storeroom._health_runner import run_with_timeout
from storeroom.database import DatabaseInterface
from storeroom.health import HealthResult
from storeroom.sqla.base import SqlaBase, normalise_isolation_level
from storeroom.sqla.engine import build_engine
from storeroom.sqla.queries import SyncQueries
from storeroom.sqla.transaction import SqlaTransaction

if TYPE_CHECKING:
    pass

__all__ = ["SqlaDatabase"]


class SqlaDatabase(SqlaBase, SyncQueries, DatabaseInterface):
    """A named, pooled database on a SQLAlchemy ``Engine``.

    Used directly with any SQLAlchemy URL, or subclassed by a dialect plugin that sets
    ``PLUGIN_NAME``, ``dialect_name``, the drivers and its hooks.
    """

    _is_async = False

    def _create_engine(self, url: URL, options: Mapping[str, Any]) -> Engine:
        return build_engine(url, options)

    @property
    def engine(self) -> Engine:
        return self._engine  # type: ignore[no-any-return]

    @property
    def _db(self) -> SqlaBase:
        return self

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> Connection:
        with self._errors(None, "connect"):
            return self._engine.connect()  # type: ignore[no-any-return]

    @contextmanager
    def _use(self, statement: str | None, single: bool = True) -> Iterator[Connection]:
        """Join the ambient transaction, or run in a short transaction of our own.

        ``single``: the body runs one statement (``execute_many``/``bulk_insert`` run many).
        """
        self._precheck()
        tx = self._joined()
        if tx is not None:
            tx._ensure_active()
            with self._errors(statement):
                yield tx.connection
            return
        conn = self._connect()
        try:
            if single:
                self._single_statement(conn)
            with self._errors(statement), conn.begin():
                yield conn
        finally:
            conn.close()

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def transaction(self, isolation_level: str | None = None, read_only: bool = False) -> Iterator[SqlaTransaction]:
        """Commit on success, roll back on an exception (which propagates unchanged).

        Inside an open transaction on this database (same thread/task) this is a savepoint.
        """
        self._precheck()
        outer = self._joined()
        if outer is not None:
            outer.check_nested(isolation_level, read_only)
            with outer.savepoint() as savepoint:
                yield savepoint
            return
        level = normalise_isolation_level(isolation_level)
        conn = self._connect()
        try:
            with self._errors(None, "transaction"):
                self._begin(conn, level, read_only)
            tx = SqlaTransaction(self, conn, read_only=read_only, isolation_level=level)
            token = self._enter_ambient(tx)
            try:
                yield tx
            except BaseException:
                tx._active = False
                self._leave_ambient(token)
                self._rollback_quietly(conn.rollback)
                raise
            tx._active = False
            self._leave_ambient(token)
            with self._errors(None, "transaction"):
                try:
                    conn.commit()
                except BaseException:
                    # The driver may keep its transaction open (sqlite3 after a deferred constraint
                    # fails at COMMIT) while SQLAlchemy believes it ended: never pool that connection.
                    self._rollback_quietly(conn.invalidate)
                    raise
        finally:
            try:
                if read_only and not conn.invalidated:
                    self._finish_read_only(conn)
            finally:
                conn.close()

    # -- health, sessions, lifecycle -----------------------------------------------------------

    def _probe(self) -> str | None:
        conn = self._connect()
        try:
            with self._errors(self.health_query):
                return self._probe_on(conn)
        finally:
            conn.close()

    def health_check(self, timeout: float = 5.0) -> HealthResult:
        """``SELECT 1`` under ``timeout`` (in a watchdog thread); never raises."""
        early = self._health_without_probe()
        if early is not None:
            return early
        started = time.perf_counter()
        try:
            version = run_with_timeout(self._probe, timeout)
        except Exception as exc:  # noqa: BLE001 - reported as UNHEALTHY, never raised
            return self._health_after_probe(started, time.perf_counter(), error=exc)
        return self._health_after_probe(started, time.perf_counter(), version)

    def server_version(self) -> str | None:
        """The server's version string (connecting once if the dialect has not yet)."""
        version = self._server_version_known()
        if version is None:
            self._check_open()
            self._connect().close()
            version = self._server_version_known()
        return version

    def session(self, **options: Any) -> Any:
        """A SQLAlchemy ORM ``Session``; inside an open transaction it runs on its connection."""
        from sqlalchemy.orm import Session

        return Session(**self._session_options(options))

    def close(self) -> None:
        """Dispose of the pool. Idempotent; the database cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        self._engine.dispose()
