"""Concurrent writers of one entity: real threads (sync) and asyncio tasks (async) on every backend.

Every update succeeds - no unique violation, deadlock or lost update leaks out - and the
history is a chain: scd2 versions contiguous with strictly increasing timestamps, audit
rows whose old -> new values link up.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import pytest

from _orm_harness import OrmEnv
from storeroom_orm import AsyncRepository, F, Field, Model, Repository, tenant

WRITERS = 12


def _model(orm: OrmEnv, define: Any, temporal: str) -> Any:
    class Doc(Model, **define("cdoc", temporal=temporal, soft_delete=True)):
        title: str = Field(max_length=100, unique=True)
        note: str | None = None
        qty: int = 0

    orm.create_all()
    return Doc


def _concurrently(orm: OrmEnv, model: Any, work: Callable[[Any, int], Any]) -> list[Any]:
    """``work(repo, i)`` for ``WRITERS`` writers at once: threads (sync) or tasks (async)."""
    if orm.side == "sync":
        repo = Repository(model, orm.database, tenant="acme")
        barrier = threading.Barrier(WRITERS)

        def thread(i: int) -> Any:
            barrier.wait()
            return work(repo, i)

        with ThreadPoolExecutor(WRITERS) as pool:
            return list(pool.map(thread, range(WRITERS)))

    async def scenario() -> list[Any]:
        repo = AsyncRepository(model, orm.database, tenant="acme")
        return list(await asyncio.gather(*(work(repo, i) for i in range(WRITERS))))

    return list(orm.run(scenario()))


def test_scd2_writers_of_one_entity_all_succeed_and_chain(orm: OrmEnv, define: Any) -> None:
    Doc = _model(orm, define, "scd2")
    made = orm.repo(Doc, tenant="acme").create(Doc(title="a"))
    results = _concurrently(orm, Doc, lambda repo, i: repo.update(made.id, note=f"w{i}", qty=i))
    assert sorted(r.version for r in results) == list(range(2, WRITERS + 2))
    versions = orm.repo(Doc, tenant="acme").history(made.id)
    assert [v.version for v in versions] == list(range(1, WRITERS + 2))
    assert sorted(v.note for v in versions[1:]) == sorted(f"w{i}" for i in range(WRITERS))
    for prev, nxt in pairwise(versions):
        assert prev.valid_to == nxt.valid_from and prev.valid_to > prev.valid_from
    assert versions[-1].valid_to is None and versions[-1] == orm.repo(Doc, tenant="acme").get(made.id)


def test_audit_writers_of_one_record_chain_their_old_and_new_values(orm: OrmEnv, define: Any) -> None:
    Doc = _model(orm, define, "copy_on_change")
    made = orm.repo(Doc, tenant="acme").create(Doc(title="a"))
    results = _concurrently(orm, Doc, lambda repo, i: repo.update(made.id, note=f"w{i}"))
    assert all(r is not None for r in results)
    changes = orm.repo(Doc, tenant="acme").field_history(made.id, "note")
    assert [c.operation for c in changes] == ["create"] + ["update"] * WRITERS
    for prev, nxt in pairwise(changes):
        assert prev.new == nxt.old and prev.changed_at < nxt.changed_at  # nothing lost, in order
    assert sorted(c.new for c in changes[1:]) == sorted(f"w{i}" for i in range(WRITERS))
    assert changes[-1].new == orm.repo(Doc, tenant="acme").get(made.id).note


@pytest.mark.parametrize("temporal", ["scd2", "copy_on_change"])
def test_concurrent_upserts_of_a_new_key_make_one_entity(orm: OrmEnv, define: Any, temporal: str) -> None:
    # MySQL/MariaDB deadlock two INSERT ... ON DUPLICATE KEY of one new key: the upsert runs again
    Doc = _model(orm, define, temporal)
    results = _concurrently(orm, Doc, lambda repo, i: repo.upsert(Doc(title="k", qty=i), on=("title",)))
    with tenant("acme"):
        stored = orm.repo(Doc).list()
    assert len(stored) == 1 and {r.id for r in results} == {stored[0].id}
    history = orm.repo(Doc, tenant="acme").history(stored[0].id)
    if temporal == "scd2":
        assert history[0].version == 1 and history[-1].qty == stored[0].qty
    else:
        assert [c.operation for c in history if c.field == "qty"][:1] == ["create"]


def test_set_based_writers_over_the_same_rows_do_not_deadlock(orm: OrmEnv, define: Any) -> None:
    Doc = _model(orm, define, "scd2")
    repo = orm.repo(Doc, tenant="acme")
    repo.bulk_create([Doc(title=f"t{i}") for i in range(20)])
    counts = _concurrently(orm, Doc, lambda repo, i: repo.update_where(F.qty >= 0, qty=i + 1, note=f"w{i}"))
    assert sum(counts) == 20 * WRITERS
    for doc in repo.list():
        versions = repo.history(doc.id)
        assert len(versions) == WRITERS + 1
        for prev, nxt in pairwise(versions):
            assert prev.valid_to == nxt.valid_from
    assert len(repo.list()) == 20
