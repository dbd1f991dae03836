"""Bad input, bulk insert batching, streaming and MySQL specifics on a live server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import tracemalloc
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from storeroom.config.models import PoolSettings
from storeroom.errors import ConfigurationError, ConnectionFailedError, IntegrityError, QueryError, TransactionError
from storeroom.room import Storeroom
from storeroom_mysql import AsyncMySQLDatabase, MySQLDatabase

from .conftest import unique


@pytest.fixture
def db(mariadb_url: str) -> Iterator[MySQLDatabase]:
    with MySQLDatabase(mariadb_url, name="main") as database:
        yield database


def _inserts(db: Any) -> list[str]:
    """Records every INSERT statement the engine sends (sync engine of either side)."""
    seen: list[str] = []
    engine = db.engine.sync_engine if hasattr(db.engine, "sync_engine") else db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT"):
            seen.append(statement)

    return seen


# -- errors --------------------------------------------------------------------------------


def test_sql_error_carries_the_statement_but_no_parameter(db: MySQLDatabase, table: str) -> None:
    secret = "s3cr3t-" + uuid.uuid4().hex
    sql = f"SELECT id FROM {table} WHERE name = :name AND nosuchcolumn = 1"
    with pytest.raises(QueryError) as caught:
        db.fetch_all(sql, {"name": secret})
    assert caught.value.statement == sql
    assert "nosuchcolumn" in str(caught.value)
    assert secret not in str(caught.value) and secret not in str(caught.value.__cause__)


def test_duplicate_value_is_masked_in_the_error_and_the_chained_one(db: MySQLDatabase, table: str) -> None:
    secret = "s3cr3t-" + uuid.uuid4().hex
    db.execute(f"INSERT INTO {table} (id, name) VALUES (:id, :name)", {"id": 1, "name": secret})
    with pytest.raises(IntegrityError) as caught:
        db.execute(f"INSERT INTO {table} (id, name) VALUES (:id, :name)", {"id": 2, "name": secret})
    error = caught.value
    assert error.constraint == f"{table}_name_uq"
    assert error.code == 1062  # type: ignore[attr-defined]
    chain = [error, error.__cause__, getattr(error.__cause__, "orig", None)]
    for item in chain:
        assert item is not None
        assert secret not in str(item) and secret not in repr(item)
    assert "Duplicate entry '***'" in str(error)


def test_constraint_names_for_each_kind(db: MySQLDatabase) -> None:
    parent, child = f"p_{uuid.uuid4().hex[:10]}", f"c_{uuid.uuid4().hex[:10]}"
    db.execute(f"CREATE TABLE {parent} (id INT PRIMARY KEY) ENGINE=InnoDB")
    db.execute(
        f"CREATE TABLE {child} (id INT PRIMARY KEY, pid INT NOT NULL, qty INT, "
        f"CONSTRAINT {child}_fk FOREIGN KEY (pid) REFERENCES {parent} (id), "
        f"CONSTRAINT {child}_qty_ck CHECK (qty > 0)) ENGINE=InnoDB"
    )
    try:
        db.execute(f"INSERT INTO {parent} (id) VALUES (1)")
        db.execute(f"INSERT INTO {child} (id, pid, qty) VALUES (1, 1, 1)")
        cases = [
            (f"INSERT INTO {child} (id, pid, qty) VALUES (2, 99, 1)", f"{child}_fk", 1452),
            (f"DELETE FROM {parent} WHERE id = 1", f"{child}_fk", 1451),
            (f"INSERT INTO {child} (id, pid, qty) VALUES (3, 1, -5)", f"{child}_qty_ck", 4025),
            (f"INSERT INTO {child} (id, pid, qty) VALUES (1, 1, 1)", "PRIMARY", 1062),
        ]
        for sql, constraint, code in cases:
            with pytest.raises(IntegrityError) as caught:
                db.execute(sql)
            assert caught.value.constraint == constraint, sql
            assert caught.value.code in (code, 3819 if code == 4025 else code)  # type: ignore[attr-defined]
        with pytest.raises(IntegrityError) as caught:
            db.execute(f"INSERT INTO {child} (id, pid, qty) VALUES (4, NULL, 1)")
        assert caught.value.column == "pid"  # type: ignore[attr-defined]
    finally:
        db.execute(f"DROP TABLE IF EXISTS {child}")
        db.execute(f"DROP TABLE IF EXISTS {parent}")


def test_wrong_parameter_names_fail_before_sending(db: MySQLDatabase, table: str) -> None:
    seen = _inserts(db)
    with pytest.raises(QueryError, match="'nmae'"):
        db.execute(f"INSERT INTO {table} (id, name) VALUES (:id, :name)", {"id": 1, "nmae": "x"})
    with pytest.raises(QueryError, match=":name"):
        db.execute_many(f"INSERT INTO {table} (id, name) VALUES (:id, :name)", [{"id": 1, "name": "a"}, {"id": 2}])
    assert seen == []


def test_unknown_named_connection(mariadb_url: str) -> None:
    settings = {"databases": {"main": {"backend": "mysql", "url": mariadb_url}}}
    with Storeroom.from_settings(settings, embedded_default=False) as room:
        assert room.database().fetch_value("SELECT 1") == 1
        with pytest.raises(ConfigurationError, match="replica"):
            room.database("replica")


def test_percent_signs_and_literal_text_in_sql(db: MySQLDatabase, table: str) -> None:
    db.execute(f"INSERT INTO {table} (id, name) VALUES (:id, :name)", {"id": 1, "name": "100% sure"})
    assert db.fetch_value(f"SELECT count(*) FROM {table} WHERE name LIKE '100%'") == 1
    assert db.fetch_value(f"SELECT name FROM {table} WHERE name LIKE :p", {"p": "%sure"}) == "100% sure"


# -- bulk insert -----------------------------------------------------------------------------

AWKWARD = [
    "plain",
    'it\'s "quoted" \\ back\\slash',
    "100% %s %(x)s",
    "emoji \U0001f600 and \u00e9\u00e8",
    "nul\x00byte",
    "",
]


def test_bulk_insert_round_trips_awkward_values(db: MySQLDatabase) -> None:
    name = f"aw_{uuid.uuid4().hex[:10]}"
    db.execute(
        f"CREATE TABLE {name} (id INT PRIMARY KEY, s TEXT, b BLOB, d DECIMAL(10,3), t DATETIME(6), f DOUBLE, "
        "n INT NULL, ok BOOL)"
    )
    try:
        rows = [
            {
                "id": i,
                "s": s,
                "b": s.encode("utf-8") + b"\x00\xff'",
                "d": Decimal("1234.567"),
                "t": dt.datetime(2024, 2, 29, 12, 30, 1, 250),
                "f": 1.5,
                "n": None,
                "ok": i % 2 == 0,
            }
            for i, s in enumerate(AWKWARD)
        ]
        assert db.bulk_insert(name, rows) == len(rows)
        got = db.fetch_all(f"SELECT id, s, b, d, t, f, n, ok FROM {name} ORDER BY id")
        assert [r["s"] for r in got] == AWKWARD
        assert [bytes(r["b"]) for r in got] == [r["b"] for r in rows]
        assert {r["d"] for r in got} == {Decimal("1234.567")}
        assert {r["t"] for r in got} == {dt.datetime(2024, 2, 29, 12, 30, 1, 250)}
        assert [r["ok"] for r in got] == [1, 0, 1, 0, 1, 0]
        assert all(r["n"] is None for r in got)
    finally:
        db.execute(f"DROP TABLE {name}")


def test_bulk_insert_splits_by_bytes(mariadb_url: str, table: str) -> None:
    body = "x" * 1000
    rows = ({"id": i, "name": f"n{i}", "body": body} for i in range(300))  # ~300 KB, a generator
    with MySQLDatabase(mariadb_url, name="b", bulk_max_bytes=64 * 1024) as db:
        seen = _inserts(db)
        assert db.bulk_insert(table, rows) == 300
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == 300
        assert db.fetch_value(f"SELECT count(*) FROM {table} WHERE body = :b", {"b": body}) == 300
    assert len(seen) >= 300 * 1000 // (64 * 1024)
    assert all(len(sql.encode()) <= 64 * 1024 for sql in seen)
    assert all(sql.startswith(f"INSERT INTO {table} (id, name, ") for sql in seen)


def test_bulk_insert_splits_by_rows(mariadb_url: str, table: str) -> None:
    with MySQLDatabase(mariadb_url, name="b") as db:
        seen = _inserts(db)
        n = db.bulk_batch_size * 2 + 7
        assert db.bulk_insert(table, [{"id": i, "name": f"n{i}", "body": None} for i in range(n)]) == n
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == n
    assert len(seen) == 3


def test_bulk_insert_over_the_default_byte_cap(db: MySQLDatabase, table: str) -> None:
    """3 MB of rows against the default 1 MiB cap: several statements, all rows, one transaction."""
    seen = _inserts(db)
    body = "y" * 1024
    assert db.bulk_insert(table, [{"id": i, "name": f"n{i}", "body": body} for i in range(3000)]) == 3000
    assert len(seen) >= 3
    assert max(len(s) for s in seen) <= db.bulk_max_bytes
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 3000


def test_bulk_insert_refuses_a_row_larger_than_the_packet_and_inserts_nothing(
    db: MySQLDatabase, table: str, admin: Any
) -> None:
    with admin.cursor() as cur:
        cur.execute("SELECT @@max_allowed_packet")
        packet = int(cur.fetchone()[0])
    rows = [{"id": 1, "name": "small", "body": "ok"}, {"id": 2, "name": "huge", "body": "z" * (packet + 10)}]
    with pytest.raises(QueryError, match="max_allowed_packet"):
        db.bulk_insert(table, rows)
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0


def test_bulk_insert_errors_hide_values_and_roll_back(db: MySQLDatabase, table: str) -> None:
    secret = "s3cr3t-" + uuid.uuid4().hex
    rows = [{"id": 1, "name": secret, "body": secret}, {"id": 2, "name": secret, "body": secret}]
    with pytest.raises(IntegrityError) as caught:
        db.bulk_insert(table, rows)
    error = caught.value
    assert error.statement == f"INSERT INTO {table} (id, name, `body`) VALUES (...)"  # BODY is reserved
    for item in (error, error.__cause__):
        assert secret not in str(item)
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0


def test_bulk_insert_inside_a_transaction_joins_it(db: MySQLDatabase, table: str) -> None:
    with pytest.raises(RuntimeError), db.transaction():  # noqa: PT012
        db.bulk_insert(table, [{"id": i, "name": f"n{i}", "body": None} for i in range(10)])
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == 10
        raise RuntimeError
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0


@pytest.mark.asyncio
async def test_async_bulk_insert_splits_by_bytes(mariadb_url: str, table: str) -> None:
    body = "\u00e9" * 600  # two bytes each in utf8mb4: the byte cap counts bytes, not characters
    async with AsyncMySQLDatabase(mariadb_url, name="b", bulk_max_bytes=32 * 1024) as adb:
        seen = _inserts(adb)
        assert await adb.bulk_insert(table, [{"id": i, "name": f"n{i}", "body": body} for i in range(200)]) == 200
        assert await adb.fetch_value(f"SELECT count(*) FROM {table} WHERE body = :b", {"b": body}) == 200
    assert len(seen) >= 200 * 1200 // (32 * 1024)
    assert all(len(sql.encode()) <= 32 * 1024 for sql in seen)


# -- streaming -------------------------------------------------------------------------------


def _fill_big(db: MySQLDatabase, table: str, n: int) -> None:
    db.bulk_insert(table, ({"id": i, "name": f"n{i}", "body": "b" * 200} for i in range(n)))


def test_stream_memory_stays_bounded(db: MySQLDatabase, table: str) -> None:
    n = 40_000  # ~9 MB of rows
    _fill_big(db, table, n)
    sql = f"SELECT id, name, body FROM {table} ORDER BY id"
    tracemalloc.start()
    try:
        count = 0
        for _row in db.stream(sql, batch_size=500):
            count += 1
        _, stream_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        everything = db.fetch_all(sql)
        _, fetch_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == len(everything) == n
    assert stream_peak < 3 * 1024 * 1024, stream_peak
    assert fetch_peak > 3 * stream_peak


def test_stream_break_gives_back_a_usable_connection(mariadb_url: str, table: str) -> None:
    with MySQLDatabase(mariadb_url, name="s", pool=PoolSettings(size=1, max_overflow=0, timeout=5)) as db:
        _fill_big(db, table, 20_000)
        for row in db.stream(f"SELECT id FROM {table} ORDER BY id", batch_size=100):
            if row["id"] == 10:
                break
        assert db.pool_info().checked_out == 0
        # the one pooled connection is reused: an undrained unbuffered result would break it
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == 20_000
        with db.transaction() as tx:
            for row in tx.stream(f"SELECT id FROM {table} ORDER BY id", batch_size=100):
                if row["id"] == 5:
                    break
            assert tx.fetch_value("SELECT 41 + 1") == 42


@pytest.mark.asyncio
async def test_async_stream_bounded_and_early_close(mariadb_url: str, table: str) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=5)
    async with AsyncMySQLDatabase(mariadb_url, name="s", pool=pool) as adb:
        await adb.bulk_insert(table, [{"id": i, "name": f"n{i}", "body": "b" * 200} for i in range(20_000)])
        sql = f"SELECT id, body FROM {table} ORDER BY id"
        tracemalloc.start()
        try:
            count = 0
            async for _row in adb.stream(sql, batch_size=500):
                count += 1
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert count == 20_000
        assert peak < 3 * 1024 * 1024, peak
        async with contextlib.aclosing(adb.stream(sql, batch_size=100)) as rows:  # type: ignore[type-var]
            async for row in rows:
                if row["id"] == 3:
                    break
        assert adb.pool_info().checked_out == 0
        assert await adb.fetch_value(f"SELECT count(*) FROM {table}") == 20_000


# -- transactions ----------------------------------------------------------------------------


def test_read_only_transaction_is_read_only_from_the_first_statement(db: MySQLDatabase, table: str) -> None:
    with pytest.raises(QueryError, match="READ ONLY"), db.transaction(read_only=True) as tx:
        tx.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'a')")
    variable = "tx_isolation" if db.flavour == "MariaDB" else "transaction_isolation"
    with db.transaction(read_only=True, isolation_level="READ COMMITTED") as tx:
        assert tx.fetch_value(f"SELECT @@session.{variable}") == "READ-COMMITTED"
    # isolation and read-only are gone once the connection is back in the pool
    assert db.execute(f"INSERT INTO {table} (id, name) VALUES (2, 'b')") == 1
    assert db.fetch_value(f"SELECT @@session.{variable}") == "REPEATABLE-READ"


def test_ddl_commits_implicitly(db: MySQLDatabase, table: str) -> None:
    """Documented: DDL inside a transaction commits what came before it (transactional_ddl=False)."""
    assert type(db).transactional_ddl is False
    other = f"ddl_{uuid.uuid4().hex[:10]}"
    try:
        with pytest.raises(RuntimeError), db.transaction() as tx:  # noqa: PT012
            tx.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'kept')")
            tx.execute(f"CREATE TABLE {other} (id INT)")
            raise RuntimeError
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == 1
    finally:
        db.execute(f"DROP TABLE IF EXISTS {other}")


def test_other_named_connection_inside_a_transaction(mariadb_url: str) -> None:
    settings = {
        "databases": {
            "main": {"backend": "mysql", "url": mariadb_url, "default": True},
            "replica": {"backend": "mysql", "url": mariadb_url},
        }
    }
    with Storeroom.from_settings(settings, embedded_default=False) as room:
        main = room.database()
        with main.transaction(), pytest.raises(TransactionError, match="replica"):
            room.database("replica").fetch_value("SELECT 1")


def test_from_settings_with_parts_and_statement_timeout(mariadb_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(mariadb_url)
    entry = {
        "backend": "mysql",
        "host": url.host,
        "port": url.port or 3306,
        "user": url.username,
        "database": url.database,
        "statement_timeout": 2.5,
        "connect_timeout": 3,
        "pool": {"size": 2, "max_overflow": 0, "recycle": 600},
    }
    if url.password:
        entry["password"] = url.password

    async def async_side(room: Storeroom, sql: str) -> Any:
        return await room.async_database().fetch_value(sql)

    with Storeroom.from_settings({"databases": {"main": entry}}, embedded_default=False) as room:
        db = room.database()
        assert isinstance(db, MySQLDatabase)
        db.fetch_value("SELECT 1")
        # MariaDB: max_statement_time in seconds; MySQL: max_execution_time in milliseconds
        sql, expected = (
            ("SELECT @@max_statement_time", 2.5) if db.flavour == "MariaDB" else ("SELECT @@max_execution_time", 2500)
        )
        assert float(db.fetch_value(sql)) == expected
        assert db.fetch_value("SELECT @@character_set_client") == "utf8mb4"
        assert db.pool_info().size <= 2
        assert float(asyncio.run(async_side(room, sql))) == expected
        health = db.health_check()
        assert health.details["flavour"] in ("MariaDB", "MySQL")
        assert health.details["server_version"] == db.server_version()


# -- the async native fetch path -------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_fetch_matches_the_sync_side(mariadb_url: str, db: MySQLDatabase, table: str) -> None:
    db.bulk_insert(table, [{"id": i, "name": f"n{i}", "body": "100% 'q' \\"} for i in range(5)])
    queries = [
        (f"SELECT id, name, body FROM {table} ORDER BY id", None),
        (f"SELECT id AS a, name AS a FROM {table} WHERE id > :id ORDER BY id", {"id": 2}),  # repeated name
        (f"SELECT count(*) AS n FROM {table} WHERE body LIKE '100%'", None),
        (f"SELECT id FROM {table} WHERE name = :name OR body = :name", {"name": "n3"}),
    ]
    async with AsyncMySQLDatabase(mariadb_url, name="main") as adb:
        for sql, params in queries:
            assert await adb.fetch_all(sql, params) == db.fetch_all(sql, params)
            assert await adb.fetch_one(sql, params) == db.fetch_one(sql, params)
            assert await adb.fetch_value(sql, params) == db.fetch_value(sql, params)
        expected = db.fetch_all(*queries[1])
        async with adb.transaction() as tx:
            assert await tx.fetch_all(*queries[1]) == expected
        with pytest.raises(QueryError, match="no rows"):
            await adb.fetch_all(f"UPDATE {table} SET body = NULL WHERE id = -1")
        if adb.flavour == "MariaDB":  # INSERT ... RETURNING: a row-returning statement that can violate a key
            with pytest.raises(IntegrityError):
                await adb.fetch_all(f"INSERT INTO {table} (id, name) VALUES (1, 'dup') RETURNING id")


@pytest.mark.asyncio
async def test_async_fetch_keeps_sqlalchemy_listeners_informed(mariadb_url: str) -> None:
    async with AsyncMySQLDatabase(mariadb_url, name="traced") as adb:
        seen: list[str] = []

        @event.listens_for(adb.engine.sync_engine, "before_cursor_execute")
        def trace(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        assert await adb.fetch_all("SELECT 7 AS n") == [{"n": 7}]
        assert await adb.fetch_value("SELECT 8") == 8
        assert "SELECT 7 AS n" in seen and "SELECT 8" in seen


@pytest.mark.asyncio
async def test_async_fetch_after_the_connection_was_killed(mariadb_url: str, admin: Any) -> None:
    pool = PoolSettings(size=1, max_overflow=0, pre_ping=False)
    async with AsyncMySQLDatabase(mariadb_url, name="k", pool=pool) as adb:
        with pytest.raises(ConnectionFailedError):  # noqa: PT012 - the kill must happen inside the transaction
            async with adb.transaction() as tx:
                conn_id = await tx.fetch_value("SELECT CONNECTION_ID()")
                with admin.cursor() as cur:
                    cur.execute(f"KILL {int(conn_id)}")
                await asyncio.sleep(0.2)
                await tx.fetch_all("SELECT 1")
        assert await adb.fetch_all("SELECT 1 AS one") == [{"one": 1}]
        assert adb.pool_info().checked_out == 0


@pytest.mark.asyncio
async def test_async_fetch_cancelled_mid_query_stays_cancelled(mariadb_url: str, admin: Any) -> None:
    """Cancelling a task inside the native fetch raises CancelledError, not a QueryError from the
    rollback of a half-read connection, and that connection never goes back to the pool."""
    lock = unique("lock")
    with admin.cursor() as cur:
        cur.execute("SELECT GET_LOCK(%s, 0)", (lock,))
    pool = PoolSettings(size=1, max_overflow=0, pre_ping=False)
    async with AsyncMySQLDatabase(mariadb_url, name="c", pool=pool) as adb:
        assert adb._native
        task = asyncio.create_task(adb.fetch_all("SELECT GET_LOCK(:lock, 60) AS got", {"lock": lock}))
        for _ in range(400):  # until the statement waits on the server
            with admin.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT GET_LOCK(%%'")
                (waiting,) = cur.fetchone()
            if waiting:
                break
            await asyncio.sleep(0.025)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with admin.cursor() as cur:
            cur.execute("SELECT RELEASE_LOCK(%s)", (lock,))
        assert await adb.fetch_all("SELECT 1 AS one") == [{"one": 1}]
        assert adb.pool_info().checked_out == 0
