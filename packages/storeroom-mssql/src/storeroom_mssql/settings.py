"""Settings for a ``backend = "mssql"`` entry."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from storeroom.config.models import ServerDatabaseSettings
from storeroom_mssql._odbc import parse_odbc, register_odbc_secrets

__all__ = ["DEFAULT_DRIVER", "MSSQLSettings"]

DEFAULT_DRIVER = "ODBC Driver 18 for SQL Server"
_SCHEMES = ("mssql", "mssql+pyodbc", "mssql+aioodbc")
_PART_KEYS = ("url", "host", "port", "user", "password", "database", "options", "driver")


class MSSQLSettings(ServerDatabaseSettings):
    """A SQL Server connection: ``url`` (``mssql://user:pass@host:1433/db``), or its parts,
    or a raw ODBC ``odbc_connect`` string; plus the ODBC ``driver`` name, TLS switches
    (``encrypt``, ``trust_server_certificate``), ``application_intent`` (``ReadOnly``
    routes to an Availability Group's readable secondary), ``connect_timeout`` (login
    timeout, seconds) and ``statement_timeout`` (query timeout, whole seconds, rounded up).
    """

    driver: str = Field(DEFAULT_DRIVER, min_length=1)
    encrypt: bool | None = None
    trust_server_certificate: bool | None = None
    application_intent: Literal["ReadWrite", "ReadOnly"] | None = None
    odbc_connect: SecretStr | None = None
    fast_executemany: bool = True

    @field_validator("url")
    @classmethod
    def _mssql_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        scheme = value.split(":", 1)[0].lower()
        if scheme not in _SCHEMES:
            raise ValueError("expected a SQL Server URL such as mssql://user:password@host:1433/database")
        return value

    @field_validator("driver")
    @classmethod
    def _driver_name(cls, value: str) -> str:
        if "{" in value or "}" in value or ";" in value:
            raise ValueError("give the driver's name without braces, e.g. 'ODBC Driver 18 for SQL Server'")
        return value

    @field_validator("odbc_connect")
    @classmethod
    def _odbc_string(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        raw = value.get_secret_value()
        register_odbc_secrets(raw)
        try:
            pairs = parse_odbc(raw)
        except Exception as exc:  # noqa: BLE001 - reported against the key, without the string
            raise ValueError(str(exc).removeprefix("odbc_connect: ")) from None
        if not pairs:
            raise ValueError("the ODBC connection string is empty")
        return value

    @model_validator(mode="after")
    def _url_or_parts(self) -> Self:  # replaces the core check: odbc_connect is a third way
        if self.odbc_connect is None:
            core_check: Any = super()._url_or_parts  # pydantic unwraps it to the plain method
            core_check()
            return self
        clash = [key for key in _PART_KEYS if key in self.model_fields_set and getattr(self, key)]
        if clash:
            raise ValueError(f"give either 'odbc_connect' or {', '.join(repr(k) for k in clash)}, not both")
        return self
