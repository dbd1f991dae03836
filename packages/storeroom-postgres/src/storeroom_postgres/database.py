"""PostgreSQL databases on psycopg 3, sync and async, on the shared SQLAlchemy core.

Both sides use SQLAlchemy's ``postgresql+psycopg`` dialect (``create_async_engine``
picks its asyncio variant). On top of the shared implementation this adds:

- connection settings applied when each connection starts (no extra round trip):
  ``connect_timeout``, ``statement_timeout`` (as ``-c statement_timeout=...`` startup
  options), ``application_name`` and the TLS options;
- native paths: ``fetch_all``/``fetch_one``/``fetch_value`` read through psycopg's raw
  cursor (:mod:`storeroom_postgres._native`), ``bulk_insert`` is a COPY
  (:mod:`storeroom_postgres._copy`); ``stream`` uses SQLAlchemy's server-side (named)
  cursors on both sides;
- SQLSTATE-based error translation (:mod:`storeroom_postgres._errors`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from sqlalchemy.engine import URL, Connection

from storeroom.config.models import PoolSettings
from storeroom.errors import ConfigurationError
from storeroom.sqla import AsyncSqlaDatabase, SqlaBase, SqlaDatabase
from storeroom.sqla.engine import parse_url, pool_options, positive_seconds, settings_url
from storeroom.sqla.statements import statement_text
from storeroom_postgres import _copy, _native
from storeroom_postgres._errors import PostgresErrorTranslator
from storeroom_postgres.settings import PostgresSettings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable

    from storeroom.sqla.statements import BulkInsert

__all__ = ["PLUGIN_NAME", "AsyncPostgresDatabase", "PostgresDatabase"]

PLUGIN_NAME = "postgres"
_NATIVE_DRIVER = "psycopg"
_TLS_KEYS = frozenset({"sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslcrl"})


class _Postgres(SqlaBase):
    """What the sync and async PostgreSQL databases share."""

    PLUGIN_NAME: ClassVar[str] = PLUGIN_NAME
    settings_model: ClassVar[type[Any] | None] = PostgresSettings
    transactional_ddl: ClassVar[bool] = True
    dialect_name = "postgresql"
    url_schemes: ClassVar[tuple[str, ...]] = ("postgresql", "postgres")  # a url alone selects this backend
    sync_driver = _NATIVE_DRIVER
    async_driver = _NATIVE_DRIVER
    extra_sync_drivers = ("psycopg2", "pg8000")
    extra_async_drivers = ("asyncpg",)
    error_translator = PostgresErrorTranslator()

    _native: bool = False

    def __init__(
        self,
        url: str | URL,
        *,
        name: str = "default",
        pool: PoolSettings | None = None,
        connect_timeout: float | None = 10.0,
        statement_timeout: float | None = None,
        application_name: str | None = "storeroom",
        tls: Mapping[str, str] | None = None,
        native: bool = True,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.connect_timeout = positive_seconds(connect_timeout, "connect_timeout")
        self.statement_timeout = positive_seconds(statement_timeout, "statement_timeout")
        if application_name is not None and (not isinstance(application_name, str) or not application_name):
            raise ConfigurationError("application_name must be a non-empty string", key="application_name")
        self.application_name = application_name
        unknown = sorted(set(tls or ()) - _TLS_KEYS)
        if unknown:
            raise ConfigurationError(
                f"unknown TLS option(s) {', '.join(unknown)}; expected {', '.join(sorted(_TLS_KEYS))}", key=unknown[0]
            )
        self._tls = dict(tls or {})
        super().__init__(url, name=name, pool=pool, engine_options=engine_options)
        # the native paths speak psycopg 3; another driver named explicitly keeps the generic ones
        self._native = bool(native) and self._sync_engine.dialect.driver == _NATIVE_DRIVER

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        settings = cls._own_settings(name, settings)
        return cls(
            settings_url(settings, "postgresql"),
            name=name,
            pool=settings.pool,
            connect_timeout=settings.connect_timeout,
            statement_timeout=settings.statement_timeout,
            application_name=settings.application_name,
            tls=settings.tls(),
        )

    @property
    def native(self) -> bool:
        """Whether reads and bulk inserts take the psycopg-native paths."""
        return self._native

    # -- construction hooks -----------------------------------------------------------------

    def _resolve_url(self, url: str | URL) -> URL:
        parsed = parse_url(url)
        scheme, plus, driver = parsed.drivername.partition("+")
        if scheme == "postgres":  # the libpq / Heroku spelling SQLAlchemy no longer accepts
            parsed = parsed.set(drivername=f"postgresql{plus}{driver}")
        return super()._resolve_url(parsed)

    def _connect_args(self, url: URL) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.connect_timeout is not None:
            args["connect_timeout"] = max(1, math.ceil(self.connect_timeout))  # libpq takes whole seconds
        if self.application_name and "application_name" not in url.query:
            args["application_name"] = self.application_name
        if self.statement_timeout is not None:
            given = url.query.get("options") or ""
            given = " ".join(given) if isinstance(given, tuple) else given
            milliseconds = max(1, round(self.statement_timeout * 1000))
            args["options"] = f"{given} -c statement_timeout={milliseconds}".strip()
        args.update(self._tls)
        return args

    def _engine_options(self, url: URL) -> dict[str, Any]:
        return {**pool_options(self._pool_settings), "connect_args": self._connect_args(url)}

    # -- native paths ---------------------------------------------------------------------------

    def _driver_sql(self, conn: Connection | AsyncConnection, clause: Executable) -> str | None:
        return _native.driver_sql(clause, conn.dialect) if self._native else None

    def _fetch_on(
        self, conn: Connection, clause: Executable, params: Mapping[str, Any], one: bool
    ) -> tuple[Sequence[str], Sequence[Sequence[Any]]]:
        sql = self._driver_sql(conn, clause)
        if sql is None:
            return super()._fetch_on(conn, clause, params, one)
        return _native.fetch(conn, sql, params, one, statement_text(clause))

    async def _afetch_on(
        self, conn: AsyncConnection, clause: Executable, params: Mapping[str, Any], one: bool
    ) -> tuple[Sequence[str], Sequence[Sequence[Any]]]:
        sql = self._driver_sql(conn, clause)
        if sql is None:
            return await super()._afetch_on(conn, clause, params, one)
        return await _native.afetch(conn, sql, params, one, statement_text(clause))

    def _bulk_insert_on(self, conn: Connection, plan: BulkInsert, rows: Iterator[Mapping[str, Any]]) -> int:
        if not self._native:
            return super()._bulk_insert_on(conn, plan, rows)
        return _copy.copy_in(conn, plan, rows, self._insert_batches)

    async def _abulk_insert_on(self, conn: AsyncConnection, plan: BulkInsert, rows: Iterator[Mapping[str, Any]]) -> int:
        if not self._native:
            return await super()._abulk_insert_on(conn, plan, rows)
        return await _copy.acopy_in(conn, plan, rows, self._insert_batches)


class PostgresDatabase(_Postgres, SqlaDatabase):
    """Sync PostgreSQL (psycopg 3). ``PostgresDatabase("postgresql://app@db/app", name="main")``."""


class AsyncPostgresDatabase(_Postgres, AsyncSqlaDatabase):
    """Async PostgreSQL (psycopg 3's ``AsyncConnection``)."""
