"""Repositories join the database's ambient transaction, and so a unit of work's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from _orm_harness import OrmEnv
from storeroom import Storeroom
from storeroom_orm import AsyncRepository, Field, Model, Repository, tenant


class Boom(Exception):
    pass


def _model(orm: OrmEnv, define: Any) -> Any:
    class Note(Model, **define("note")):
        title: str = Field(max_length=50, unique=True)
        qty: int = 0

    orm.create_all()
    return Note


def test_a_failed_transaction_rolls_the_rows_back(orm: OrmEnv, define: Any) -> None:
    Note = _model(orm, define)
    if orm.side == "sync":
        repo = Repository(Note, orm.database, tenant="acme")
        kept = repo.create(Note(title="kept"))

        def fail() -> None:
            with orm.database.transaction():
                repo.create(Note(title="gone"))
                repo.update(kept.id, qty=5)  # a multi-statement operation joins without a savepoint
                assert repo.count() == 2
                raise Boom

        with pytest.raises(Boom):
            fail()
        assert [n.title for n in repo.list()] == ["kept"] and repo.get(kept.id).qty == 0
        return

    async def scenario() -> None:
        repo = AsyncRepository(Note, orm.database, tenant="acme")
        kept = await repo.create(Note(title="kept"))

        async def fail() -> None:
            async with orm.database.transaction():
                await repo.create(Note(title="gone"))
                await repo.update(kept.id, qty=5)
                assert await repo.count() == 2
                raise Boom

        with pytest.raises(Boom):
            await fail()
        assert [n.title for n in await repo.list()] == ["kept"]
        assert (await repo.get(kept.id)).qty == 0

    orm.run(scenario())


def _room_settings(orm: OrmEnv, tmp_path: Path) -> dict[str, Any]:
    url = str(orm.sync_database.url.render_as_string(hide_password=False))
    backend = {"sqlite": "sqlite", "postgres": "postgres", "mariadb": "mysql"}[orm.backend]
    return {
        "databases": {"main": {"backend": backend, "url": url}},
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "files")}},
    }


def test_a_failed_unit_of_work_removes_rows_and_objects(orm: OrmEnv, define: Any, tmp_path: Path) -> None:
    Note = _model(orm, define)
    settings = _room_settings(orm, tmp_path)
    if orm.side == "sync":
        with Storeroom.from_settings(settings) as room:
            repo = Repository(Note, room.database("main"))

            def fail() -> None:
                with tenant("acme"), room.unit_of_work(database="main", journal=False) as uow:
                    uow.put("files", "notes/a.txt", b"a")
                    repo.create(Note(title="a"))
                    raise Boom

            with pytest.raises(Boom):
                fail()
            with tenant("acme"):
                assert repo.count() == 0
            assert not room.storage("files").exists("notes/a.txt")
            with tenant("acme"), room.unit_of_work(database="main", journal=False) as uow:
                uow.put("files", "notes/b.txt", b"b")
                repo.create(Note(title="b"))
            with tenant("acme"):
                assert [n.title for n in repo.list()] == ["b"]
        return

    async def scenario() -> None:
        async with Storeroom.from_settings(settings) as room:
            repo = AsyncRepository(Note, room.async_database("main"), tenant="acme")

            async def fail() -> None:
                async with room.async_unit_of_work(database="main", journal=False) as uow:
                    await uow.put("files", "notes/a.txt", b"a")
                    await repo.create(Note(title="a"))
                    raise Boom

            with pytest.raises(Boom):
                await fail()
            assert await repo.count() == 0
            assert not await room.async_storage("files").exists("notes/a.txt")

    orm.run(scenario())


def test_child_tasks_run_their_own_transactions(orm: OrmEnv, define: Any) -> None:
    if orm.side == "sync":
        pytest.skip("async only: tasks")
    Note = _model(orm, define)

    async def scenario() -> None:
        repo = AsyncRepository(Note, orm.database, tenant="acme")
        made = [await repo.create(Note(title=f"n{i}")) for i in range(5)]
        await asyncio.gather(*(repo.update(note.id, qty=i) for i, note in enumerate(made)))
        assert sorted(n.qty for n in await repo.list()) == [0, 1, 2, 3, 4]

    orm.run(scenario())
