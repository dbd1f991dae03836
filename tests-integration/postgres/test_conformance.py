"""The core database conformance suites, live on PostgreSQL, sync and async."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from storeroom.testing.database import AsyncDatabaseConformance, DatabaseConformance
from storeroom_postgres import AsyncPostgresDatabase, PostgresDatabase


class TestPostgres(DatabaseConformance):
    @pytest.fixture
    def database(self, postgres_url: str) -> Iterator[PostgresDatabase]:
        with PostgresDatabase(postgres_url, name="main") as db:
            yield db


class TestPostgresGenericPaths(DatabaseConformance):
    """The same contract without the psycopg-native reads and COPY (the SQLAlchemy paths)."""

    @pytest.fixture
    def database(self, postgres_url: str) -> Iterator[PostgresDatabase]:
        with PostgresDatabase(postgres_url, name="generic", native=False) as db:
            assert not db.native
            yield db


class TestAsyncPostgres(AsyncDatabaseConformance):
    @pytest_asyncio.fixture
    async def async_database(self, postgres_url: str) -> AsyncIterator[AsyncPostgresDatabase]:
        async with AsyncPostgresDatabase(postgres_url, name="main") as db:
            yield db


class TestAsyncPostgresGenericPaths(AsyncDatabaseConformance):
    @pytest_asyncio.fixture
    async def async_database(self, postgres_url: str) -> AsyncIterator[AsyncPostgresDatabase]:
        async with AsyncPostgresDatabase(postgres_url, name="generic", native=False) as db:
            yield db
