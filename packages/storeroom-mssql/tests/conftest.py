"""Fixtures: real engines on SQLAlchemy's mssql dialect (compiling needs no server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from _mssql_support import UNREACHABLE_URL
from storeroom_mssql import MSSQLDatabase


@pytest.fixture
def db() -> Iterator[MSSQLDatabase]:
    """A sync database on the real pyodbc dialect; tests using it compile, never connect."""
    with MSSQLDatabase(UNREACHABLE_URL, name="main", connect_timeout=1) as database:
        yield database
