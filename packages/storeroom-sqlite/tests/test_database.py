"""SQLite specifics, against real sqlite3/aiosqlite databases (no mocks)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from storeroom.config.models import PoolSettings
from storeroom.errors import (
    ConnectionFailedError,
    DatabaseError,
    IntegrityError,
    PoolTimeoutError,
    QueryError,
    TransactionError,
)
from storeroom.health import HealthStatus
from storeroom_sqlite import AsyncSQLiteDatabase, SQLiteDatabase

# ~1.5 s of pure CPU in sqlite: a probe that cannot answer in time
SLOW_QUERY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) SELECT count(*) FROM c"


class SlowSQLite(SQLiteDatabase):
    health_query = SLOW_QUERY


class AsyncSlowSQLite(AsyncSQLiteDatabase):
    health_query = SLOW_QUERY


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SQLiteDatabase]:
    with SQLiteDatabase(f"sqlite:///{tmp_path}/app.db", name="main") as database:
        yield database


@pytest_asyncio.fixture
async def adb(tmp_path: Path) -> AsyncIterator[AsyncSQLiteDatabase]:
    async with AsyncSQLiteDatabase(f"sqlite:///{tmp_path}/app.db", name="main") as database:
        yield database


def _parent_child(db: SQLiteDatabase) -> None:
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
        "REFERENCES parent (id) ON DELETE CASCADE)"
    )


# -- drivers and URLs ----------------------------------------------------------------------------


def test_plain_url_picks_each_sides_driver(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    with SQLiteDatabase(url) as db:
        assert db.engine.url.drivername == "sqlite+pysqlite"
    adb = AsyncSQLiteDatabase(url)
    assert adb.engine.url.drivername == "sqlite+aiosqlite"
    asyncio.run(adb.close())


def test_explicit_driver_is_kept_or_swapped_for_its_twin(tmp_path: Path) -> None:
    with SQLiteDatabase(f"sqlite+pysqlite:///{tmp_path}/x.db") as db:
        assert db.engine.url.drivername == "sqlite+pysqlite"
        assert db.fetch_value("SELECT 1") == 1
    with SQLiteDatabase(f"sqlite+aiosqlite:///{tmp_path}/x.db") as db:
        assert db.engine.url.drivername == "sqlite+pysqlite"
    adb = AsyncSQLiteDatabase(f"sqlite+pysqlite:///{tmp_path}/x.db")
    assert adb.engine.url.drivername == "sqlite+aiosqlite"
    asyncio.run(adb.close())


def test_other_scheme_is_a_configuration_error() -> None:
    from storeroom.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="sqlite://") as caught:
        SQLiteDatabase("postgresql://app:Pa55word-xyz@db.example/app")
    assert "Pa55word-xyz" not in str(caught.value)


def test_url_password_is_never_shown(tmp_path: Path) -> None:
    from storeroom.errors import ConfigurationError
    from storeroom.sqla import display_url
    from storeroom.sqla.engine import parse_url

    secret = "Sup3rSecretPw"
    # sqlite takes no credentials: the URL is refused, without echoing the password
    with pytest.raises(ConfigurationError) as caught:
        SQLiteDatabase(f"sqlite://user:{secret}@/{tmp_path}/pw.db", name="pw")
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert secret not in display_url(parse_url(f"postgresql://user:{secret}@db.example/app"))
    # once seen, the password is masked wherever it turns up later
    from storeroom.redaction import redact

    assert secret not in redact(f"connect failed for {secret}")


def test_unreachable_file_is_a_connection_failure(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    with SQLiteDatabase(f"sqlite:///{tmp_path}/adir", name="broken") as db:
        with pytest.raises(ConnectionFailedError, match="broken") as caught:
            db.fetch_value("SELECT 1")
        assert caught.value.__cause__ is not None


# -- per-connection setup --------------------------------------------------------------------------


def test_parent_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "app.db"
    with SQLiteDatabase(f"sqlite:///{path}") as db:
        assert path.parent.is_dir()
        db.execute("CREATE TABLE t (id INTEGER)")
    assert path.is_file()


def test_relative_path_parent_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with SQLiteDatabase("sqlite:///var/storeroom.db") as db:
        db.execute("CREATE TABLE t (id INTEGER)")
    assert (tmp_path / "var" / "storeroom.db").is_file()


def test_foreign_keys_are_enforced_on_every_connection(db: SQLiteDatabase) -> None:
    _parent_child(db)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        db.execute("INSERT INTO child (id, parent_id) VALUES (1, 42)")
    # several connections at once: each has the pragma on
    barrier = threading.Barrier(4)
    flags: list[int] = []

    def check() -> None:
        with db.transaction() as tx:
            barrier.wait(10)
            flags.append(tx.fetch_value("PRAGMA foreign_keys"))

    workers = [threading.Thread(target=check) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert flags == [1, 1, 1, 1]
    assert db.pool_info().size == 5


_DEFERRED = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
]


def test_a_refused_commit_leaves_no_transaction_open_in_the_pool(db: SQLiteDatabase) -> None:
    """sqlite3 keeps the transaction open when a deferred constraint fails at COMMIT; pooled
    as it was, the next caller would run inside it (and could commit the refused rows)."""
    for ddl in _DEFERRED:
        db.execute(ddl)
    with pytest.raises(IntegrityError), db.transaction() as tx:
        tx.execute("INSERT INTO child (id, parent_id) VALUES (1, 99)")
    db.execute("INSERT INTO parent (id) VALUES (99)")  # would fail: the orphan still pending
    assert db.fetch_all("SELECT id FROM child") == []
    assert db.fetch_value("SELECT COUNT(*) FROM parent") == 1


@pytest.mark.asyncio
async def test_async_refused_commit_leaves_no_transaction_open_in_the_pool(adb: AsyncSQLiteDatabase) -> None:
    for ddl in _DEFERRED:
        await adb.execute(ddl)
    with pytest.raises(IntegrityError):
        async with adb.transaction() as tx:
            await tx.execute("INSERT INTO child (id, parent_id) VALUES (1, 99)")
    await adb.execute("INSERT INTO parent (id) VALUES (99)")
    assert await adb.fetch_all("SELECT id FROM child") == []


def test_on_delete_cascade_works(db: SQLiteDatabase) -> None:
    _parent_child(db)
    db.execute("INSERT INTO parent (id) VALUES (1)")
    db.execute("INSERT INTO child (id, parent_id) VALUES (10, 1)")
    db.execute("DELETE FROM parent WHERE id = :id", {"id": 1})
    assert db.fetch_value("SELECT count(*) FROM child") == 0


def test_file_database_uses_wal_and_busy_timeout(tmp_path: Path) -> None:
    with SQLiteDatabase(f"sqlite:///{tmp_path}/wal.db", busy_timeout=2.5) as db:
        assert db.fetch_value("PRAGMA journal_mode") == "wal"
        assert db.fetch_value("PRAGMA busy_timeout") == 2500
    assert (tmp_path / "wal.db").is_file()


def test_journal_mode_setting_is_respected(tmp_path: Path) -> None:
    with SQLiteDatabase(f"sqlite:///{tmp_path}/j.db", journal_mode="DELETE") as db:
        assert db.fetch_value("PRAGMA journal_mode") == "delete"


@pytest.mark.asyncio
async def test_async_connections_get_the_same_setup(tmp_path: Path) -> None:
    async with AsyncSQLiteDatabase(f"sqlite:///{tmp_path}/a.db", busy_timeout=1.5) as adb:
        assert await adb.fetch_value("PRAGMA foreign_keys") == 1
        assert await adb.fetch_value("PRAGMA journal_mode") == "wal"
        assert await adb.fetch_value("PRAGMA busy_timeout") == 1500
        await adb.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await adb.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))")
        with pytest.raises(IntegrityError):
            await adb.execute("INSERT INTO child (id, parent_id) VALUES (1, 42)")


# -- memory databases ------------------------------------------------------------------------------


def test_memory_database_is_one_shared_connection() -> None:
    with SQLiteDatabase("sqlite:///:memory:", name="mem", pool=PoolSettings(timeout=0.3)) as db:
        assert db.in_memory and db.path is None
        db.execute("CREATE TABLE t (id INTEGER)")
        db.execute("INSERT INTO t (id) VALUES (1)")
        assert db.fetch_value("SELECT count(*) FROM t") == 1  # same database across calls
        info = db.pool_info()
        assert (info.size, info.available) == (1, 1)
        errors: list[BaseException] = []

        def other_thread() -> None:
            try:
                db.fetch_value("SELECT count(*) FROM t")
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        with db.transaction() as tx:
            tx.execute("INSERT INTO t (id) VALUES (2)")
            worker = threading.Thread(target=other_thread)
            worker.start()
            worker.join(10)
        assert len(errors) == 1 and isinstance(errors[0], PoolTimeoutError)
        assert db.fetch_value("SELECT count(*) FROM t") == 2


def test_bare_sqlite_url_is_memory() -> None:
    with SQLiteDatabase("sqlite://") as db:
        assert db.in_memory
        assert db.fetch_value("PRAGMA journal_mode") == "memory"


# -- pool ------------------------------------------------------------------------------------------


def test_pool_exhaustion_raises_pool_timeout_in_time(tmp_path: Path) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=0.3)
    with SQLiteDatabase(f"sqlite:///{tmp_path}/p.db", name="small", pool=pool) as db:
        outcome: list[Any] = []

        def other_thread() -> None:
            started = time.perf_counter()
            try:
                db.fetch_value("SELECT 1")
            except BaseException as exc:  # noqa: BLE001
                outcome.append(exc)
            outcome.append(time.perf_counter() - started)

        with db.transaction():
            assert db.pool_info().available == 0
            worker = threading.Thread(target=other_thread)
            worker.start()
            worker.join(10)
        error, elapsed = outcome
        assert isinstance(error, PoolTimeoutError) and isinstance(error, TimeoutError)
        assert "'small'" in str(error)
        assert 0.25 <= elapsed < 3
        assert db.fetch_value("SELECT 1") == 1


@pytest.mark.asyncio
async def test_async_pool_exhaustion_raises_pool_timeout(tmp_path: Path) -> None:
    pool = PoolSettings(size=1, max_overflow=0, timeout=0.3)
    async with AsyncSQLiteDatabase(f"sqlite:///{tmp_path}/p.db", name="small", pool=pool) as adb:

        async def other_task() -> Any:
            return await adb.fetch_value("SELECT 1")

        async with adb.transaction():
            started = time.perf_counter()
            with pytest.raises(PoolTimeoutError):
                await asyncio.create_task(other_task())
            assert time.perf_counter() - started < 3
        assert await adb.fetch_value("SELECT 1") == 1


def test_pool_info_follows_settings(tmp_path: Path) -> None:
    pool = PoolSettings(size=3, max_overflow=2)
    with SQLiteDatabase(f"sqlite:///{tmp_path}/p.db", pool=pool) as db:
        info = db.pool_info()
        assert (info.size, info.checked_out, info.overflow, info.available) == (3, 0, 0, 5)
        held = [db.engine.connect() for _ in range(4)]
        try:
            info = db.pool_info()
            assert (info.checked_out, info.overflow, info.available) == (4, 1, 1)
        finally:
            for conn in held:
                conn.close()
        assert db.pool_info().checked_out == 0


# -- health ----------------------------------------------------------------------------------------


def test_health_details(db: SQLiteDatabase) -> None:
    result = db.health_check()
    assert result.status is HealthStatus.HEALTHY
    assert result.details["backend"] == "sqlite"
    assert result.details["server_version"] == sqlite3.sqlite_version
    assert result.details["pool"]["size"] == 5
    assert db.server_version() == sqlite3.sqlite_version


def test_health_is_degraded_above_ninety_percent(tmp_path: Path) -> None:
    with SQLiteDatabase(f"sqlite:///{tmp_path}/h.db", pool=PoolSettings(size=20, max_overflow=0)) as db:
        held = [db.engine.connect() for _ in range(19)]
        try:
            result = db.health_check()
            assert result.status is HealthStatus.DEGRADED, result.message
            assert result.ok and result.latency_ms is not None
            held.append(db.engine.connect())
            exhausted = db.health_check()
            assert exhausted.status is HealthStatus.DEGRADED and "exhausted" in exhausted.message
        finally:
            for conn in held:
                conn.close()
        assert db.health_check().status is HealthStatus.HEALTHY


def test_health_is_unhealthy_when_unreachable(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    with SQLiteDatabase(f"sqlite:///{tmp_path}/adir", name="broken") as db:
        result = db.health_check()
    assert result.status is HealthStatus.UNHEALTHY and not result.ok
    assert "ConnectionFailedError" in result.message


def test_health_is_unhealthy_when_slow(tmp_path: Path) -> None:
    with SlowSQLite(f"sqlite:///{tmp_path}/slow.db", name="slow") as db:
        started = time.perf_counter()
        result = db.health_check(timeout=0.2)
        assert time.perf_counter() - started < 1.0
    assert result.status is HealthStatus.UNHEALTHY
    assert "no answer" in result.message


@pytest.mark.asyncio
async def test_async_health_unreachable_and_slow(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    async with AsyncSQLiteDatabase(f"sqlite:///{tmp_path}/adir", name="broken") as adb:
        assert (await adb.health_check()).status is HealthStatus.UNHEALTHY
    async with AsyncSlowSQLite(f"sqlite:///{tmp_path}/slow.db", name="slow") as slow:
        started = time.perf_counter()
        result = await slow.health_check(timeout=0.2)
        assert time.perf_counter() - started < 1.0
        for _ in range(200):  # let the abandoned probe finish before the loop closes
            if not slow._background:
                break
            await asyncio.sleep(0.05)
    assert result.status is HealthStatus.UNHEALTHY
    assert "no answer" in result.message


def test_closed_database_refuses_work_and_reports_unhealthy(db: SQLiteDatabase) -> None:
    db.close()
    with pytest.raises(DatabaseError, match="closed"):
        db.fetch_value("SELECT 1")
    assert db.health_check().status is HealthStatus.UNHEALTHY


# -- transactions ----------------------------------------------------------------------------------


def test_read_only_uses_query_only_and_resets_it(tmp_path: Path) -> None:
    with SQLiteDatabase(f"sqlite:///{tmp_path}/ro.db", pool=PoolSettings(size=1, max_overflow=0)) as db:
        db.execute("CREATE TABLE t (id INTEGER)")
        with db.transaction(read_only=True) as tx:
            assert tx.fetch_value("PRAGMA query_only") == 1
            with pytest.raises(QueryError, match="readonly"):
                tx.execute("INSERT INTO t (id) VALUES (1)")
        assert db.fetch_value("PRAGMA query_only") == 0  # the only pooled connection
        db.execute("INSERT INTO t (id) VALUES (1)")


def test_nested_transaction_cannot_change_options(db: SQLiteDatabase) -> None:
    with db.transaction():
        with pytest.raises(TransactionError, match="read-only"), db.transaction(read_only=True):
            pass
        with pytest.raises(TransactionError, match="isolation"), db.transaction(isolation_level="READ UNCOMMITTED"):
            pass
        with db.transaction(isolation_level=None):
            pass
    with db.transaction(read_only=True), db.transaction() as inner:
        assert inner.fetch_value("SELECT 1") == 1


def test_locked_database_is_a_retryable_transaction_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with SQLiteDatabase(f"sqlite:///{path}", busy_timeout=0.1) as db:
        db.execute("CREATE TABLE t (id INTEGER)")
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(TransactionError) as caught:
                db.execute("INSERT INTO t (id) VALUES (1)")
            assert caught.value.retryable
            assert isinstance(caught.value.__cause__, Exception)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert db.execute("INSERT INTO t (id) VALUES (1)") == 1


def test_check_constraint_name_is_reported(db: SQLiteDatabase) -> None:
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, score INTEGER, CONSTRAINT score_positive CHECK (score > 0))")
    with pytest.raises(IntegrityError) as caught:
        db.execute("INSERT INTO t (id, score) VALUES (1, :s)", {"s": -1})
    assert caught.value.constraint == "score_positive"


def test_same_name_through_another_object_cannot_join(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twin.db"
    with SQLiteDatabase(url, name="main") as first, SQLiteDatabase(url, name="main") as second:
        with first.transaction(), pytest.raises(TransactionError, match="another interface"):
            second.fetch_value("SELECT 1")
        assert second.fetch_value("SELECT 1") == 1


def test_other_database_inside_transaction_raises(tmp_path: Path) -> None:
    with (
        SQLiteDatabase(f"sqlite:///{tmp_path}/a.db", name="a") as a,
        SQLiteDatabase(f"sqlite:///{tmp_path}/b.db", name="b") as b,
    ):
        with a.transaction():
            with pytest.raises(TransactionError, match="'b'"):
                b.fetch_value("SELECT 1")
            with pytest.raises(TransactionError), b.transaction():
                pass
        assert b.fetch_value("SELECT 1") == 1


@pytest.mark.asyncio
async def test_async_child_task_gets_its_own_connection(adb: AsyncSQLiteDatabase) -> None:
    await adb.execute("CREATE TABLE t (id INTEGER)")
    async with adb.transaction() as tx:
        await tx.execute("INSERT INTO t (id) VALUES (1)")
        seen = await asyncio.create_task(adb.fetch_value("SELECT count(*) FROM t"))
        assert seen == 0  # WAL: the child reads the last committed state
        assert adb.pool_info().checked_out == 1
    assert await adb.fetch_value("SELECT count(*) FROM t") == 1


@pytest.mark.asyncio
async def test_async_stream_closed_by_break_eventually_returns_connection(adb: AsyncSQLiteDatabase) -> None:
    await adb.execute("CREATE TABLE t (id INTEGER)")
    await adb.bulk_insert("t", [{"id": i} for i in range(50)])
    async for _row in adb.stream("SELECT id FROM t", batch_size=5):
        break
    for _ in range(50):
        if adb.pool_info().checked_out == 0:
            break
        await asyncio.sleep(0.01)
    assert adb.pool_info().checked_out == 0


def test_ambient_is_cleared_after_transaction(db: SQLiteDatabase) -> None:
    from storeroom.database import ambient_transaction

    with db.transaction():
        assert ambient_transaction() is not None
    assert ambient_transaction() is None
    with pytest.raises(KeyError), db.transaction():
        raise KeyError("x")
    assert ambient_transaction() is None


def test_a_file_where_the_folder_should_be_is_a_configuration_error(tmp_path: Path) -> None:
    from storeroom.errors import ConfigurationError
    from storeroom_sqlite import SQLiteDatabase

    (tmp_path / "var").write_text("not a folder")
    with pytest.raises(ConfigurationError, match="cannot create the folder") as caught:
        SQLiteDatabase(f"sqlite:///{tmp_path}/var/app.db", name="main")
    assert caught.value.key == "databases.main.url"
