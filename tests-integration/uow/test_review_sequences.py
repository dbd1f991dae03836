"""Failures around the journal and the commit, on PostgreSQL (detached journal writes) and local files."""

from __future__ import annotations

import contextvars

import pytest

from storeroom import Storeroom
from storeroom.database import ambient_transaction
from storeroom.errors import QueryError
from storeroom.uow import JOURNAL_TABLE

pytestmark = [
    pytest.mark.parametrize("storage_settings", ["local"], indirect=True),
    pytest.mark.parametrize("database_settings", ["postgres"], indirect=True),
]


def _aborted_transaction_body(uow: object) -> None:
    """A statement fails and the caller carries on: PostgreSQL refuses every later one, the commit marker too."""
    with pytest.raises(QueryError):
        uow.tx.execute("SELECT * FROM no_such_table_here")  # type: ignore[attr-defined]


def test_a_failed_commit_marker_ends_the_transaction(room: Storeroom) -> None:
    files = room.storage("files")
    with pytest.raises(QueryError), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit's block is under test
        uow.put("files", "a.bin", b"a")
        _aborted_transaction_body(uow)
    assert not files.exists("a.bin")
    assert ambient_transaction() is None  # the unit's transaction is over, its connection returned
    with room.unit_of_work("main") as uow:  # and a new unit can start here
        uow.put("files", "b.bin", b"b")
    assert files.read("b.bin") == b"b"


@pytest.mark.asyncio
async def test_async_a_failed_commit_marker_ends_the_transaction(room: Storeroom) -> None:
    files = room.storage("files")
    with pytest.raises(QueryError):  # noqa: PT012 - the unit's block is under test
        async with room.async_unit_of_work("main") as uow:
            await uow.put("files", "a.bin", b"a")
            with pytest.raises(QueryError):
                await uow.tx.execute("SELECT * FROM no_such_table_here")
    assert not files.exists("a.bin")
    assert ambient_transaction() is None
    async with room.async_unit_of_work("main") as uow:
        await uow.put("files", "b.bin", b"b")
    assert files.read("b.bin") == b"b"


def _drop_journal(room: Storeroom) -> None:
    # outside the unit's transaction, like another process would
    contextvars.Context().run(room.database("main").execute, f"DROP TABLE {JOURNAL_TABLE}")


def test_a_step_whose_journal_row_failed_never_ran_and_is_not_undone(room: Storeroom) -> None:
    files = room.storage("files")
    files.write("theirs.bin", b"someone else's")
    files.write("kept.bin", b"original")
    with pytest.raises(QueryError), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit's block is under test
        uow.put("files", "new.bin", b"new")
        _drop_journal(room)
        try:
            uow.create("files", "theirs.bin", b"mine")  # the journal write fails before the storage call
        finally:
            with pytest.raises(QueryError):
                uow.put("files", "kept.bin", b"replaced")  # the same: no backup was taken, nothing to restore
    assert files.read("theirs.bin") == b"someone else's"
    assert files.read("kept.bin") == b"original"
    assert not files.exists("new.bin")


@pytest.mark.asyncio
async def test_async_a_step_whose_journal_row_failed_is_not_undone(room: Storeroom) -> None:
    files = room.storage("files")
    files.write("theirs.bin", b"someone else's")
    with pytest.raises(QueryError):  # noqa: PT012 - the unit's block is under test
        async with room.async_unit_of_work("main") as uow:
            await uow.put("files", "new.bin", b"new")
            await _adrop_journal(room)
            await uow.create("files", "theirs.bin", b"mine")
    assert files.read("theirs.bin") == b"someone else's"
    assert not files.exists("new.bin")


async def _adrop_journal(room: Storeroom) -> None:
    import asyncio

    db = room.async_database("main")
    await asyncio.create_task(db.execute(f"DROP TABLE {JOURNAL_TABLE}"), context=contextvars.Context())


def test_a_failed_begin_row_ends_the_transaction(room: Storeroom) -> None:
    with room.unit_of_work("main", journal="journal") as uow:
        uow.put("files", "a.bin", b"a")
    room.database("journal").execute(f"DROP TABLE {JOURNAL_TABLE}")  # known to exist: not checked again
    uow = room.unit_of_work("main", journal="journal")
    with pytest.raises(QueryError), uow:
        pass
    assert ambient_transaction() is None
    assert room.database("main").pool_info().checked_out == 0


@pytest.mark.asyncio
async def test_async_a_failed_begin_row_ends_the_transaction(room: Storeroom) -> None:
    async with room.async_unit_of_work("main", journal="journal") as uow:
        await uow.put("files", "a.bin", b"a")
    await room.async_database("journal").execute(f"DROP TABLE {JOURNAL_TABLE}")
    uow = room.async_unit_of_work("main", journal="journal")
    with pytest.raises(QueryError):
        async with uow:
            pass
    assert ambient_transaction() is None
    async with room.async_unit_of_work("main") as uow:
        await uow.put("files", "b.bin", b"b")
