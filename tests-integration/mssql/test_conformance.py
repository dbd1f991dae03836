"""The core database conformance suites against a live SQL Server (pyodbc and aioodbc)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from storeroom.testing.database import AsyncDatabaseConformance, DatabaseConformance
from storeroom_mssql import AsyncMSSQLDatabase, MSSQLDatabase


class TestMSSQL(DatabaseConformance):
    @pytest.fixture
    def database(self, mssql_test_url: str) -> Iterator[MSSQLDatabase]:
        with MSSQLDatabase(mssql_test_url, name="main", statement_timeout=60) as db:
            yield db


class TestAsyncMSSQL(AsyncDatabaseConformance):
    @pytest_asyncio.fixture
    async def async_database(self, mssql_test_url: str) -> AsyncIterator[AsyncMSSQLDatabase]:
        async with AsyncMSSQLDatabase(mssql_test_url, name="main", statement_timeout=60) as db:
            yield db
