"""Session fixtures for the real servers; see ``_services.py`` for how each one is found.

A test asks for ``postgres_url``, ``mariadb_url``, ``mssql_url``, ``s3_endpoint``,
``s3rver_endpoint`` or ``azurite_url`` and gets a URL, or is skipped (``pytest.fail`` instead when ``CI=true``).
Every test in this directory is marked ``integration``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from _services import SERVICES, provide

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def service_stack() -> Iterator[contextlib.ExitStack]:
    """Tears down whatever a starter brought up (containers, local server processes)."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def service_url(service_stack: contextlib.ExitStack) -> Callable[[str], str]:
    """``service_url("postgres")`` -> URL; resolves each service once per session."""
    found: dict[str, str] = {}

    def get(name: str) -> str:
        if name not in found:
            found[name] = provide(SERVICES[name], service_stack)
        return found[name]

    return get


@pytest.fixture(scope="session")
def postgres_url(service_url: Callable[[str], str]) -> str:
    """``postgresql://...`` of a PostgreSQL server with a database the tests may use freely."""
    return service_url("postgres")


@pytest.fixture(scope="session")
def mariadb_url(service_url: Callable[[str], str]) -> str:
    """``mysql://...`` of a MariaDB (or MySQL) server."""
    return service_url("mariadb")


@pytest.fixture(scope="session")
def mssql_url(service_url: Callable[[str], str]) -> str:
    """``mssql://...`` of SQL Server; skipped (even in CI) when there is none."""
    return service_url("mssql")


@pytest.fixture(scope="session")
def s3_endpoint(service_url: Callable[[str], str]) -> str:
    """``http://127.0.0.1:PORT`` of an S3-compatible server (moto's server mode)."""
    return service_url("s3")


@pytest.fixture(scope="session")
def s3rver_endpoint(service_url: Callable[[str], str]) -> str:
    """``http://127.0.0.1:PORT`` of s3rver, the second S3 implementation (it ignores If-None-Match)."""
    return service_url("s3rver")


@pytest.fixture(scope="session")
def azurite_url(service_url: Callable[[str], str]) -> str:
    """Blob endpoint of Azurite, ``http://127.0.0.1:10000/devstoreaccount1``."""
    return service_url("azurite")
