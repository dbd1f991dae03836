"""State and hooks shared by the sync and async SQLAlchemy databases.

Everything that does not await lives here once: URL and driver resolution, engine
options, error translation, pool figures, health details, the ambient-transaction
lookup, and the dialect hooks (read-only, isolation level, bulk insert), which take
a *sync* :class:`~sqlalchemy.engine.Connection` so the async side runs the very same
code through ``AsyncConnection.run_sync``. The exceptions are the row-reading and
bulk-insert hooks, which have an async twin (``_afetch_on``, ``_abulk_insert_on``) so
a dialect can await its native async driver directly instead of through ``run_sync``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import QueuePool

from storeroom.config.models import PoolSettings, validate_model
from storeroom.database import (
    AmbientTransaction,
    ambient_transaction,
    check_connection_allowed,
    current_owner,
    reset_ambient,
    set_ambient,
)
from storeroom.errors import ConfigurationError, DatabaseError, TransactionError
from storeroom.health import HealthResult, HealthStatus
from storeroom.logs import get_logger
from storeroom.pool import PoolInfo
from storeroom.redaction import redact
from storeroom.sqla.engine import display_url, parse_url, pool_options, resolve_url, settings_url
from storeroom.sqla.errors import ErrorTranslator, Phase, translating
from storeroom.sqla.health import exhausted_result, failed_result, probe_result
from storeroom.sqla.pool import CheckoutCounter, is_bounded, pool_info
from storeroom.sqla.statements import BULK_BATCH_SIZE, BulkInsert

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable

__all__ = ["SqlaBase", "normalise_isolation_level"]

logger = get_logger("storeroom.sqla")


def normalise_isolation_level(level: str | None) -> str | None:
    """``"read_committed"`` -> ``"READ COMMITTED"`` (SQLAlchemy's spelling); None stays None."""
    if level is None:
        return None
    if not isinstance(level, str) or not level.strip():
        raise TransactionError(f"isolation_level must be a non-empty string, got {level!r}")
    return " ".join(level.replace("_", " ").upper().split())


def _format_version(info: tuple[Any, ...] | None) -> str | None:
    if not info:
        return None
    return ".".join(str(part) for part in info)


class SqlaBase:
    """Common base of :class:`SqlaDatabase` and :class:`AsyncSqlaDatabase`.

    Dialect plugins set ``dialect_name`` (SQLAlchemy's, e.g. ``"postgresql"``) and
    ``sync_driver`` / ``async_driver``, and may override the ``_engine_options``,
    ``_configure_engine``, ``_begin_read_only``, ``_end_read_only``, ``_fetch_on`` /
    ``_afetch_on``, ``_bulk_insert_on`` / ``_abulk_insert_on`` and ``_insert_batches``
    hooks and ``error_translator``.
    """

    #: SQLAlchemy dialect name; None accepts any URL as given (no driver resolution)
    dialect_name: ClassVar[str | None] = None
    sync_driver: ClassVar[str | None] = None
    async_driver: ClassVar[str | None] = None
    #: other drivers known for each side (an explicit URL naming one is swapped for ours)
    extra_sync_drivers: ClassVar[tuple[str, ...]] = ()
    extra_async_drivers: ClassVar[tuple[str, ...]] = ()
    error_translator: ClassVar[ErrorTranslator] = ErrorTranslator()
    health_query: ClassVar[str] = "SELECT 1"
    bulk_batch_size: ClassVar[int] = BULK_BATCH_SIZE
    _is_async: ClassVar[bool] = False

    name: str
    _engine: Any

    def __init__(
        self,
        url: str | URL,
        *,
        name: str = "default",
        pool: PoolSettings | None = None,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"database name must be a non-empty string, got {name!r}")
        self.name = name
        self._pool_settings = pool if pool is not None else PoolSettings()
        self._url = self._resolve_url(url)
        self._display_url = display_url(self._url)
        options = {**self._engine_options(self._url), **(engine_options or {})}
        self._engine = self._create_engine(self._url, options)
        sync_engine = self._sync_engine
        self._configure_engine(sync_engine)
        self._counter = None if isinstance(sync_engine.pool, QueuePool) else CheckoutCounter(sync_engine)
        self._closed = False

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        """Build from a validated settings entry: its ``url`` (or host/port/... parts) and ``pool``.

        Dialects override this to pass their own keys (timeouts, journal mode ...).
        """
        return cls(settings_url(settings, cls.dialect_name or ""), name=name, pool=getattr(settings, "pool", None))

    @classmethod
    def _own_settings(cls, name: str, settings: Any) -> Any:
        """``settings`` as this class's ``settings_model`` (validated, errors naming the key).

        Room passes entries already validated against it; a direct call may pass a mapping
        or another model.
        """
        model = getattr(cls, "settings_model", None)
        if model is None or isinstance(settings, model):
            return settings
        raw = settings.model_dump() if hasattr(settings, "model_dump") else dict(settings)
        return validate_model(model, raw, f"databases.{name}")

    # -- construction hooks -----------------------------------------------------------------

    def _resolve_url(self, url: str | URL) -> URL:
        if self.dialect_name is None:
            return parse_url(url)
        sync_side = (self.sync_driver, *self.extra_sync_drivers)
        async_side = (self.async_driver, *self.extra_async_drivers)
        driver = self.async_driver if self._is_async else self.sync_driver
        other = sync_side if self._is_async else async_side
        if driver is None:
            raise ConfigurationError(f"{type(self).__name__} names no {'async' if self._is_async else 'sync'} driver")
        return resolve_url(url, backend=self.dialect_name, driver=driver, other_drivers=[d for d in other if d])

    def _engine_options(self, url: URL) -> dict[str, Any]:
        """``create_engine`` arguments: pool settings by default; dialects add connect_args etc."""
        return pool_options(self._pool_settings)

    def _create_engine(self, url: URL, options: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def _configure_engine(self, engine: Engine) -> None:
        """Dialect hook: register per-connection events on the (sync) engine."""

    @property
    def _sync_engine(self) -> Engine:
        engine = self._engine
        return engine.sync_engine if self._is_async else engine  # type: ignore[no-any-return]

    # -- public facts -------------------------------------------------------------------------

    @property
    def engine(self) -> Any:
        """The SQLAlchemy ``Engine`` (``AsyncEngine`` on the async side)."""
        return self._engine

    @property
    def url(self) -> URL:
        """The resolved URL (SQLAlchemy masks its password in ``str``/``repr``)."""
        return self._url

    @property
    def closed(self) -> bool:
        return self._closed

    def pool_info(self) -> PoolInfo:
        return pool_info(self._sync_engine.pool, self._counter, max_overflow=self._pool_settings.max_overflow)

    @property
    def _bounded_pool(self) -> bool:
        return is_bounded(self._sync_engine.pool)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} url={self._display_url!r}>"

    __str__ = __repr__

    # -- shared plumbing ----------------------------------------------------------------------

    def _errors(self, statement: str | None = None, phase: Phase = "query") -> translating:
        return translating(self.error_translator, self.name, statement, phase, self._display_url)

    def _check_open(self) -> None:
        if self._closed:
            raise DatabaseError(f"database {self.name!r} is closed")

    def _precheck(self) -> None:
        """Run first by every top-level call: open, and allowed inside the ambient transaction."""
        self._check_open()
        check_connection_allowed(self.name)

    def _joined(self) -> Any:
        """The open transaction on this database owned by the current task/thread, if any.

        The caller has already run ``check_connection_allowed`` (a different name raises).
        A transaction on the same name opened through another object (the sync twin, a
        second Storeroom) cannot be joined: its connection is not ours to use.
        """
        ambient = ambient_transaction()
        if ambient is None or ambient.database != self.name:
            return None
        tx = ambient.transaction
        if getattr(tx, "database", None) is self:
            return tx
        raise TransactionError(
            f"a transaction on database {self.name!r} is open through another interface "
            f"({type(getattr(tx, 'database', tx)).__name__}); use that object inside the transaction"
        )

    def _enter_ambient(self, tx: Any) -> Any:
        """Make ``tx`` the transaction later calls in this thread/task join; a reset token."""
        return set_ambient(AmbientTransaction(self.name, current_owner(), tx))

    @staticmethod
    def _leave_ambient(token: Any) -> None:
        try:
            reset_ambient(token)
        except ValueError:  # left in another context (a generator finalised elsewhere)
            set_ambient(None)

    def _session_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Arguments for ``Session``/``AsyncSession``: the open transaction's connection, if any.

        Inside a transaction the session's commits become savepoint releases, so the
        outer transaction still decides.
        """
        self._precheck()
        tx = self._joined()
        if tx is not None:
            return {"bind": tx.connection, "join_transaction_mode": "create_savepoint", **options}
        return {"bind": self._engine, **options}

    def _health_details(self) -> dict[str, Any]:
        dialect = self._sync_engine.dialect
        return {
            "backend": getattr(self, "PLUGIN_NAME", dialect.name),
            "driver": f"{dialect.name}+{dialect.driver}",
            "url": self._display_url,
            "server_version": _format_version(dialect.server_version_info),
        }

    @property
    def _component(self) -> str:
        return f"databases.{self.name}"

    def _health_without_probe(self) -> HealthResult | None:
        """The verdict when probing is pointless: closed, or every pooled connection busy."""
        if self._closed:
            return HealthResult(
                self._component,
                HealthStatus.UNHEALTHY,
                f"database {self.name!r} is closed",
                details=self._health_details(),
            )
        info = self.pool_info()
        if self._bounded_pool and info.available == 0:
            return exhausted_result(self._component, info, self._health_details())
        return None

    def _health_after_probe(
        self, started: float, now: float, version: str | None = None, error: BaseException | None = None
    ) -> HealthResult:
        latency_ms = (now - started) * 1000
        details = self._health_details()
        if error is not None:
            return failed_result(self._component, error, latency_ms, self.pool_info(), details)
        details["server_version"] = version
        return probe_result(self._component, latency_ms, self.pool_info(), bounded=self._bounded_pool, details=details)

    def _server_version_known(self) -> str | None:
        return _format_version(self._sync_engine.dialect.server_version_info)

    def _probe_on(self, conn: Connection) -> str | None:
        """The health probe proper, run on a sync connection (the async side via run_sync)."""
        conn.execute(sa.text(self.health_query)).scalar()
        return self._server_version_known()

    # -- transaction hooks (sync connections; async runs them via run_sync) -------------------

    def _single_statement(self, conn: Connection) -> None:
        """Hook: ``conn`` will run exactly one statement in its own short transaction.

        Dialects whose driver autocommits a lone statement atomically anyway may skip
        an explicit BEGIN here (sqlite does). Never called for a joined transaction.
        """

    def _begin(self, conn: Connection, isolation_level: str | None, read_only: bool) -> None:
        if isolation_level is not None:
            self._apply_isolation_level(conn, isolation_level)
        conn.begin()
        if read_only:
            self._begin_read_only(conn)

    def _apply_isolation_level(self, conn: Connection, level: str) -> None:
        try:
            conn.execution_options(isolation_level=level)
        except sa_exc.ArgumentError as exc:
            dialect = conn.dialect
            dbapi_connection = conn.connection.dbapi_connection
            try:
                valid = sorted(dialect.get_isolation_level_values(dbapi_connection)) if dbapi_connection else []
            except (NotImplementedError, AttributeError, sa_exc.SQLAlchemyError):
                valid = []
            shown = ", ".join(valid) if valid else "see the dialect's documentation"
            raise TransactionError(
                f"isolation level {level!r} is not supported by {dialect.name}; valid levels: {shown}"
            ) from exc

    def _begin_read_only(self, conn: Connection) -> None:
        """Make the just-begun transaction read-only. Generic SQL; dialects override."""
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    def _end_read_only(self, conn: Connection) -> None:
        """Undo :meth:`_begin_read_only` before the connection goes back to the pool.

        The generic statement only lasts one transaction, so there is nothing to undo.
        """

    def _finish_read_only(self, conn: Connection) -> None:
        """Run :meth:`_end_read_only`; a connection that cannot be reset is discarded."""
        try:
            self._end_read_only(conn)
        except Exception as exc:  # noqa: BLE001 - never hand a read-only connection to the next caller
            logger.warning(
                "database %r: resetting read-only mode failed (%s); discarding the connection",
                self.name,
                redact(type(exc).__name__),
            )
            conn.invalidate()

    # -- row reading and bulk insert hooks ------------------------------------------------------

    def _fetch_on(
        self, conn: Connection, clause: Executable, params: Mapping[str, Any], one: bool
    ) -> tuple[Sequence[str], Sequence[Sequence[Any]]]:
        """Run a row-returning statement: its column names and its rows (only the first if ``one``).

        Used by ``fetch_all``/``fetch_one``/``fetch_value`` on databases and transactions
        alike, inside the caller's error translation. Rows may be any sequences (they are
        zipped with the keys into dicts by the caller). A dialect may override this to read
        through the raw driver cursor and skip SQLAlchemy's result machinery; it must then
        raise driver errors as SQLAlchemy ``DBAPIError``s (see ``DBAPIError.instance``) so
        they are translated, and a statement without rows must fail as a QueryError.
        """
        result = conn.execute(clause, params)
        keys = tuple(result.keys())
        if not one:
            return keys, result.fetchall()
        row = result.first()
        return keys, () if row is None else (row,)

    async def _afetch_on(
        self, conn: AsyncConnection, clause: Executable, params: Mapping[str, Any], one: bool
    ) -> tuple[Sequence[str], Sequence[Sequence[Any]]]:
        """Async twin of :meth:`_fetch_on`, awaited directly (not through ``run_sync``)."""
        result = await conn.execute(clause, params)
        keys = tuple(result.keys())
        if not one:
            return keys, result.fetchall()
        row = result.first()
        return keys, () if row is None else (row,)

    def _bulk_insert_on(self, conn: Connection, plan: BulkInsert, rows: Iterator[Mapping[str, Any]]) -> int:
        """Insert ``rows`` (first row already checked by ``plan.start``); the number inserted.

        The generic path batches parameter dicts into :meth:`_insert_batches`. A dialect
        with a native bulk path (COPY) overrides this and reads values with ``plan.tuples``.
        """
        return self._insert_batches(conn, plan, plan.batches(rows))

    async def _abulk_insert_on(self, conn: AsyncConnection, plan: BulkInsert, rows: Iterator[Mapping[str, Any]]) -> int:
        """Async twin of :meth:`_bulk_insert_on`; by default the sync hook through ``run_sync``."""
        return int(await conn.run_sync(self._bulk_insert_on, plan, rows))

    def _insert_batches(self, conn: Connection, plan: BulkInsert, batches: Iterable[list[dict[str, Any]]]) -> int:
        """Generic bulk insert: one executemany per batch. Dialects override with native paths."""
        statement = None
        total = 0
        for batch in batches:
            if statement is None:
                statement = plan.statement()
            conn.execute(statement, batch)
            total += len(batch)
        return total

    def _rollback_quietly(self, rollback: Any) -> None:
        """Roll back while another exception propagates: a failure here must not mask it."""
        try:
            rollback()
        except Exception as exc:  # noqa: BLE001
            self._log_rollback_failure(exc)

    def _log_rollback_failure(self, exc: BaseException) -> None:
        logger.warning("database %r: rollback failed: %s", self.name, redact(f"{type(exc).__name__}: {exc}"))
