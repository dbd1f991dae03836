"""Which SQLAlchemy URL each side uses: ``mysql://`` / ``mariadb://`` plus our driver.

``mariadb://`` keeps SQLAlchemy's MariaDB dialect (it insists the server is MariaDB);
``mysql://`` serves both servers and detects which one it reached.
"""

from __future__ import annotations

from sqlalchemy.engine import URL

from storeroom.errors import ConfigurationError
from storeroom.sqla.engine import parse_url, resolve_url

__all__ = ["ASYNC_DRIVER", "ASYNC_DRIVERS", "SCHEMES", "SYNC_DRIVER", "SYNC_DRIVERS", "resolve_mysql_url"]

SCHEMES = ("mysql", "mariadb")
SYNC_DRIVER = "pymysql"
ASYNC_DRIVER = "asyncmy"
#: drivers SQLAlchemy knows for each side; naming one of the other side's is swapped for ours,
#: so one settings entry serves both the sync and the async database
SYNC_DRIVERS = (SYNC_DRIVER, "mysqldb", "mysqlconnector", "mariadbconnector", "cymysql")
ASYNC_DRIVERS = (ASYNC_DRIVER, "aiomysql")


def resolve_mysql_url(url: str | URL, *, is_async: bool) -> URL:
    """``mysql://`` -> ``mysql+pymysql://`` (sync) / ``mysql+asyncmy://`` (async), same for mariadb."""
    parsed = parse_url(url)
    scheme = parsed.drivername.partition("+")[0]
    if scheme not in SCHEMES:
        raise ConfigurationError(
            f"database url scheme {parsed.drivername!r} does not match this backend; expected mysql:// or mariadb://",
            key="url",
        )
    driver, others = (ASYNC_DRIVER, SYNC_DRIVERS) if is_async else (SYNC_DRIVER, ASYNC_DRIVERS)
    return resolve_url(parsed, backend=scheme, driver=driver, other_drivers=others)
