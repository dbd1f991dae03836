"""Settings for a ``backend = "mysql"`` entry (MySQL and MariaDB alike)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storeroom.config.models import ServerDatabaseSettings, Size

__all__ = ["DEFAULT_BULK_MAX_BYTES", "MySQLSettings", "MySQLSslSettings", "check_mysql_scheme"]

#: bytes of SQL per multi-row INSERT: PyMySQL's own executemany cap, far below any
#: server's max_allowed_packet (4 MiB on old MySQL, 16 MiB on MariaDB, 64 MiB on MySQL 8)
DEFAULT_BULK_MAX_BYTES = 1024 * 1024

_SCHEMES = ("mysql", "mariadb")


def check_mysql_scheme(url: str) -> str:
    """``mysql://``, ``mariadb://`` or either with a ``+driver``; anything else is a ValueError."""
    scheme = url.split(":", 1)[0].lower()
    if scheme.partition("+")[0] not in _SCHEMES:
        raise ValueError("expected a mysql:// or mariadb:// URL, e.g. mysql://user@127.0.0.1:3306/app")
    return url


class MySQLSslSettings(BaseModel):
    """TLS to the server. Present (even empty) means TLS is *required*: a server that does
    not offer it is refused rather than silently talked to in clear text."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    #: check the server's certificate chain against ``ca`` (or the system store)
    verify: bool = True
    #: check that the certificate names the host connected to (default: same as ``verify``)
    verify_hostname: bool | None = None


class MySQLSettings(ServerDatabaseSettings):
    """``url`` or host/port/user/password/database/options, plus:

    ``connect_timeout`` (seconds), ``statement_timeout`` (seconds; MariaDB's
    ``max_statement_time``, MySQL's ``max_execution_time`` which bounds SELECTs only),
    ``charset`` (default ``utf8mb4``), ``ssl`` (see :class:`MySQLSslSettings`) and
    ``bulk_max_bytes`` (SQL bytes per multi-row INSERT).
    """

    charset: str = Field("utf8mb4", min_length=1, pattern=r"^[A-Za-z0-9_]+$")
    ssl: MySQLSslSettings | None = None
    bulk_max_bytes: Size = Field(DEFAULT_BULK_MAX_BYTES, ge=4096, le=64 * 1024 * 1024)

    @field_validator("url")
    @classmethod
    def _mysql_url(cls, value: str | None) -> str | None:
        return None if value is None else check_mysql_scheme(value)
