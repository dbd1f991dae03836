"""Fixtures for the MySQL/MariaDB plugin's live tests (server from ``mariadb_url``)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pymysql
import pytest
from sqlalchemy.engine import make_url


def unique(prefix: str = "my") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def raw_connect(mariadb_url: str) -> Iterator[Callable[..., pymysql.connections.Connection]]:
    """Plain PyMySQL connections to the test server (autocommit), closed afterwards."""
    url = make_url(mariadb_url)
    opened: list[pymysql.connections.Connection] = []

    def connect(**overrides: Any) -> pymysql.connections.Connection:
        args: dict[str, Any] = {
            "host": url.host or "127.0.0.1",
            "port": url.port or 3306,
            "user": url.username or "root",
            "password": url.password or "",
            "database": url.database,
            "autocommit": True,
            **overrides,
        }
        conn = pymysql.connect(**args)
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        with contextlib.suppress(Exception):
            conn.close()


@pytest.fixture
def admin(raw_connect: Callable[..., pymysql.connections.Connection]) -> pymysql.connections.Connection:
    """A second, independent connection: KILLs, processlist, DDL, checks from outside."""
    return raw_connect()


@pytest.fixture
def table(admin: pymysql.connections.Connection) -> Iterator[str]:
    """A fresh InnoDB table ``(id INT PRIMARY KEY, name VARCHAR(100) UNIQUE, body TEXT)``."""
    name = unique("t")
    with admin.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {name} (id INT NOT NULL PRIMARY KEY, name VARCHAR(100) NULL, body TEXT NULL, "
            f"CONSTRAINT {name}_name_uq UNIQUE (name)) ENGINE=InnoDB"
        )
    yield name
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name}")
