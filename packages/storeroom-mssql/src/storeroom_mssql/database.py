"""SQL Server databases: pyodbc (sync) and aioodbc (async) on the shared SQLAlchemy core.

Per connection: the login timeout goes to ``pyodbc.connect(timeout=...)`` and the
statement timeout to the pyodbc connection's ``timeout`` attribute (SQL_ATTR_QUERY_TIMEOUT,
whole seconds). ``executemany`` uses ``fast_executemany`` with a true row count (see
:mod:`storeroom_mssql._executemany`); ``stream`` reads the TDS result with
``fetchmany`` batches (pyodbc has no server-side cursors; SQL Server sends rows as
the client reads them). Read-only transactions are guarded client side (see
:mod:`storeroom_mssql._read_only`). DDL is transactional on SQL Server.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine

from storeroom.config.models import PoolSettings
from storeroom.errors import ConfigurationError
from storeroom.sqla import AsyncSqlaDatabase, SqlaBase, SqlaDatabase
from storeroom.sqla.engine import pool_options
from storeroom_mssql._errors import MSSQLErrorTranslator
from storeroom_mssql._executemany import install_executemany
from storeroom_mssql._fetch import install_fetch_batches
from storeroom_mssql._read_only import READ_ONLY_OPTION, install_read_only_guard
from storeroom_mssql.connection import display_url, settings_to_url, with_driver
from storeroom_mssql.settings import DEFAULT_DRIVER, MSSQLSettings

__all__ = ["HEALTH_QUERY", "PLUGIN_NAME", "AsyncMSSQLDatabase", "MSSQLDatabase", "pyodbc_connection"]

PLUGIN_NAME = "mssql"
DRIVERS = ("pyodbc", "aioodbc")

#: one round trip: liveness plus the facts health details report
HEALTH_QUERY = (
    "SELECT 1 AS ok, "
    "CAST(SERVERPROPERTY('ProductVersion') AS NVARCHAR(128)) AS product_version, "
    "CAST(SERVERPROPERTY('Edition') AS NVARCHAR(128)) AS edition, "
    "@@VERSION AS version_banner"
)


def pyodbc_connection(dbapi_connection: Any) -> Any:
    """The pyodbc connection under a pool's DBAPI connection (SQLAlchemy's aioodbc adapter
    wraps an aioodbc connection, which wraps pyodbc's)."""
    inner = getattr(dbapi_connection, "_connection", None)  # SQLAlchemy's async adapter
    if inner is None:
        return dbapi_connection
    return getattr(inner, "_conn", inner)  # aioodbc.Connection._conn


def _seconds(value: float | None, key: str) -> int | None:
    """pyodbc takes whole seconds; 0 would mean "no limit", so round up."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigurationError(f"{key} must be a positive number of seconds, got {value!r}", key=key)
    return max(1, math.ceil(value))


class _MSSQL(SqlaBase):
    """What the sync and async SQL Server databases share."""

    PLUGIN_NAME: ClassVar[str] = PLUGIN_NAME
    settings_model: ClassVar[type[Any] | None] = MSSQLSettings
    transactional_ddl: ClassVar[bool] = True
    dialect_name = "mssql"
    sync_driver = "pyodbc"
    async_driver = "aioodbc"
    error_translator = MSSQLErrorTranslator()
    health_query = HEALTH_QUERY

    def __init__(
        self,
        url: str | URL,
        *,
        name: str = "default",
        pool: PoolSettings | None = None,
        driver: str = DEFAULT_DRIVER,
        connect_timeout: float | None = 10.0,
        statement_timeout: float | None = None,
        fast_executemany: bool = True,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(driver, str) or not driver.strip() or any(c in driver for c in "{};"):
            raise ConfigurationError(f"driver must be an ODBC driver name, got {driver!r}", key="driver")
        self.driver = driver
        self.login_timeout = _seconds(connect_timeout, "connect_timeout")
        self.query_timeout = _seconds(statement_timeout, "statement_timeout")
        self.fast_executemany = bool(fast_executemany)
        self._server_facts: dict[str, str] = {}
        super().__init__(url, name=name, pool=pool, engine_options=engine_options)
        self._display_url = display_url(self._url)

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        settings = cls._own_settings(name, settings)
        return cls(
            settings_to_url(settings),
            name=name,
            pool=settings.pool,
            driver=settings.driver,
            connect_timeout=settings.connect_timeout,
            statement_timeout=settings.statement_timeout,
            fast_executemany=settings.fast_executemany,
        )

    # -- construction hooks ---------------------------------------------------------------------

    def _resolve_url(self, url: str | URL) -> URL:
        resolved = super()._resolve_url(url)
        driver = resolved.drivername.partition("+")[2]
        if driver not in DRIVERS:
            raise ConfigurationError(
                f"database url names driver {driver!r}; storeroom-mssql runs on pyodbc (sync) and aioodbc "
                "(async): write mssql://",
                key="url",
            )
        return with_driver(resolved, self.driver)

    def _engine_options(self, url: URL) -> dict[str, Any]:
        options = {**pool_options(self._pool_settings), "fast_executemany": self.fast_executemany}
        if self.login_timeout is not None:
            options["connect_args"] = {"timeout": self.login_timeout}
        return options

    def _configure_engine(self, engine: Engine) -> None:
        query_timeout = self.query_timeout

        if query_timeout is not None:

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                pyodbc_connection(dbapi_connection).timeout = query_timeout

        install_executemany(engine, self.fast_executemany)
        install_read_only_guard(engine, self.name)
        install_fetch_batches(engine)

    # -- dialect hooks --------------------------------------------------------------------------

    def _begin_read_only(self, conn: Connection) -> None:
        conn.execution_options(**{READ_ONLY_OPTION: True})

    def _end_read_only(self, conn: Connection) -> None:
        conn.execution_options(**{READ_ONLY_OPTION: False})

    def _probe_on(self, conn: Connection) -> str | None:
        row = conn.execute(sa.text(self.health_query)).one()
        version, edition, banner = row[1], row[2], row[3]
        facts = {"product_version": version, "edition": edition, "version_banner": _first_line(banner)}
        self._server_facts = {key: str(value) for key, value in facts.items() if value}
        return str(version) if version else self._server_version_known()

    def _health_details(self) -> dict[str, Any]:
        return {**super()._health_details(), **self._server_facts}

    @property
    def server_facts(self) -> dict[str, str]:
        """ProductVersion, Edition and the first line of ``@@VERSION`` from the last health probe."""
        return dict(self._server_facts)


def _first_line(value: Any) -> str | None:
    return str(value).strip().splitlines()[0] if value else None


class MSSQLDatabase(_MSSQL, SqlaDatabase):
    """Sync SQL Server (pyodbc). ``MSSQLDatabase("mssql://app:secret@db:1433/app", name="main")``."""


class AsyncMSSQLDatabase(_MSSQL, AsyncSqlaDatabase):
    """Async SQL Server (aioodbc)."""
