"""Live faults: killed backends, an exhausted pool, many tasks, unreachable or silent servers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from _services import free_port
from storeroom.config.models import PoolSettings
from storeroom.errors import ConnectionFailedError, PoolTimeoutError
from storeroom.health import HealthStatus
from storeroom_postgres import AsyncPostgresDatabase, PostgresDatabase

from .conftest import unique


def _terminate(postgres_url: str, application_name: str) -> int:
    with PostgresDatabase(postgres_url, name="killer", application_name="storeroom-killer") as admin:
        killed = admin.fetch_all(
            "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = :app",
            {"app": application_name},
        )
        # wait until the server has really let them go
        for _ in range(100):
            if not admin.fetch_value(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app", {"app": application_name}
            ):
                break
            time.sleep(0.05)
    return len(killed)


def _hold(db: PostgresDatabase, n: int) -> contextlib.ExitStack:
    """Check ``n`` connections out of the pool at once (so several pooled backends exist)."""
    stack = contextlib.ExitStack()
    for _ in range(n):
        conn = stack.enter_context(db.engine.connect())
        conn.exec_driver_sql("SELECT 1")
    return stack


@pytest.mark.parametrize("pre_ping", [True, False])
def test_terminated_backends(postgres_url: str, pre_ping: bool) -> None:
    app = unique("app")
    pool = PoolSettings(size=3, pre_ping=pre_ping)
    with PostgresDatabase(postgres_url, name="main", pool=pool, application_name=app) as db:
        with _hold(db, 3):
            pass
        before = {r["pid"] for r in db.fetch_all("SELECT pg_backend_pid() AS pid")}
        assert _terminate(postgres_url, app) == 3
        if pre_ping:  # the checkout notices the dead connection and replaces it
            assert db.fetch_value("SELECT pg_backend_pid()") not in before
            assert db.fetch_all("SELECT 1 AS one") == [{"one": 1}]
        else:  # the call fails, clearly, and the broken connection is not reused
            with pytest.raises(ConnectionFailedError, match="'main'"):
                db.fetch_all("SELECT 1 AS one")
            for _ in range(3):  # every stale pooled connection is discarded as it fails
                with contextlib.suppress(ConnectionFailedError):
                    db.fetch_value("SELECT 1")
            assert db.fetch_all("SELECT 1 AS one") == [{"one": 1}]
        assert db.pool_info().checked_out == 0


@pytest.mark.asyncio
async def test_async_terminated_backends(postgres_url: str) -> None:
    app = unique("app")
    async with AsyncPostgresDatabase(postgres_url, name="main", pool=PoolSettings(size=3), application_name=app) as adb:
        held = [await adb.engine.connect() for _ in range(3)]
        for conn in held:
            await conn.exec_driver_sql("SELECT 1")
        for conn in held:
            await conn.close()
        assert await asyncio.to_thread(_terminate, postgres_url, app) == 3
        assert await adb.fetch_all("SELECT 1 AS one") == [{"one": 1}]
        assert await adb.fetch_value("SELECT 2") == 2
        assert (await adb.health_check()).status is HealthStatus.HEALTHY


def test_pool_exhausted(postgres_url: str) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=0.5)
    with PostgresDatabase(postgres_url, name="tight", pool=pool) as db:
        outcome: list[BaseException | float] = []

        def other_thread() -> None:
            started = time.monotonic()
            try:
                db.fetch_value("SELECT 1")
            except PoolTimeoutError as exc:
                outcome.append(exc)
                outcome.append(time.monotonic() - started)

        with db.transaction() as tx:
            tx.fetch_value("SELECT 1")
            worker = threading.Thread(target=other_thread)
            worker.start()
            worker.join(30)
            health = db.health_check()
        assert isinstance(outcome[0], PoolTimeoutError), outcome
        assert "'tight'" in str(outcome[0]) and "pool.size" in str(outcome[0])
        assert 0.4 <= outcome[1] < 10  # type: ignore[operator]  # waited the configured timeout, not forever
        assert health.status is HealthStatus.DEGRADED
        assert db.fetch_value("SELECT 1") == 1  # free again


@pytest.mark.asyncio
async def test_async_pool_exhausted(postgres_url: str) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=0.5)
    async with AsyncPostgresDatabase(postgres_url, name="tight", pool=pool) as adb:
        async with adb.transaction() as tx:
            await tx.fetch_value("SELECT 1")
            with pytest.raises(PoolTimeoutError):
                await asyncio.create_task(adb.fetch_value("SELECT 1"))
        assert await adb.fetch_value("SELECT 1") == 1


@pytest.mark.asyncio
async def test_200_tasks_over_a_pool_of_10(postgres_url: str) -> None:
    pool = PoolSettings(size=10, max_overflow=0, timeout=60)
    async with AsyncPostgresDatabase(postgres_url, name="busy", pool=pool) as adb:
        results = await asyncio.gather(
            *(
                adb.fetch_one("SELECT CAST(:i AS int) AS i, pg_sleep(0.01) IS NULL AS slept", {"i": i})
                for i in range(200)
            )
        )
        assert [r["i"] for r in results if r] == list(range(200))
        info = adb.pool_info()
        assert info.checked_out == 0 and info.size <= 10


def _unreachable_url() -> str:
    return f"postgresql://app:Pw-Never-Shown-7@127.0.0.1:{free_port()}/nowhere"


def test_unreachable_server(postgres_url: str) -> None:
    url = _unreachable_url()
    with PostgresDatabase(url, name="gone", connect_timeout=2) as db:
        health = db.health_check(timeout=5)
        assert health.status is HealthStatus.UNHEALTHY
        assert "Pw-Never-Shown-7" not in str(health.to_dict())
        with pytest.raises(ConnectionFailedError) as caught:
            db.fetch_all("SELECT 1")
        shown = f"{caught.value} {caught.value!r} {db!r}"
        assert "Pw-Never-Shown-7" not in shown and "'gone'" in str(caught.value)
        assert "127.0.0.1" in str(caught.value)
        with pytest.raises(ConnectionFailedError):
            db.bulk_insert("t", [{"id": 1}])


@pytest.mark.asyncio
async def test_async_unreachable_server() -> None:
    async with AsyncPostgresDatabase(_unreachable_url(), name="gone", connect_timeout=2) as adb:
        health = await adb.health_check(timeout=5)
        assert health.status is HealthStatus.UNHEALTHY
        with pytest.raises(ConnectionFailedError) as caught:
            await adb.fetch_value("SELECT 1")
        assert "Pw-Never-Shown-7" not in f"{caught.value} {caught.value!r} {health.to_dict()}"


@contextlib.contextmanager
def _silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_silent_server_is_unhealthy_within_the_timeout() -> None:
    with _silent_server() as port, PostgresDatabase(f"postgresql://app@127.0.0.1:{port}/db", name="slow") as db:
        started = time.monotonic()
        health = db.health_check(timeout=0.5)
        assert health.status is HealthStatus.UNHEALTHY, health
        assert "in time" in health.message
        assert time.monotonic() - started < 5


@pytest.mark.asyncio
async def test_async_silent_server_is_unhealthy() -> None:
    with _silent_server() as port:
        async with AsyncPostgresDatabase(f"postgresql://app@127.0.0.1:{port}/db", name="slow") as adb:
            health = await adb.health_check(timeout=0.5)
            assert health.status is HealthStatus.UNHEALTHY, health


def test_health_details_and_degraded_pool(postgres_url: str) -> None:
    pool = PoolSettings(size=20, max_overflow=0)
    with PostgresDatabase(postgres_url, name="main", pool=pool) as db:
        health = db.health_check()
        assert health.status is HealthStatus.HEALTHY
        details: dict[str, Any] = health.details
        assert details["backend"] == "postgres" and details["driver"] == "postgresql+psycopg"
        assert details["server_version"] == db.server_version() and details["server_version"][0].isdigit()
        assert health.latency_ms is not None and health.latency_ms > 0
        with _hold(db, 19):
            degraded = db.health_check()
        assert degraded.status is HealthStatus.DEGRADED, degraded
        assert db.health_check().status is HealthStatus.HEALTHY


def test_wrong_password(postgres_url: str) -> None:
    role = unique("pw_role")
    password = "Right-" + role
    with PostgresDatabase(postgres_url, name="admin") as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        try:
            wrong = make_url(postgres_url).set(username=role, password="Wrong-Pw-Shown-Never")
            with PostgresDatabase(wrong, name="wrong") as db:
                health = db.health_check()
                if health.status is HealthStatus.HEALTHY:
                    pytest.skip("this server trusts loopback connections: passwords are not checked")
                with pytest.raises(ConnectionFailedError) as caught:
                    db.fetch_value("SELECT 1")
                shown = f"{caught.value} {caught.value!r} {health.to_dict()} {db!r}"
                assert "Wrong-Pw-Shown-Never" not in shown and "password" in str(caught.value)
        finally:
            admin.execute(f"DROP ROLE IF EXISTS {role}")
