"""Building engines from settings: driver choice, pool arguments, safe display.

Users write the plain scheme (``sqlite:///``, ``postgresql://``); each dialect plugin
names its sync and async drivers and :func:`resolve_url` picks the one for the side
being built, while an explicit ``scheme+driver://`` is kept (or swapped for its twin
when it names the other side's driver, so one settings entry serves both sides).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from sqlalchemy import create_engine, exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import QueuePool

from storeroom.errors import ConfigurationError
from storeroom.redaction import redact, register_secret, register_url_password

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from storeroom.config.models import PoolSettings

__all__ = [
    "QUEUE_POOL_OPTIONS",
    "build_async_engine",
    "build_engine",
    "display_url",
    "parse_url",
    "pool_options",
    "positive_seconds",
    "resolve_url",
    "settings_url",
]

#: ``create_engine`` arguments only a QueuePool accepts
QUEUE_POOL_OPTIONS = ("pool_size", "max_overflow", "pool_timeout", "pool_use_lifo")


def parse_url(url: str | URL) -> URL:
    """A SQLAlchemy URL; its password is registered for redaction at once.

    A URL that does not parse is never quoted, nor is SQLAlchemy's error chained: either may
    hold the password, or a piece of it when an unencoded ``@`` or ``:`` split it wrongly.
    """
    if isinstance(url, str):
        register_url_password(url)
    try:
        parsed = make_url(url)
    except ValueError:  # int() of the port
        problem = "the port is not a number (a password holding '@' or ':' must be percent-encoded)"
    except sa_exc.ArgumentError:
        problem = "expected scheme://user:password@host:port/database"
    else:
        if parsed.password:
            register_secret(str(parsed.password))
        return parsed
    raise ConfigurationError(f"invalid database url (not shown: it may hold a password): {problem}", key="url")


def display_url(url: URL) -> str:
    """The URL with its password replaced by ``***``: for reprs, messages and health details."""
    return redact(url.render_as_string(hide_password=True))


def resolve_url(url: str | URL, *, backend: str, driver: str, other_drivers: Collection[str] = ()) -> URL:
    """``backend://`` -> ``backend+driver://``; ``backend+<other side's driver>://`` -> ours.

    ``backend`` is the SQLAlchemy dialect name (``sqlite``, ``postgresql``); a URL for
    another dialect is a configuration error naming the expected scheme.
    """
    parsed = parse_url(url)
    name, _, given = parsed.drivername.partition("+")
    if name != backend:
        raise ConfigurationError(
            f"database url scheme {parsed.drivername!r} does not match this backend; expected {backend}://",
            key="url",
        )
    if not given or given in other_drivers:
        parsed = parsed.set(drivername=f"{backend}+{driver}")
    return parsed


def pool_options(pool: PoolSettings) -> dict[str, Any]:
    """``create_engine`` arguments for a QueuePool from :class:`PoolSettings`."""
    return {
        "pool_size": pool.size,
        "max_overflow": pool.max_overflow,
        "pool_timeout": pool.timeout,
        "pool_recycle": pool.recycle,
        "pool_pre_ping": pool.pre_ping,
        "pool_use_lifo": pool.lifo,
    }


def settings_url(settings: Any, backend: str) -> str | URL:
    """The URL a settings entry names: its ``url``, or one built from host/port/user/... parts.

    The password goes into the URL object, never into a string that could be shown.
    """
    url = getattr(settings, "url", None)
    if url:
        return str(url)
    host = getattr(settings, "host", None)
    if not host:
        raise ConfigurationError("missing 'url' (or 'host' with port, user, password, database)", key="url")
    password: Any = getattr(settings, "password", None)
    secret = password.get_secret_value() if isinstance(password, SecretStr) else password
    if secret:
        register_secret(str(secret))
    return URL.create(
        backend,
        username=getattr(settings, "user", None),
        password=secret,
        host=host,
        port=getattr(settings, "port", None),
        database=getattr(settings, "database", None),
        query=dict(getattr(settings, "options", None) or {}),
    )


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Final ``create_engine`` arguments: parameters never reach logs or error strings, and
    QueuePool-only arguments are dropped when another pool class was chosen explicitly."""
    out = {**options, "hide_parameters": True}
    poolclass = out.get("poolclass")
    if poolclass is not None and not (isinstance(poolclass, type) and issubclass(poolclass, QueuePool)):
        for key in QUEUE_POOL_OPTIONS:
            out.pop(key, None)
    return out


def _failed(url: URL, exc: Exception) -> ConfigurationError:
    hint = ""
    if isinstance(exc, (ImportError, sa_exc.NoSuchModuleError)):
        hint = "; is the driver installed?"
    return ConfigurationError(f"cannot create an engine for {display_url(url)}: {redact(exc)}{hint}", key="url")


def build_engine(url: URL, options: Mapping[str, Any]) -> Engine:
    try:
        return create_engine(url, **_options(options))
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError, TypeError) as exc:
        raise _failed(url, exc) from exc


def build_async_engine(url: URL, options: Mapping[str, Any]) -> AsyncEngine:
    from sqlalchemy.ext.asyncio import create_async_engine

    try:
        return create_async_engine(url, **_options(options))
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError, TypeError) as exc:
        raise _failed(url, exc) from exc


def positive_seconds(value: float | None, key: str) -> float | None:
    """A timeout argument given to a database class directly (settings are validated by pydantic)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"{key} must be a positive number of seconds, got {value!r}", key=key)
    return float(value)
