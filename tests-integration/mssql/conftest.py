"""Fixtures for the SQL Server plugin's live tests (server from ``mssql_url``; skipped without one).

The tests run in their own database, created once with a UTF-8 collation (so the
conformance suite's ``VARCHAR`` columns hold any Unicode text, SQL Server 2019+),
snapshot isolation allowed and READ_COMMITTED_SNAPSHOT on.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Connection, make_url

from _mssql_support import require_pyodbc
from storeroom_mssql import MSSQLDatabase

TEST_DATABASE = "storeroom_test"
UTF8_COLLATION = "Latin1_General_100_CI_AS_SC_UTF8"


def unique(prefix: str = "ms") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def autocommit(url: str) -> Iterator[Connection]:
    """A connection outside any transaction (CREATE DATABASE, KILL and ALTER DATABASE need one)."""
    admin = MSSQLDatabase(url, name="admin")
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn
    finally:
        admin.close()


@pytest.fixture(scope="session")
def mssql_test_url(mssql_url: str) -> str:
    """``mssql_url`` pointed at the tests' own database, created on first use."""
    require_pyodbc()  # a server alone is not enough: pyodbc needs unixODBC
    url = make_url(mssql_url)
    server_url = url.set(database=url.database or "master").render_as_string(hide_password=False)
    with autocommit(server_url) as conn:
        conn.exec_driver_sql(
            f"IF DB_ID(N'{TEST_DATABASE}') IS NULL CREATE DATABASE [{TEST_DATABASE}] COLLATE {UTF8_COLLATION}"
        )
        conn.exec_driver_sql(f"ALTER DATABASE [{TEST_DATABASE}] SET ALLOW_SNAPSHOT_ISOLATION ON")
        rcsi = conn.exec_driver_sql(
            f"SELECT is_read_committed_snapshot_on FROM sys.databases WHERE name = N'{TEST_DATABASE}'"
        ).scalar()
        if not rcsi:
            conn.exec_driver_sql(
                f"ALTER DATABASE [{TEST_DATABASE}] SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE"
            )
    return url.set(database=TEST_DATABASE).render_as_string(hide_password=False)


@pytest.fixture
def admin(mssql_test_url: str) -> Iterator[Connection]:
    """An independent autocommit connection: KILL, checks from outside, DDL."""
    with autocommit(mssql_test_url) as conn:
        yield conn


@pytest.fixture
def db(mssql_test_url: str) -> Iterator[MSSQLDatabase]:
    with MSSQLDatabase(mssql_test_url, name="main") as database:
        yield database


@pytest.fixture
def table(db: MSSQLDatabase) -> Iterator[str]:
    """A fresh table (id, name unique, score CHECK >= 0, note), dropped afterwards."""
    name = unique("t")
    db.execute(
        f"CREATE TABLE {name} (id INT NOT NULL CONSTRAINT {name}_pk PRIMARY KEY, "
        f"name NVARCHAR(100) NOT NULL CONSTRAINT {name}_name_uq UNIQUE, "
        f"score INT NULL CONSTRAINT {name}_score_ck CHECK (score >= 0), note NVARCHAR(200) NULL)"
    )
    yield name
    with contextlib.suppress(Exception):
        db.execute(f"DROP TABLE {name}")
