"""The core database conformance suites, run against real SQLite files and memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from storeroom.testing.database import AsyncDatabaseConformance, DatabaseConformance
from storeroom_sqlite import AsyncSQLiteDatabase, SQLiteDatabase


class TestSQLiteFile(DatabaseConformance):
    @pytest.fixture
    def database(self, tmp_path: Path) -> Iterator[SQLiteDatabase]:
        with SQLiteDatabase(f"sqlite:///{tmp_path}/conformance.db", name="main") as db:
            yield db


class TestSQLiteMemory(DatabaseConformance):
    @pytest.fixture
    def database(self) -> Iterator[SQLiteDatabase]:
        with SQLiteDatabase("sqlite:///:memory:", name="memory") as db:
            yield db


class TestSQLiteExplicitDriver(DatabaseConformance):
    @pytest.fixture
    def database(self, tmp_path: Path) -> Iterator[SQLiteDatabase]:
        with SQLiteDatabase(f"sqlite+pysqlite:///{tmp_path}/explicit.db", name="explicit") as db:
            yield db


class TestAsyncSQLiteFile(AsyncDatabaseConformance):
    @pytest_asyncio.fixture
    async def async_database(self, tmp_path: Path) -> AsyncIterator[AsyncSQLiteDatabase]:
        async with AsyncSQLiteDatabase(f"sqlite:///{tmp_path}/conformance.db", name="main") as db:
            yield db


class TestAsyncSQLiteMemory(AsyncDatabaseConformance):
    @pytest_asyncio.fixture
    async def async_database(self) -> AsyncIterator[AsyncSQLiteDatabase]:
        async with AsyncSQLiteDatabase("sqlite:///:memory:", name="memory") as db:
            yield db
