"""The journal table and its statements on every server dialect (MariaDB live, SQL Server compiled)."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storeroom import Storeroom
from storeroom.uow import JOURNAL_TABLE
from storeroom.uow.journal import create_table_sql


@pytest.fixture
def mariadb_room(mariadb_settings: dict[str, Any], tmp_path: Path) -> Iterator[Storeroom]:
    """A database of its own, so the journal table is this test's alone."""
    settings = {
        "databases": {"main": mariadb_settings},
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "files"), "fsync": False}},
    }
    with Storeroom.from_settings(settings) as room:
        yield room


def test_mariadb_commit_failure_and_crash(mariadb_room: Storeroom) -> None:
    room = mariadb_room
    db, files = room.database("main"), room.storage("files")
    db.execute("CREATE TABLE docs (id INT PRIMARY KEY, object_key VARCHAR(200))")
    files.write("kept", b"original")
    with room.unit_of_work("main") as uow:
        uow.put("files", "a", b"a")
        uow.tx.execute("INSERT INTO docs VALUES (1, 'a')")
    assert db.fetch_value(f"SELECT COUNT(*) FROM {JOURNAL_TABLE}") == 0
    with pytest.raises(RuntimeError), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit's block is under test
        uow.put("files", "kept", b"replaced")
        uow.tx.execute("INSERT INTO docs VALUES (2, 'kept')")
        raise RuntimeError("body failed")
    assert files.read("kept") == b"original"
    assert db.fetch_value("SELECT COUNT(*) FROM docs") == 1
    # a crash: the transaction dies with its connection, nothing is compensated
    uow = room.unit_of_work("main")
    uow.__enter__()
    uow.put("files", "kept", b"crashed")
    uow.put("files", "b", b"b")
    conn = uow.tx.connection  # type: ignore[attr-defined]
    conn.invalidate()  # the connection is gone, like the process that held it
    assert files.read("kept") == b"crashed"
    (report,) = room.recover(older_than=0)
    assert report.undone == [uow.unit_id] and report.ok
    assert files.read("kept") == b"original" and files.list_keys() == ["a", "kept"]


def test_sql_server_journal_ddl_is_unicode() -> None:
    from sqlalchemy.dialects import mssql

    class Fake:
        class engine:
            dialect = mssql.dialect()

    ddl = create_table_sql(Fake())
    assert "NVARCHAR(1024)" in ddl and "BIGINT" in ddl and f"CREATE TABLE {JOURNAL_TABLE}" in ddl


def test_recover_reports_an_unreachable_database_and_goes_on(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = {
        "databases": {
            "main": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/main.db", "default": True},
            "gone": {
                "backend": "postgres",
                "url": f"postgresql://app:Hunter-22@127.0.0.1:{port}/x",
                "connect_timeout": 2,
            },
        },
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "files")}},
    }
    with Storeroom.from_settings(settings) as room:
        reports = {r.database: r for r in room.recover(older_than=0)}
    assert reports["main"].ok
    gone = reports["gone"]
    assert not gone.ok and gone.error is not None and "ConnectionFailedError" in gone.error
    assert "Hunter-22" not in gone.error


def test_journal_on_a_second_name_for_the_same_database(postgres_url: str, tmp_path: Path) -> None:
    """Two named connections to one database (app and service roles, say) share one journal table."""
    import psycopg

    schema = f"uow_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{postgres_url}{'&' if '?' in postgres_url else '?'}options=-csearch_path%3D{schema}"
    settings = {
        "databases": {
            "app": {"backend": "postgres", "url": url, "default": True},
            "service": {"backend": "postgres", "url": url},
        },
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "files"), "fsync": False}},
    }
    try:
        with Storeroom.from_settings(settings) as room:
            with room.unit_of_work("app", journal="service") as uow:
                uow.put("files", "a", b"a")
            assert room.storage("files").read("a") == b"a"

            def crash() -> str:  # in a context of its own: a dead process leaves no ambient transaction
                uow = room.unit_of_work("app", journal="service")
                uow.__enter__()
                uow.put("files", "b", b"b")
                uow.tx.connection.invalidate()  # type: ignore[attr-defined]  # the transaction dies with it
                return uow.unit_id

            unit_id = contextvars.Context().run(crash)
            reports = room.recover(older_than=0)
            assert [unit for r in reports for unit in r.undone] == [unit_id]
            assert room.storage("files").list_keys() == ["a"]
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
