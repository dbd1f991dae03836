"""Fixtures for the live PostgreSQL tests: fresh databases and uniquely named tables."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio

from storeroom_postgres import AsyncPostgresDatabase, PostgresDatabase


def unique(prefix: str = "pg") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def db(postgres_url: str) -> Iterator[PostgresDatabase]:
    with PostgresDatabase(postgres_url, name="main") as database:
        yield database


@pytest_asyncio.fixture
async def adb(postgres_url: str) -> AsyncIterator[AsyncPostgresDatabase]:
    async with AsyncPostgresDatabase(postgres_url, name="main") as database:
        yield database


@pytest.fixture
def make_table(postgres_url: str) -> Iterator[Callable[[str], str]]:
    """``make_table("(id int PRIMARY KEY, ...)")`` -> a unique table name, dropped afterwards."""
    made: list[str] = []
    admin = PostgresDatabase(postgres_url, name="admin")

    def make(columns: str, name: str | None = None) -> str:
        table = name or unique("t")
        admin.execute(f"CREATE TABLE {table} {columns}")
        made.append(table)
        return table

    yield make
    for table in reversed(made):
        admin.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    admin.close()
