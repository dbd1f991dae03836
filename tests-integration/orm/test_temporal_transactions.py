"""Versions and audit rows commit with their change: a rolled-back transaction or savepoint leaves none."""

from __future__ import annotations

from typing import Any

import pytest

from _orm_harness import OrmEnv
from storeroom_orm import AsyncRepository, Field, Model, Repository


class Boom(Exception):
    pass


def _model(orm: OrmEnv, define: Any, temporal: str) -> Any:
    class Doc(Model, **define("tdoc", temporal=temporal)):
        title: str = Field(max_length=100)
        note: str | None = None

    orm.create_all()
    return Doc


def _sync(orm: OrmEnv, Doc: Any) -> list[Any]:
    repo = Repository(Doc, orm.database, tenant="acme")
    made = repo.create(Doc(title="a"))

    def fail() -> None:
        with orm.database.transaction():
            repo.update(made.id, note="gone")
            raise Boom

    def fail_in(tx: Any) -> None:
        with tx.savepoint():
            repo.update(made.id, title="gone")
            raise Boom

    with pytest.raises(Boom):
        fail()
    with orm.database.transaction() as tx:
        repo.update(made.id, note="kept")
        with pytest.raises(Boom):
            fail_in(tx)
        repo.update(made.id, title="b")
    return list(repo.history(made.id))


async def _async(orm: OrmEnv, Doc: Any) -> list[Any]:
    repo = AsyncRepository(Doc, orm.database, tenant="acme")
    made = await repo.create(Doc(title="a"))

    async def fail() -> None:
        async with orm.database.transaction():
            await repo.update(made.id, note="gone")
            raise Boom

    async def fail_in(tx: Any) -> None:
        async with tx.savepoint():
            await repo.update(made.id, title="gone")
            raise Boom

    with pytest.raises(Boom):
        await fail()
    async with orm.database.transaction() as tx:
        await repo.update(made.id, note="kept")
        with pytest.raises(Boom):
            await fail_in(tx)
        await repo.update(made.id, title="b")
    return list(await repo.history(made.id))


@pytest.mark.parametrize("temporal", ["scd2", "copy_on_change"])
def test_a_rollback_leaves_no_version_and_no_audit_row(orm: OrmEnv, define: Any, temporal: str) -> None:
    Doc = _model(orm, define, temporal)
    history = _sync(orm, Doc) if orm.side == "sync" else orm.run(_async(orm, Doc))
    if temporal == "scd2":
        assert [(v.version, v.title, v.note) for v in history] == [(1, "a", None), (2, "a", "kept"), (3, "b", "kept")]
        return
    updates = [c for c in history if c.operation == "update"]
    assert [(c.field, c.old, c.new) for c in updates] == [("note", None, "kept"), ("title", "a", "b")]
    # the changes made inside one transaction share its id; the create had its own
    assert updates[0].transaction_id == updates[1].transaction_id != history[0].transaction_id
