"""Backend pairs for the unit-of-work tests: every storage backend x every database backend.

A storage backend is a function ``(request, tmp_path) -> settings``; the S3 and Azure
ones take their server from the session fixtures (moto, Azurite), so a missing server
skips here and fails in CI like every other integration test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _uow_harness import prepare, room_settings, tables
from storeroom import Storeroom


def _local(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return {"backend": "local", "root": str(tmp_path / "files"), "fsync": False}


#: Azurite's well-known development account key (public; documented by Microsoft)
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _azure(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return {
        "backend": "azure",
        "account_url": request.getfixturevalue("azurite_url"),
        "account_key": AZURITE_KEY,
        "container": f"uow-{uuid.uuid4().hex[:12]}",
        "create_container": True,
    }


def _s3(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return {
        "backend": "s3",
        "endpoint_url": request.getfixturevalue("s3_endpoint"),
        "region": "us-east-1",
        "access_key_id": "AKIASTOREROOMUOW",
        "secret_access_key": "storeroom-uow-" + uuid.uuid4().hex,
        "bucket": f"storeroom-uow-{uuid.uuid4().hex[:12]}",
        "prefix": "app",
        "create_bucket": True,
    }


STORAGES = {"local": _local, "azure": _azure, "s3": _s3}


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/main.db"}


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """A schema of its own per test, so each test has its own journal table."""
    import psycopg

    url = request.getfixturevalue("postgres_url")
    schema = f"uow_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    request.addfinalizer(drop)
    separator = "&" if "?" in url else "?"
    return {"backend": "postgres", "url": f"{url}{separator}options=-csearch_path%3D{schema}"}


def _mariadb(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """A database of its own per test, so each test has its own journal table."""
    import pymysql
    from sqlalchemy.engine import make_url

    url = make_url(request.getfixturevalue("mariadb_url"))
    name = f"uow_{uuid.uuid4().hex[:10]}"

    def run(sql: str) -> None:
        conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "")
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    run(f"CREATE DATABASE {name}")
    request.addfinalizer(lambda: run(f"DROP DATABASE IF EXISTS {name}"))
    return {"backend": "mysql", "url": url.set(database=name).render_as_string(hide_password=False)}


DATABASES = {"sqlite": _sqlite, "postgres": _postgres}
#: database servers a client reaches over TCP (the ambiguous-commit tests put a proxy in between)
SERVERS = {"postgres": _postgres, "mariadb": _mariadb}


@pytest.fixture(params=sorted(STORAGES))
def storage_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    settings = STORAGES[request.param](request, tmp_path)
    return settings


@pytest.fixture(params=sorted(DATABASES))
def database_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return DATABASES[request.param](request, tmp_path)


@pytest.fixture
def object_storage(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Local files, unless a test parametrizes it (``indirect=True``) with another of STORAGES."""
    return STORAGES[getattr(request, "param", "local")](request, tmp_path)


@pytest.fixture
def mariadb_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return _mariadb(request, tmp_path)


@pytest.fixture(params=sorted(SERVERS))
def server_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """A database of its own on each TCP server (PostgreSQL, MariaDB)."""
    return SERVERS[request.param](request, tmp_path)


@pytest.fixture
def settings(storage_settings: dict[str, Any], database_settings: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return room_settings(storage_settings, database_settings, tmp_path)


@pytest.fixture
def names() -> dict[str, str]:
    return tables()


@pytest.fixture
def room(settings: dict[str, Any], names: dict[str, str]) -> Iterator[Storeroom]:
    with Storeroom.from_settings(settings) as room:
        prepare(room, names)
        yield room
        db = room.database("main")
        for table in (names["docs"], names["parents"]):
            db.execute(f"DROP TABLE IF EXISTS {table}")
