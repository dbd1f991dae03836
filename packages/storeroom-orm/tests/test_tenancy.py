"""tenant() and actor() are context variables: per thread, per asyncio task, nested, restored."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from storeroom.errors import TenantError, TenantRequiredError
from storeroom_orm import actor, cross_tenant, current_actor, current_tenants, tenant
from storeroom_orm.tenancy import Scope, resolve_scope


def test_nesting_restores_the_outer_value() -> None:
    assert current_tenants() is None
    with tenant("a"), actor("alice"):
        with tenant(["b", "c", "b"]), actor("bob"):
            assert current_tenants() == ("b", "c") and current_actor() == "bob"
        assert current_tenants() == ("a",) and current_actor() == "alice"
    assert current_tenants() is None and current_actor() is None


def test_threads_and_tasks_each_keep_their_own() -> None:
    def in_thread(name: str) -> tuple[str, ...] | None:
        with tenant(name):
            return current_tenants()

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(in_thread, [f"t{i}" for i in range(32)])) == [(f"t{i}",) for i in range(32)]

    async def in_task(name: str) -> tuple[str, ...] | None:
        with tenant(name):
            await asyncio.sleep(0)
            return current_tenants()

    async def many() -> list[tuple[str, ...] | None]:
        return await asyncio.gather(*(in_task(f"k{i}") for i in range(50)))

    assert asyncio.run(many()) == [(f"k{i}",) for i in range(50)]


def test_scope_resolution_fails_closed() -> None:
    with pytest.raises(TenantRequiredError, match="Doc is multi-tenant"):
        resolve_scope(True, None, "Doc")
    assert resolve_scope(False, None, "Doc") == Scope(None, None)
    with tenant(["a", "b"]):
        assert resolve_scope(True, None, "Doc") == Scope(("a", "b"), "a")
        assert resolve_scope(True, ("z",), "Doc") == Scope(("z",), "z")  # the repository's own wins
    with cross_tenant():
        assert resolve_scope(True, None, "Doc") == Scope(None, None)


@pytest.mark.parametrize("bad", ["", "a,b", "tab\there", "x" * 256, 5, None])
def test_tenant_ids_are_checked(bad: object) -> None:
    with pytest.raises(TenantError), tenant(bad):  # type: ignore[arg-type]
        pass


def test_ids_are_time_ordered_uuid7() -> None:
    from storeroom_orm import uuid7

    ids = [uuid7() for _ in range(5000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
