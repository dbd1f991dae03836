"""Faults on a live server: killed connections, exhausted pools, many tasks, unreachable
servers, wrong passwords, deadlocks, lock waits and statement timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pymysql
import pytest
from sqlalchemy.engine import make_url

from _services import free_port
from storeroom.config.models import PoolSettings
from storeroom.errors import ConnectionFailedError, PoolTimeoutError, QueryError, TransactionError
from storeroom.health import HealthStatus
from storeroom_mysql import AsyncMySQLDatabase, MySQLDatabase

SECRET_PASSWORD = "wr0ng-Pa55word-for-storeroom"


def _kill(admin: pymysql.connections.Connection, ids: list[int]) -> None:
    with admin.cursor() as cur:
        for conn_id in ids:
            cur.execute(f"KILL {int(conn_id)}")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # KILL is asynchronous: wait until they are gone
        with admin.cursor() as cur:
            cur.execute("SELECT ID FROM information_schema.PROCESSLIST")
            alive = {row[0] for row in cur.fetchall()}
        if not alive & set(ids):
            return
        time.sleep(0.05)
    pytest.fail(f"connections {ids} survived KILL")


def _sync_pool_ids(db: MySQLDatabase, n: int) -> list[int]:
    """Fill the pool with ``n`` connections (all checked out at once) and return their ids."""
    with contextlib.ExitStack() as stack:
        conns = [stack.enter_context(db.engine.connect()) for _ in range(n)]
        ids = [int(c.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one()) for c in conns]
    assert db.pool_info().checked_out == 0
    return ids


async def _async_pool_ids(db: AsyncMySQLDatabase, n: int) -> list[int]:
    async with contextlib.AsyncExitStack() as stack:
        conns = [await stack.enter_async_context(db.engine.connect()) for _ in range(n)]
        ids = [int((await c.exec_driver_sql("SELECT CONNECTION_ID()")).scalar_one()) for c in conns]
    return ids


# -- killed connections ----------------------------------------------------------------------


def test_killed_pool_connections_are_replaced_with_pre_ping(mariadb_url: str, admin: Any) -> None:
    with MySQLDatabase(mariadb_url, name="k", pool=PoolSettings(size=3, max_overflow=0)) as db:
        ids = _sync_pool_ids(db, 3)
        _kill(admin, ids)
        for _ in range(3):
            new_id = db.fetch_value("SELECT CONNECTION_ID()")
            assert new_id not in ids
        assert db.health_check().status is HealthStatus.HEALTHY


def test_killed_pool_connections_without_pre_ping_fail_once_then_recover(mariadb_url: str, admin: Any) -> None:
    pool = PoolSettings(size=3, max_overflow=0, pre_ping=False)
    with MySQLDatabase(mariadb_url, name="k", pool=pool) as db:
        ids = _sync_pool_ids(db, 3)
        _kill(admin, ids)
        with pytest.raises(ConnectionFailedError) as caught:
            db.fetch_value("SELECT 1")
        assert caught.value.__cause__ is not None
        # SQLAlchemy invalidated the whole pool on the disconnect: every later call gets a new one
        for _ in range(3):
            assert db.fetch_value("SELECT CONNECTION_ID()") not in ids


@pytest.mark.asyncio
async def test_async_killed_pool_connections_are_replaced(mariadb_url: str, admin: Any) -> None:
    async with AsyncMySQLDatabase(mariadb_url, name="k", pool=PoolSettings(size=3, max_overflow=0)) as db:
        ids = await _async_pool_ids(db, 3)
        await asyncio.to_thread(_kill, admin, ids)
        for _ in range(3):
            assert await db.fetch_value("SELECT CONNECTION_ID()") not in ids
        assert (await db.health_check()).status is HealthStatus.HEALTHY


@pytest.mark.asyncio
async def test_async_killed_without_pre_ping_fail_once_then_recover(mariadb_url: str, admin: Any) -> None:
    pool = PoolSettings(size=2, max_overflow=0, pre_ping=False)
    async with AsyncMySQLDatabase(mariadb_url, name="k", pool=pool) as db:
        ids = await _async_pool_ids(db, 2)
        await asyncio.to_thread(_kill, admin, ids)
        with pytest.raises(ConnectionFailedError):
            await db.fetch_value("SELECT 1")
        for _ in range(2):
            assert await db.fetch_value("SELECT CONNECTION_ID()") not in ids


def test_connection_killed_inside_a_transaction_raises_and_the_pool_recovers(mariadb_url: str, admin: Any) -> None:
    with MySQLDatabase(mariadb_url, name="k", pool=PoolSettings(size=2, max_overflow=0)) as db:
        with pytest.raises(ConnectionFailedError), db.transaction() as tx:  # noqa: PT012
            conn_id = tx.fetch_value("SELECT CONNECTION_ID()")
            _kill(admin, [conn_id])
            tx.fetch_value("SELECT 1")
        assert db.fetch_value("SELECT 1") == 1
        assert db.pool_info().checked_out == 0


# -- pool exhaustion and concurrency ------------------------------------------------------------


def test_exhausted_pool_raises_pool_timeout_within_the_timeout(mariadb_url: str) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=0.5)
    with MySQLDatabase(mariadb_url, name="tiny", pool=pool) as db:
        outcome: dict[str, Any] = {}

        def other_thread() -> None:
            started = time.monotonic()
            try:
                db.fetch_value("SELECT 1")
            except PoolTimeoutError as exc:
                outcome["error"] = exc
            outcome["elapsed"] = time.monotonic() - started

        with db.transaction():
            health = db.health_check()
            worker = threading.Thread(target=other_thread)
            worker.start()
            worker.join(10)
        assert not worker.is_alive()
        assert isinstance(outcome.get("error"), PoolTimeoutError), outcome
        assert 0.4 <= outcome["elapsed"] < 5
        assert "pool" in str(outcome["error"])
        assert health.status is HealthStatus.DEGRADED
        assert db.fetch_value("SELECT 1") == 1


@pytest.mark.asyncio
async def test_async_exhausted_pool_raises_pool_timeout(mariadb_url: str) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=0.5)
    async with AsyncMySQLDatabase(mariadb_url, name="tiny", pool=pool) as db:
        async with db.transaction():
            started = time.monotonic()
            with pytest.raises(PoolTimeoutError):
                await asyncio.create_task(db.fetch_value("SELECT 1"))  # a child task does not join
            assert 0.4 <= time.monotonic() - started < 5
        assert await db.fetch_value("SELECT 1") == 1


def test_health_is_degraded_above_ninety_percent_pool_use(mariadb_url: str) -> None:
    with MySQLDatabase(mariadb_url, name="busy", pool=PoolSettings(size=11, max_overflow=0)) as db:
        with contextlib.ExitStack() as stack:
            for _ in range(10):
                stack.enter_context(db.engine.connect())
            result = db.health_check()
            assert result.status is HealthStatus.DEGRADED, result.message
            assert result.latency_ms is not None  # it did probe, with the one free connection
        assert db.health_check().status is HealthStatus.HEALTHY


@pytest.mark.asyncio
async def test_two_hundred_tasks_over_a_pool_of_ten(mariadb_url: str) -> None:
    pool = PoolSettings(size=10, max_overflow=0, timeout=30)
    async with AsyncMySQLDatabase(mariadb_url, name="many", pool=pool) as db:

        async def one(i: int) -> int:
            if i % 2:
                async with db.transaction() as tx:
                    return int(await tx.fetch_value("SELECT :i + 0 * SLEEP(0.005)", {"i": i}))
            return int(await db.fetch_value("SELECT :i + 0 * SLEEP(0.005)", {"i": i}))

        results = await asyncio.gather(*(one(i) for i in range(200)))
        assert results == list(range(200))
        info = db.pool_info()
        assert info.checked_out == 0
        assert info.size <= 10


# -- unreachable server and wrong password -----------------------------------------------------


def _closed_port_url(mariadb_url: str) -> str:
    url = make_url(mariadb_url).set(host="127.0.0.1", port=free_port(), password=SECRET_PASSWORD)
    return url.render_as_string(hide_password=False)


def _wrong_password_url(mariadb_url: str) -> str:
    return make_url(mariadb_url).set(password=SECRET_PASSWORD).render_as_string(hide_password=False)


def _assert_hidden(*shown: object) -> None:
    for item in shown:
        assert SECRET_PASSWORD not in str(item)
        assert SECRET_PASSWORD not in repr(item)


@pytest.mark.parametrize("make", [_closed_port_url, _wrong_password_url], ids=["unreachable", "wrong-password"])
def test_sync_unreachable_or_refused(mariadb_url: str, make: Callable[[str], str]) -> None:
    with MySQLDatabase(make(mariadb_url), name="gone", connect_timeout=2) as db:
        health = db.health_check(timeout=5)
        assert health.status is HealthStatus.UNHEALTHY
        with pytest.raises(ConnectionFailedError) as caught:
            db.fetch_value("SELECT 1")
        assert caught.value.__cause__ is not None
        assert caught.value.code in (2003, 1045)  # type: ignore[attr-defined]
        _assert_hidden(db, health.message, health.to_dict(), caught.value, caught.value.__cause__)


@pytest.mark.asyncio
@pytest.mark.parametrize("make", [_closed_port_url, _wrong_password_url], ids=["unreachable", "wrong-password"])
async def test_async_unreachable_or_refused(mariadb_url: str, make: Callable[[str], str]) -> None:
    async with AsyncMySQLDatabase(make(mariadb_url), name="gone", connect_timeout=2) as db:
        health = await db.health_check(timeout=5)
        assert health.status is HealthStatus.UNHEALTHY
        with pytest.raises(ConnectionFailedError) as caught:
            await db.fetch_value("SELECT 1")
        _assert_hidden(db, health.message, health.to_dict(), caught.value, caught.value.__cause__)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (a hung server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    worker = threading.Thread(target=accept, daemon=True)
    worker.start()
    yield server.getsockname()[1]
    stop.set()
    worker.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_connect_timeout_bounds_a_server_that_never_answers(silent_server: int) -> None:
    url = f"mysql://app:{SECRET_PASSWORD}@127.0.0.1:{silent_server}/app"
    with MySQLDatabase(url, name="hung", connect_timeout=1) as db:
        started = time.monotonic()
        with pytest.raises(ConnectionFailedError) as caught:
            db.fetch_value("SELECT 1")
        assert time.monotonic() - started < 4
        _assert_hidden(caught.value)

    async def run() -> None:
        async with AsyncMySQLDatabase(url, name="hung", connect_timeout=1) as adb:
            started = time.monotonic()
            with pytest.raises(ConnectionFailedError):
                await adb.fetch_value("SELECT 1")
            assert time.monotonic() - started < 4

    asyncio.run(run())


@pytest.mark.parametrize("side", ["sync", "async"])
def test_connect_timeout_does_not_limit_queries(mariadb_url: str, side: str) -> None:
    sql = "SELECT SLEEP(1.5) + 1"
    if side == "sync":
        with MySQLDatabase(mariadb_url, name="slow", connect_timeout=1) as db:
            assert db.fetch_value(sql) == 1
        return

    async def run() -> Any:
        async with AsyncMySQLDatabase(mariadb_url, name="slow", connect_timeout=1) as adb:
            return await adb.fetch_value(sql)

    assert asyncio.run(run()) == 1


def test_wrong_password_message_says_access_denied(mariadb_url: str) -> None:
    with MySQLDatabase(_wrong_password_url(mariadb_url), name="gone") as db:
        with pytest.raises(ConnectionFailedError, match="Access denied") as caught:
            db.execute("SELECT 1")
        assert "password" in str(caught.value)  # the hint, never the value
        _assert_hidden(caught.value)


def test_tls_required_but_not_offered_is_refused(mariadb_url: str, admin: Any) -> None:
    with admin.cursor() as cur:
        cur.execute("SELECT @@have_ssl")
        have_ssl = cur.fetchone()[0]
    if have_ssl == "YES":
        pytest.skip("this server offers TLS; the refusal cannot be shown here")
    with MySQLDatabase(mariadb_url, name="tls", ssl={"verify": False}) as db:
        with pytest.raises(ConnectionFailedError, match=r"SSL|TLS"):
            db.fetch_value("SELECT 1")
        assert db.health_check().status is HealthStatus.UNHEALTHY

    async def run() -> None:
        async with AsyncMySQLDatabase(mariadb_url, name="tls", ssl={"verify": False}) as adb:
            with pytest.raises(ConnectionFailedError, match=r"SSL|TLS"):
                await adb.fetch_value("SELECT 1")

    asyncio.run(run())


# -- deadlocks, lock waits, statement timeouts ----------------------------------------------


def test_deadlock_is_a_retryable_transaction_error(mariadb_url: str, table: str) -> None:
    with MySQLDatabase(mariadb_url, name="dl") as db:
        db.bulk_insert(table, [{"id": 1, "name": "a", "body": None}, {"id": 2, "name": "b", "body": None}])
        both_locked = threading.Barrier(2, timeout=10)
        errors: list[BaseException] = []

        def worker(first: int, second: int) -> None:
            try:
                with db.transaction() as tx:
                    tx.execute(f"UPDATE {table} SET body = 'x' WHERE id = :id", {"id": first})
                    both_locked.wait()
                    tx.execute(f"UPDATE {table} SET body = 'y' WHERE id = :id", {"id": second})
            except BaseException as exc:  # noqa: BLE001 - collected for the assertions
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(1, 2)), threading.Thread(target=worker, args=(2, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(errors) == 1, errors  # InnoDB picks one victim; the other commits
        error = errors[0]
        assert isinstance(error, TransactionError)
        assert error.retryable is True
        assert error.code == 1213  # type: ignore[attr-defined]
        assert "deadlock" in str(error).lower()
        assert error.__cause__ is not None
        assert db.pool_info().checked_out == 0


@pytest.mark.asyncio
async def test_async_deadlock_is_a_retryable_transaction_error(mariadb_url: str, table: str) -> None:
    async with AsyncMySQLDatabase(mariadb_url, name="dl") as db:
        await db.bulk_insert(table, [{"id": 1, "name": "a", "body": None}, {"id": 2, "name": "b", "body": None}])
        locked = [asyncio.Event(), asyncio.Event()]

        async def worker(me: int, first: int, second: int) -> None:
            async with db.transaction() as tx:
                await tx.execute(f"UPDATE {table} SET body = 'x' WHERE id = :id", {"id": first})
                locked[me].set()
                await locked[1 - me].wait()
                await tx.execute(f"UPDATE {table} SET body = 'y' WHERE id = :id", {"id": second})

        outcomes = await asyncio.wait_for(
            asyncio.gather(worker(0, 1, 2), worker(1, 2, 1), return_exceptions=True), timeout=30
        )
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(errors) == 1, outcomes
        assert isinstance(errors[0], TransactionError) and errors[0].retryable is True
        assert db.pool_info().checked_out == 0


def test_lock_wait_timeout_is_retryable(mariadb_url: str, table: str, admin: Any) -> None:
    with MySQLDatabase(mariadb_url, name="lw") as db:
        db.bulk_insert(table, [{"id": 1, "name": "a", "body": None}])
        admin.begin()
        with admin.cursor() as cur:
            cur.execute(f"SELECT * FROM {table} WHERE id = 1 FOR UPDATE")
        try:
            with pytest.raises(TransactionError) as caught, db.transaction() as tx:  # noqa: PT012
                tx.execute("SET SESSION innodb_lock_wait_timeout = 1")
                tx.execute(f"UPDATE {table} SET body = 'x' WHERE id = 1")
        finally:
            admin.rollback()
        assert caught.value.retryable is True
        assert caught.value.code == 1205  # type: ignore[attr-defined]


@pytest.mark.parametrize("side", ["sync", "async"])
def test_statement_timeout_is_a_query_error_saying_timeout(mariadb_url: str, side: str) -> None:
    started = time.monotonic()
    if side == "sync":
        with MySQLDatabase(mariadb_url, name="st", statement_timeout=0.3) as db:
            with pytest.raises(QueryError, match="timeout") as caught:
                db.fetch_value("SELECT SLEEP(5)")
            assert db.fetch_value("SELECT 1") == 1  # the connection is still usable
    else:

        async def run() -> QueryError:
            async with AsyncMySQLDatabase(mariadb_url, name="st", statement_timeout=0.3) as db:
                with pytest.raises(QueryError, match="timeout") as caught:
                    await db.fetch_value("SELECT SLEEP(5)")
                assert await db.fetch_value("SELECT 1") == 1
                return caught.value

        error = asyncio.run(run())
        assert error.timeout is True  # type: ignore[attr-defined]
        assert time.monotonic() - started < 4
        return
    assert caught.value.timeout is True  # type: ignore[attr-defined]
    assert caught.value.statement == "SELECT SLEEP(5)"
    assert caught.value.code in (1969, 3024)  # type: ignore[attr-defined]
    assert time.monotonic() - started < 4
