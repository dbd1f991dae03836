"""Fixtures: real engines on SQLAlchemy's mssql dialect (compiling needs no server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from _mssql_support import UNREACHABLE_URL, require_pyodbc
from storeroom_mssql import MSSQLDatabase


@pytest.fixture
def pyodbc_loads() -> None:
    """Skip (fail with ``CI=true``) a test whose engine needs pyodbc where unixODBC is missing."""
    require_pyodbc()


@pytest.fixture
def db(pyodbc_loads: None) -> Iterator[MSSQLDatabase]:
    """A sync database on the real pyodbc dialect; tests using it compile, never connect."""
    with MSSQLDatabase(UNREACHABLE_URL, name="main", connect_timeout=1) as database:
        yield database
