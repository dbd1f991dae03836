"""Fixtures for schema sync against live servers: a private schema or database per test.

``live(dialect)`` gives a :class:`Live`: a storeroom database whose default schema (or
database) belongs to this test alone, the MetaData schema name to use for models, and
``run(ddl)`` to build the live side by hand. Everything is dropped afterwards.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from storeroom_schema_sync.desired import clear_memo


def unique(prefix: str = "ss") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@dataclass
class Live:
    dialect: str
    db: Any
    #: the MetaData schema models use (None: the database's default schema)
    schema: str | None
    #: what ``{s}`` becomes in hand-written DDL
    prefix: str

    def metadata(self) -> sa.MetaData:
        return sa.MetaData(schema=self.schema)

    def run(self, *statements: str) -> None:
        for statement in statements:
            self.db.execute(statement.replace("{s}", self.prefix))

    def create(self, build: Callable[[sa.MetaData], Any]) -> sa.MetaData:
        md = self.metadata()
        build(md)
        md.create_all(self.db.engine)
        return md


@pytest.fixture(autouse=True)
def _fresh_memo() -> None:
    """Each test renders its models into scratch space itself (no memo from an earlier test)."""
    clear_memo()


@pytest.fixture
def live_postgres(postgres_url: str) -> Iterator[Live]:
    from storeroom_postgres import PostgresDatabase

    schema = unique()
    admin = PostgresDatabase(postgres_url, name="admin")
    admin.execute(f"CREATE SCHEMA {schema}")
    db = PostgresDatabase(postgres_url, name="main")
    try:
        yield Live("postgresql", db, schema, f"{schema}.")
    finally:
        db.close()
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.close()


@pytest.fixture
def live_mariadb(mariadb_url: str) -> Iterator[Live]:
    from sqlalchemy.engine import make_url

    from storeroom_mysql import MySQLDatabase

    name = unique()
    admin = MySQLDatabase(mariadb_url, name="admin")
    admin.execute(f"CREATE DATABASE {name}")
    url = make_url(mariadb_url).set(database=name)
    db = MySQLDatabase(url, name="main")
    try:
        yield Live("mysql", db, None, "")
    finally:
        db.close()
        with contextlib.suppress(Exception):
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@pytest.fixture
def live_sqlite(tmp_path: Path) -> Iterator[Live]:
    from storeroom_sqlite import SQLiteDatabase

    db = SQLiteDatabase(f"sqlite:///{tmp_path / 'live.db'}", name="main")
    try:
        yield Live("sqlite", db, None, "")
    finally:
        db.close()


@pytest.fixture
def live(request: pytest.FixtureRequest) -> Live:
    """Parametrize with ``indirect=True`` and a dialect name."""
    fixture = {"postgresql": "live_postgres", "mysql": "live_mariadb", "sqlite": "live_sqlite"}[request.param]
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]
