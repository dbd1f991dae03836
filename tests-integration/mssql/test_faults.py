"""Faults against a live SQL Server: killed sessions, pool exhaustion, timeouts, deadlocks,
snapshot conflicts, bad credentials, many tasks over a small pool."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy.engine import Connection, make_url

from storeroom.config.models import PoolSettings
from storeroom.errors import ConnectionFailedError, PoolTimeoutError, QueryError, TransactionError
from storeroom.health import HealthStatus
from storeroom_mssql import AsyncMSSQLDatabase, MSSQLDatabase


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


ONE = PoolSettings(size=1, max_overflow=0, timeout=2)


def _kill(admin: Connection, spid: int) -> None:
    admin.exec_driver_sql(f"KILL {int(spid)}")


def test_killed_session_is_replaced_by_pre_ping(mssql_test_url: str, admin: Connection) -> None:
    with MSSQLDatabase(mssql_test_url, name="main", pool=ONE) as db:
        spid = db.fetch_value("SELECT @@SPID")
        _kill(admin, spid)
        assert db.fetch_value("SELECT 1") == 1  # pre_ping found the dead connection and reconnected
        assert db.fetch_value("SELECT @@SPID") is not None
        assert db.pool_info().checked_out == 0


def test_killed_session_without_pre_ping_fails_once_then_recovers(mssql_test_url: str, admin: Connection) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=2, pre_ping=False)
    with MSSQLDatabase(mssql_test_url, name="main", pool=pool) as db:
        spid = db.fetch_value("SELECT @@SPID")
        _kill(admin, spid)
        with pytest.raises(ConnectionFailedError) as caught:
            db.fetch_value("SELECT 1")
        assert make_url(mssql_test_url).password not in str(caught.value)
        assert db.fetch_value("SELECT 1") == 1  # the invalidated connection was replaced
        assert db.health_check().status is HealthStatus.HEALTHY


def test_killed_session_inside_a_transaction(mssql_test_url: str, admin: Connection) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=2, pre_ping=False)
    with MSSQLDatabase(mssql_test_url, name="main", pool=pool) as db:
        with pytest.raises(ConnectionFailedError), db.transaction() as tx:  # noqa: PT012 - killed mid-transaction
            spid = tx.fetch_value("SELECT @@SPID")
            _kill(admin, spid)
            tx.fetch_value("SELECT 1")
        assert db.fetch_value("SELECT 1") == 1
        assert db.pool_info().checked_out == 0


def test_pool_exhaustion_raises_pool_timeout(mssql_test_url: str) -> None:
    with MSSQLDatabase(mssql_test_url, name="main", pool=PoolSettings(size=1, max_overflow=0, timeout=1)) as db:
        with db.engine.connect():  # holds the only connection
            with pytest.raises(PoolTimeoutError, match=r"pool\.size"):
                db.fetch_value("SELECT 1")
            assert db.health_check().status is HealthStatus.DEGRADED
        assert db.fetch_value("SELECT 1") == 1


@pytest.mark.asyncio
async def test_async_pool_exhaustion_raises_pool_timeout(mssql_test_url: str) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=1)
    async with AsyncMSSQLDatabase(mssql_test_url, name="main", pool=pool) as adb:
        async with adb.engine.connect():
            with pytest.raises(PoolTimeoutError):
                await adb.fetch_value("SELECT 1")
        assert await adb.fetch_value("SELECT 1") == 1


def test_statement_timeout_is_a_query_error_and_the_pool_recovers(mssql_test_url: str) -> None:
    with MSSQLDatabase(mssql_test_url, name="main", pool=ONE, statement_timeout=1) as db:
        with pytest.raises(QueryError, match="query timeout") as caught:
            db.execute("WAITFOR DELAY '00:00:05'")
        assert caught.value.timeout is True
        assert caught.value.statement == "WAITFOR DELAY '00:00:05'"
        assert db.fetch_value("SELECT 1") == 1


@pytest.mark.asyncio
async def test_async_statement_timeout(mssql_test_url: str) -> None:
    async with AsyncMSSQLDatabase(mssql_test_url, name="main", pool=ONE, statement_timeout=1) as adb:
        with pytest.raises(QueryError, match="query timeout"):
            await adb.execute("WAITFOR DELAY '00:00:05'")
        assert await adb.fetch_value("SELECT 1") == 1


def test_deadlock_victim_gets_a_retryable_transaction_error(db: MSSQLDatabase) -> None:
    a, b = unique("dl"), unique("dl")
    for name in (a, b):
        db.execute(f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT)")
        db.execute(f"INSERT INTO {name} (id, v) VALUES (1, 0)")
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[BaseException | None] = []

    def worker(first: str, second: str) -> None:
        try:
            with db.transaction() as tx:
                tx.execute(f"UPDATE {first} SET v = v + 1 WHERE id = 1")
                barrier.wait()
                tx.execute(f"UPDATE {second} SET v = v + 1 WHERE id = 1")
            outcomes.append(None)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcomes.append(exc)

    threads = [threading.Thread(target=worker, args=(a, b)), threading.Thread(target=worker, args=(b, a))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        errors = [o for o in outcomes if o is not None]
        assert len(outcomes) == 2 and len(errors) == 1, outcomes
        assert isinstance(errors[0], TransactionError) and errors[0].retryable, errors[0]
        assert "1205" in str(errors[0])
    finally:
        for name in (a, b):
            db.execute(f"DROP TABLE {name}")


def test_snapshot_update_conflict_is_retryable(db: MSSQLDatabase, table: str, mssql_test_url: str) -> None:
    db.execute(f"INSERT INTO {table} (id, name, score) VALUES (1, N'a', 1)")
    with (  # noqa: PT012 - the conflict arises inside the transaction
        MSSQLDatabase(mssql_test_url, name="other") as other,
        pytest.raises(TransactionError) as caught,
        db.transaction(isolation_level="snapshot") as tx,
    ):
        assert tx.fetch_value(f"SELECT score FROM {table} WHERE id = 1") == 1  # snapshot taken
        with other.engine.begin() as conn:  # a concurrent writer commits first
            conn.exec_driver_sql(f"UPDATE {table} SET score = 50 WHERE id = 1")
        tx.execute(f"UPDATE {table} SET score = :s WHERE id = 1", {"s": 7})
    assert caught.value.retryable
    assert db.fetch_value(f"SELECT score FROM {table} WHERE id = 1") == 50


def test_wrong_password_is_a_connection_failure_without_it(mssql_test_url: str) -> None:
    wrong = make_url(mssql_test_url).set(password="Not-The-Password-42").render_as_string(hide_password=False)
    with MSSQLDatabase(wrong, name="main") as db:
        with pytest.raises(ConnectionFailedError, match="Login failed") as caught:
            db.fetch_value("SELECT 1")
        assert "Not-The-Password-42" not in str(caught.value)
        result = db.health_check()
        assert result.status is HealthStatus.UNHEALTHY and "Not-The-Password-42" not in str(result.to_dict())


def test_closed_port_is_unhealthy_in_time(mssql_test_url: str) -> None:
    closed = make_url(mssql_test_url).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    with MSSQLDatabase(closed, name="main", connect_timeout=2) as db:
        assert db.health_check(timeout=5).status is HealthStatus.UNHEALTHY
        with pytest.raises(ConnectionFailedError):
            db.fetch_value("SELECT 1")


@pytest.mark.asyncio
async def test_two_hundred_tasks_over_a_pool_of_ten(mssql_test_url: str) -> None:
    pool = PoolSettings(size=10, max_overflow=0, timeout=60)
    async with AsyncMSSQLDatabase(mssql_test_url, name="main", pool=pool) as adb:
        peak = 0
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, adb.pool_info().checked_out)
                await asyncio.sleep(0)

        async def one(i: int) -> Any:
            return await adb.fetch_value("SELECT CAST(:i AS INT) + 0 * @@SPID", {"i": i})

        watcher = asyncio.create_task(watch())
        try:
            got = await asyncio.gather(*(one(i) for i in range(200)))
        finally:
            done.set()
            await watcher
        assert got == list(range(200))
        assert 1 <= peak <= 10
        assert adb.pool_info().checked_out == 0
        assert (await adb.health_check()).status is HealthStatus.HEALTHY
