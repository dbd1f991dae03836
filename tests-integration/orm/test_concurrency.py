"""Tenants stay apart under concurrency: 200 async tasks and 16 threads alternating tenants."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _orm_harness import OrmEnv
from storeroom_orm import AsyncRepository, F, Field, Model, Repository, actor, tenant


def _model(orm: OrmEnv, define: Any) -> Any:
    class Item(Model, **define("item")):
        label: str = Field(max_length=50)
        n: int = 0

    orm.create_all()
    return Item


TENANTS = ("acme", "globex", "initech", "umbrella")


def test_tenants_stay_apart_under_concurrency(orm: OrmEnv, define: Any) -> None:
    Item = _model(orm, define)
    if orm.side == "sync":
        repo = Repository(Item, orm.database)
        barrier = threading.Barrier(16)

        def worker(i: int) -> list[str]:
            name = TENANTS[i % len(TENANTS)]
            barrier.wait()
            seen = []
            with tenant(name), actor(f"thread-{i}"):
                for j in range(5):
                    repo.create(Item(label=f"{name}-{i}-{j}", n=j))
                    seen += [item.tenant_id for item in repo.list(F.n >= 0)]
                    seen += [item.tenant_id for item in repo.page(limit=3).items]
            return [s for s in seen if s != name]

        with ThreadPoolExecutor(16) as pool:
            leaks = [leak for result in pool.map(worker, range(16)) for leak in result]
        assert leaks == []
        for name in TENANTS:
            with tenant(name):
                rows = repo.list()
            assert len(rows) == 4 * 5 and {r.tenant_id for r in rows} == {name}
            assert all(r.label.startswith(name) for r in rows)
        return

    async def scenario() -> None:
        repo = AsyncRepository(Item, orm.database)

        async def task(i: int) -> list[str]:
            name = TENANTS[i % len(TENANTS)]
            with tenant(name):
                made = await repo.create(Item(label=f"{name}-{i}", n=i))
                await asyncio.sleep(0)
                got = await repo.get(made.id)
                rows = await repo.list(F.n >= 0)
                count = await repo.count()
            wrong = [r.tenant_id for r in rows if r.tenant_id != name]
            assert got is not None and got.tenant_id == name and count >= 1
            return wrong

        results = await asyncio.gather(*(task(i) for i in range(200)))
        assert [leak for result in results for leak in result] == []
        for name in TENANTS:
            with tenant(name):
                assert await repo.count() == 50
                assert {r.tenant_id for r in await repo.list()} == {name}

    orm.run(scenario())
