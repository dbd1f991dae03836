"""A failure at every step of a 5-step unit, or at the commit, leaves everything as before.

Each case compares a full snapshot (every object's bytes, content type and metadata,
every row) before and after, on every storage x database pair from conftest.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from _uow_harness import (
    BODY_CALLS,
    FINISH_CALLS,
    FaultyStorage,
    InjectedFault,
    committed_objects,
    five_steps,
    five_steps_async,
    snapshot,
)
from storeroom import Storeroom
from storeroom.errors import CompensationError, IntegrityError
from storeroom.uow import AsyncUnitOfWork, UnitOfWork


def _raise_after(step: int) -> Any:
    def hook(done: int) -> None:
        if done == step:
            raise InjectedFault(f"body failed after step {done}")

    return hook


def test_five_steps_commit(room: Storeroom, names: dict[str, str]) -> None:
    with room.unit_of_work("main") as uow:
        five_steps(uow, names)
    objects, rows = snapshot(room, names)
    assert {k: v[0] for k, v in objects.items()} == committed_objects()
    assert objects["new.bin"][1] == "text/plain"
    assert objects["existing.bin"][2] == {"v": "2"}
    assert [r["object_key"] for r in rows] == ["existing.bin v2", "new.bin", "doomed gone", "copy.bin", "moved.bin"]
    assert room.recover(older_than=0)[0].ok  # nothing left behind to recover
    assert not any(r.undone or r.finished for r in room.recover(older_than=0))


@pytest.mark.parametrize("step", range(1, 6))
def test_body_fails_after_each_step(room: Storeroom, names: dict[str, str], step: int) -> None:
    before = snapshot(room, names)
    with pytest.raises(InjectedFault), room.unit_of_work("main") as uow:
        five_steps(uow, names, _raise_after(step))
    assert snapshot(room, names) == before


@pytest.mark.parametrize("call", range(1, BODY_CALLS + 1))
def test_storage_call_fails_at_each_step(room: Storeroom, names: dict[str, str], call: int) -> None:
    before = snapshot(room, names)
    faulty = FaultyStorage(room.storage("files"), call)
    with pytest.raises(InjectedFault), UnitOfWork({"files": faulty}, room.database("main")) as uow:
        five_steps(uow, names)
    assert faulty.tripped
    assert snapshot(room, names) == before


def test_commit_fails(room: Storeroom, names: dict[str, str]) -> None:
    """A deferred foreign key fails only at COMMIT: the objects written by then are undone."""
    before = snapshot(room, names)

    def steps_then_orphan_row(uow: UnitOfWork) -> None:
        five_steps(uow, names)
        uow.tx.execute(f"INSERT INTO {names['docs']} (id, object_key, parent) VALUES (9, 'orphan', 999)")

    with pytest.raises(IntegrityError), room.unit_of_work("main") as uow:
        steps_then_orphan_row(uow)
    assert snapshot(room, names) == before


@pytest.mark.parametrize("call", range(1, FINISH_CALLS + 1))
def test_cleanup_after_commit_fails_then_recover_finishes(room: Storeroom, names: dict[str, str], call: int) -> None:
    faulty = FaultyStorage(room.storage("files"), BODY_CALLS + call)
    with UnitOfWork({"files": faulty}, room.database("main"), journal=room.database("journal")) as uow:
        five_steps(uow, names)
    assert uow.leftovers and "InjectedFault" in uow.leftovers[0]
    report = {r.database: r for r in room.recover(older_than=0)}["journal"]
    assert report.finished == [uow.unit_id]
    objects, _ = snapshot(room, names)
    assert {k: v[0] for k, v in objects.items()} == committed_objects()


def test_failed_compensation_lists_what_is_left(room: Storeroom, names: dict[str, str]) -> None:
    faulty = FaultyStorage(room.storage("files"), BODY_CALLS, fail_undo=True)
    with pytest.raises(CompensationError) as caught, UnitOfWork({"files": faulty}, room.database("main")) as uow:
        five_steps(uow, names)
    error = caught.value
    assert isinstance(error.__cause__, InjectedFault)
    left = list(error.remaining)
    # undo newest first: the copy at step 4, the overwrite's restore (step 2), the new object (step 1)
    assert [line.split(":")[0] for line in left] == [
        "remove files",
        "restore files",
        "remove files",
    ]
    assert "copy.bin" in left[0] and "existing.bin" in left[1] and "new.bin" in left[2]
    assert all("InjectedFault" in line for line in left)


# -- async -------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("step", [1, 3, 5])
async def test_async_body_fails(room: Storeroom, names: dict[str, str], step: int) -> None:
    before = snapshot(room, names)
    with pytest.raises(InjectedFault):
        async with room.async_unit_of_work("main") as uow:
            await five_steps_async(uow, names, _raise_after(step))
    assert snapshot(room, names) == before


@pytest.mark.asyncio
@pytest.mark.parametrize("call", range(1, BODY_CALLS + 1))
async def test_async_storage_call_fails(room: Storeroom, names: dict[str, str], call: int) -> None:
    before = snapshot(room, names)
    faulty = FaultyStorage(room.async_storage("files"), call, is_async=True)
    with pytest.raises(InjectedFault):
        async with AsyncUnitOfWork({"files": faulty}, room.async_database("main")) as uow:
            await five_steps_async(uow, names)
    assert snapshot(room, names) == before


@pytest.mark.asyncio
async def test_async_commit_fails(room: Storeroom, names: dict[str, str]) -> None:
    before = snapshot(room, names)

    async def unit() -> None:
        async with room.async_unit_of_work("main") as uow:
            await five_steps_async(uow, names)
            await uow.tx.execute(f"INSERT INTO {names['docs']} (id, object_key, parent) VALUES (9, 'x', 999)")

    with pytest.raises(IntegrityError):
        await unit()
    assert snapshot(room, names) == before


@pytest.mark.asyncio
async def test_async_commit(room: Storeroom, names: dict[str, str]) -> None:
    async with room.async_unit_of_work("main") as uow:
        await five_steps_async(uow, names)
    objects, rows = snapshot(room, names)
    assert {k: v[0] for k, v in objects.items()} == committed_objects()
    assert len(rows) == 5
