"""Settings for a ``backend = "postgres"`` entry."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from storeroom.config.models import ServerDatabaseSettings
from storeroom.redaction import register_secret

__all__ = ["PostgresSettings", "SSLMode"]

SSLMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

_SCHEMES = ("postgresql", "postgres")


class PostgresSettings(ServerDatabaseSettings):
    """``url`` (``postgresql://user:pw@host:5432/db``) or ``host``/``port``/``user``/``password``/
    ``database``/``options``; ``connect_timeout`` and ``statement_timeout`` in seconds;
    ``application_name`` (shown in ``pg_stat_activity``); TLS keys passed to libpq as given."""

    application_name: str | None = Field("storeroom", min_length=1, max_length=63)
    sslmode: SSLMode | None = None
    sslrootcert: str | None = None
    sslcert: str | None = None
    sslkey: str | None = None
    sslpassword: SecretStr | None = None
    sslcrl: str | None = None

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        scheme = value.split(":", 1)[0].lower()
        if scheme.split("+", 1)[0] not in _SCHEMES or "://" not in value:
            raise ValueError("expected a PostgreSQL URL such as postgresql://user:password@host:5432/dbname")
        return value

    @model_validator(mode="after")
    def _register_tls_secret(self) -> PostgresSettings:
        if self.sslpassword is not None:
            register_secret(self.sslpassword.get_secret_value())
        return self

    def tls(self) -> dict[str, str]:
        """The TLS options that are set, as libpq connection parameters."""
        out = {
            key: value
            for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl")
            if (value := getattr(self, key)) is not None
        }
        if self.sslpassword is not None:
            out["sslpassword"] = self.sslpassword.get_secret_value()
        return out
