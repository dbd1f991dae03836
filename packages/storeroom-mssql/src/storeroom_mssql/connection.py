"""From settings to a SQLAlchemy URL for ``mssql+pyodbc`` / ``mssql+aioodbc``.

Every ODBC attribute (``Encrypt``, ``TrustServerCertificate``, ``ApplicationIntent``)
travels in the URL's query, which SQLAlchemy's pyodbc connector appends to the
connection string; a raw ``odbc_connect`` string is passed through unchanged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL

from storeroom.errors import ConfigurationError
from storeroom.redaction import redact
from storeroom.sqla.engine import display_url as core_display_url, parse_url, settings_url
from storeroom_mssql._odbc import mask_odbc, register_odbc_secrets
from storeroom_mssql.settings import DEFAULT_DRIVER, MSSQLSettings

__all__ = ["display_url", "settings_to_url", "with_driver"]


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _has_key(query: Any, name: str) -> str | None:
    lowered = name.lower()
    return next((key for key in query if key.lower() == lowered), None)


def with_driver(url: URL, driver: str = DEFAULT_DRIVER) -> URL:
    """Add ``driver=`` unless the URL names one, a DSN, or a raw ``odbc_connect`` string.

    Without a database and a DSN, SQLAlchemy would read the host as a DSN name.
    """
    query = dict(url.query)
    raw = query.get("odbc_connect")
    if raw is not None:
        register_odbc_secrets(str(raw))
        return url
    if _has_key(query, "dsn") is not None:
        return url
    if url.host and not url.database:
        raise ConfigurationError(
            f"database url {core_display_url(url)!r} names no database; add one, e.g. mssql://user@host:1433/master",
            key="url",
        )
    if _has_key(query, "driver") is None:
        query["driver"] = driver
    return url.set(query=query)


def settings_to_url(settings: MSSQLSettings) -> URL:
    """The ``mssql://`` URL (driver resolved later) for a validated settings entry."""
    if settings.odbc_connect is not None:
        return URL.create("mssql", query={"odbc_connect": settings.odbc_connect.get_secret_value()})
    url = parse_url(settings_url(settings, "mssql"))
    query = dict(url.query)
    extra = {
        "Encrypt": None if settings.encrypt is None else _yes_no(settings.encrypt),
        "TrustServerCertificate": (
            None if settings.trust_server_certificate is None else _yes_no(settings.trust_server_certificate)
        ),
        "ApplicationIntent": settings.application_intent,
    }
    for name, value in extra.items():
        if value is None:
            continue
        given = _has_key(query, name)
        if given is not None and str(query[given]).lower() != value.lower():
            raise ConfigurationError(
                f"'{name}' is given twice, differently: in the url/options ({query[given]}) and as a setting ({value})",
                key="url",
            )
        query[given or name] = value
    given_driver = _has_key(query, "driver")
    if given_driver is not None and "driver" in settings.model_fields_set and query[given_driver] != settings.driver:
        raise ConfigurationError(
            f"the ODBC driver is given twice, differently: in the url ({query[given_driver]!r}) "
            f"and as 'driver' ({settings.driver!r})",
            key="driver",
        )
    return with_driver(url.set(query=query), settings.driver)


def display_url(url: URL) -> str:
    """Like core's, with the secrets inside a raw ``odbc_connect`` string masked as well."""
    raw = url.query.get("odbc_connect")
    if raw is None:
        return core_display_url(url)
    # shown unencoded: readable, and nothing secret is left in it
    return redact(f"{url.drivername}://?odbc_connect={mask_odbc(str(raw))}")
