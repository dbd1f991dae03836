"""The database adapters pass the full conformance suites over a real SQLite plugin.

``AsyncDatabaseFromSync`` wraps the sync SQLite class; ``SyncDatabaseFromAsync`` wraps
the aiosqlite one. Each transaction runs in its actor (a thread / one portal task).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from storeroom.adapters import AsyncDatabaseFromSync, SyncDatabaseFromAsync
from storeroom.errors import DatabaseError
from storeroom.testing.database import AsyncDatabaseConformance, DatabaseConformance

storeroom_sqlite = pytest.importorskip("storeroom_sqlite")


NO_SESSION = pytest.mark.skip(reason="an adapted database has no native ORM session (tested below: it says so)")


class TestAsyncFromSync(AsyncDatabaseConformance):
    @NO_SESSION
    async def test_session_works(self) -> None: ...

    @pytest_asyncio.fixture
    async def async_database(self, tmp_path: Path) -> AsyncIterator[AsyncDatabaseFromSync]:
        adapted = AsyncDatabaseFromSync(storeroom_sqlite.SQLiteDatabase(f"sqlite:///{tmp_path}/a.db", name="main"))
        yield adapted
        await adapted.close()


class TestSyncFromAsync(DatabaseConformance):
    @NO_SESSION
    def test_session_works(self) -> None: ...

    @NO_SESSION
    def test_session_joins_the_open_transaction(self) -> None: ...

    @pytest.fixture
    def database(self, tmp_path: Path) -> Iterator[SyncDatabaseFromAsync]:
        adapted = SyncDatabaseFromAsync(storeroom_sqlite.AsyncSQLiteDatabase(f"sqlite:///{tmp_path}/s.db", name="main"))
        yield adapted
        adapted.close()


def test_adapted_transaction_rolls_back_and_commits(tmp_path: Path) -> None:
    db = SyncDatabaseFromAsync(storeroom_sqlite.AsyncSQLiteDatabase(f"sqlite:///{tmp_path}/t.db", name="main"))
    try:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        with pytest.raises(ZeroDivisionError), db.transaction() as tx:  # noqa: PT012 - raise inside the block
            tx.execute("INSERT INTO t VALUES (1)")
            assert db.fetch_value("SELECT COUNT(*) FROM t") == 1  # joined
            1 / 0  # noqa: B018
        assert db.fetch_value("SELECT COUNT(*) FROM t") == 0
        with db.transaction() as tx:
            tx.execute("INSERT INTO t VALUES (2)")
            with pytest.raises(ValueError, match="undo"), tx.savepoint() as sp:  # noqa: PT012
                sp.execute("INSERT INTO t VALUES (3)")
                raise ValueError("undo")
        assert db.fetch_all("SELECT id FROM t") == [{"id": 2}]
        with pytest.raises(DatabaseError, match="no sync driver"):
            db.session()
    finally:
        db.close()


def test_async_adapter_child_task_does_not_join(tmp_path: Path) -> None:
    async def main() -> None:
        db = AsyncDatabaseFromSync(storeroom_sqlite.SQLiteDatabase(f"sqlite:///{tmp_path}/c.db", name="main"))
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            assert await db.fetch_value("SELECT COUNT(*) FROM t") == 1
            # A child task does not join: it reads committed state on its own connection.
            seen = await asyncio.create_task(db.fetch_value("SELECT COUNT(*) FROM t"))
            assert seen == 0
        assert await db.fetch_value("SELECT COUNT(*) FROM t") == 1
        await db.close()

    asyncio.run(main())
