"""Who is asking: the tenant and the actor, as context variables.

Context variables are per thread and copied into each asyncio task, so ``with
tenant("acme"):`` in one request never leaks into another running concurrently.
``tenant(["a", "b"])`` reads across both tenants; writes go to the first one only.
``cross_tenant()`` is the one, explicit, greppable way to lift the tenant filter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from storeroom.errors import TenantError, TenantRequiredError

__all__ = [
    "Scope",
    "actor",
    "check_tenant_id",
    "cross_tenant",
    "current_actor",
    "current_tenants",
    "resolve_scope",
    "tenant",
]

MAX_TENANT_LENGTH = 255

_tenants: ContextVar[tuple[str, ...] | None] = ContextVar("storeroom_orm_tenant", default=None)
_cross: ContextVar[bool] = ContextVar("storeroom_orm_cross_tenant", default=False)
_actor: ContextVar[str | None] = ContextVar("storeroom_orm_actor", default=None)


def check_tenant_id(value: object) -> str:
    """A tenant id is a non-empty string without commas or control characters.

    Commas are refused because PostgreSQL row-level security receives several tenants as
    one comma-separated setting.
    """
    if not isinstance(value, str) or not value:
        raise TenantError(f"a tenant id must be a non-empty string, got {type(value).__name__}")
    if len(value) > MAX_TENANT_LENGTH or "," in value or not value.isprintable():
        raise TenantError(f"invalid tenant id: at most {MAX_TENANT_LENGTH} printable characters, no comma")
    return value


def _tenants_of(value: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        values: tuple[object, ...] = (value,)
    elif isinstance(value, list | tuple):
        values = tuple(value)
    else:
        raise TenantError(f"a tenant is a string or a list of strings, got {type(value).__name__}")
    if not values:
        raise TenantError("tenant() needs at least one tenant id")
    checked = tuple(dict.fromkeys(check_tenant_id(v) for v in values))
    return checked


@contextmanager
def tenant(value: str | Sequence[str]) -> Iterator[tuple[str, ...]]:
    """Scope repositories in this block to ``value`` (one tenant id, or several to read across).

    With several, reads see every one of them and writes go to the first.
    """
    token = _tenants.set(_tenants_of(value))
    try:
        yield _tenants.get() or ()
    finally:
        _tenants.reset(token)


@contextmanager
def actor(name: str | None) -> Iterator[str | None]:
    """Who makes the changes in this block: fills ``created_by``, ``updated_by``, ``deleted_by``."""
    if name is not None and (not isinstance(name, str) or not name):
        raise TenantError("actor() takes a non-empty string (or None)")
    token = _actor.set(name)
    try:
        yield name
    finally:
        _actor.reset(token)


@contextmanager
def cross_tenant() -> Iterator[None]:
    """Lift the tenant filter for admin work: reads see every tenant; writes name theirs.

    Repositories bound to a tenant (``Repository(..., tenant="acme")``) stay bound. Raw SQL
    was never filtered; see docs/orm.md for what this does and does not protect.
    """
    token = _cross.set(True)
    try:
        yield
    finally:
        _cross.reset(token)


def current_tenants() -> tuple[str, ...] | None:
    return _tenants.get()


def current_actor() -> str | None:
    return _actor.get()


@dataclass(frozen=True, slots=True)
class Scope:
    """The tenants one repository call may touch.

    ``read``: the tenants whose rows are visible (None: every tenant, for models without
    tenancy and in ``cross_tenant()``); ``write``: the tenant new and changed rows belong to
    (None: unrestricted).
    """

    read: tuple[str, ...] | None
    write: str | None

    @property
    def unrestricted(self) -> bool:
        return self.read is None


UNRESTRICTED = Scope(None, None)


def resolve_scope(multi_tenant: bool, bound: tuple[str, ...] | None, model_name: str) -> Scope:
    """The scope of one call: the repository's own tenant, else the context's; fail closed."""
    if not multi_tenant:
        return UNRESTRICTED
    tenants = bound if bound is not None else _tenants.get()
    if tenants is None:
        if _cross.get():
            return UNRESTRICTED
        raise TenantRequiredError(
            f"{model_name} is multi-tenant and no tenant is set: use `with tenant(...)`, "
            "Repository(..., tenant=...), or the explicit cross_tenant() opt-out"
        )
    return Scope(tenants, tenants[0])
