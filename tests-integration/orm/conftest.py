"""Fixtures for the ORM tests: every backend x side; see ``_orm_harness.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from _orm_harness import BACKENDS, SIDES, OrmEnv, unique


def _databases(backend: str, side: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Any]:
    if backend == "sqlite":
        from storeroom_sqlite import AsyncSQLiteDatabase, SQLiteDatabase

        url = f"sqlite:///{tmp_path}/orm.db"
        sync_db = SQLiteDatabase(url, name="main")
        return (sync_db if side == "sync" else AsyncSQLiteDatabase(url, name="main")), sync_db
    if backend == "postgres":
        from storeroom_postgres import AsyncPostgresDatabase, PostgresDatabase

        url = request.getfixturevalue("postgres_url")
        sync_db = PostgresDatabase(url, name="main")
        return (sync_db if side == "sync" else AsyncPostgresDatabase(url, name="main")), sync_db
    from storeroom_mysql import AsyncMySQLDatabase, MySQLDatabase

    url = request.getfixturevalue("mariadb_url")
    sync_db = MySQLDatabase(url, name="main")
    return (sync_db if side == "sync" else AsyncMySQLDatabase(url, name="main")), sync_db


@pytest.fixture(params=[f"{b}-{s}" for b in BACKENDS for s in SIDES])
def orm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OrmEnv]:
    backend, side = request.param.split("-")
    loop = asyncio.new_event_loop()
    database, sync_db = _databases(backend, side, request, tmp_path)
    env = OrmEnv(backend, side, database, sync_db, loop)
    try:
        yield env
    finally:
        env.close()
        loop.close()


@pytest.fixture
def define(orm: OrmEnv) -> Callable[..., Any]:
    """``define(lambda md, name: class X(Model, table=name, metadata=md) ...)`` is clumsy; this
    gives the keyword arguments every test model needs: a unique table and the env's MetaData."""

    def keywords(prefix: str = "orm", **extra: Any) -> dict[str, Any]:
        return {"table": unique(prefix), "metadata": orm.metadata, **extra}

    return keywords
