"""The request's tenant, and ORM repositories bound to it.

A *resolver* is a dependency that returns the request's tenant id or refuses the request:
400 when the header or the subdomain is missing or malformed, 401 when verified credentials
carry no tenant. A repository dependency built on one is bound to that tenant
(``AsyncRepository(Model, db, tenant=...)``), so every statement it sends is filtered by it:
there is no path from a request without a tenant to an unscoped query.

Tokens are not decoded here. ``claim_tenant`` takes the application's own dependency that
returns the *verified* claims (after checking the signature, issuer, audience and expiry with
the library and keys the application trusts): a tenant read from an unverified JWT would let
any client pick its tenant.

Needs ``storeroom-orm`` (``pip install "storeroom[fastapi,orm]"``): tenant ids follow its
rules (``storeroom_orm.tenant``).
"""

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from starlette.requests import Request

from fastapi import Depends, Header, HTTPException
from storeroom.errors import TenantError
from storeroom_fastapi.dependencies import RoomDep

__all__ = [
    "TenantResolver",
    "async_repository",
    "claim_tenant",
    "header_tenant",
    "repository",
    "subdomain_tenant",
]

TenantResolver = Callable[..., Awaitable[str]]
"""A dependency returning the request's (validated) tenant id, or raising ``HTTPException``."""


def _orm() -> Any:
    try:
        import storeroom_orm
    except ImportError:
        raise ImportError('tenants and repositories need storeroom-orm: pip install "storeroom[fastapi,orm]"') from None
    return storeroom_orm


def _checked(value: object, *, status: int, missing: str, headers: Mapping[str, str] | None = None) -> str:
    if value is None or value == "":
        raise HTTPException(status, detail=missing, headers=dict(headers) if headers else None)
    from storeroom_orm.tenancy import check_tenant_id

    try:
        return check_tenant_id(value)
    except TenantError as exc:
        raise HTTPException(status, detail=str(exc), headers=dict(headers) if headers else None) from None


def header_tenant(name: str = "X-Tenant-ID") -> TenantResolver:
    """The tenant from a request header (400 when it is missing or malformed).

    Only behind something that sets or checks the header (a gateway that authenticated the
    caller): on its own, any client can send any tenant.
    """
    _orm()

    async def tenant_from_header(
        value: Annotated[str | None, Header(alias=name, description="the tenant this request acts for")] = None,
    ) -> str:
        return _checked(value, status=400, missing=f"the {name} header is required")

    return tenant_from_header


def claim_tenant(claims: Callable[..., Any], claim: str = "tenant_id") -> TenantResolver:
    """The tenant from a claim of the caller's verified credentials (401 when there is none).

    ``claims`` is a dependency of the application that authenticates the request and returns
    its verified claims (a mapping, or an object with the claim as an attribute), raising 401
    itself for a missing or invalid token.
    """
    _orm()
    challenge = {"WWW-Authenticate": "Bearer"}

    async def tenant_from_claim(verified: Annotated[Any, Depends(claims)]) -> str:
        value = verified.get(claim) if isinstance(verified, Mapping) else getattr(verified, claim, None)
        if value is not None and not isinstance(value, str):
            raise HTTPException(401, detail=f"the {claim!r} claim is not a tenant id", headers=challenge)
        return _checked(value, status=401, missing=f"the credentials carry no {claim!r} claim", headers=challenge)

    return tenant_from_claim


def subdomain_tenant(domain: str) -> TenantResolver:
    """The tenant from the first label of the host: ``acme.example.com`` -> ``acme`` for
    ``domain="example.com"`` (400 for any other host). Pair it with Starlette's
    ``TrustedHostMiddleware``: the ``Host`` header comes from the client."""
    _orm()
    suffix = "." + domain.strip(".").lower()

    async def tenant_from_subdomain(request: Request) -> str:
        host = (request.headers.get("host") or "").lower()
        if not host.startswith("["):  # an IPv6 literal has no subdomain
            host = host.rsplit(":", 1)[0]
        label = host[: -len(suffix)] if host.endswith(suffix) else ""
        return _checked(label if "." not in label else None, status=400, missing=f"the host must be <tenant>{suffix}")

    return tenant_from_subdomain


def _bind(model: type[Any], tenant: TenantResolver | None, make: Callable[[Any, str | None], Any]) -> Any:
    info = getattr(model, "__orm__", None)
    if info is None:
        raise TypeError(f"{model!r} is not a storeroom_orm table model")
    if tenant is None:
        if info.multi_tenant:
            raise TypeError(
                f"{model.__name__} is multi-tenant: pass a tenant resolver (header_tenant(), claim_tenant(), "
                "subdomain_tenant() or your own dependency)"
            )

        async def shared_repository(room: RoomDep) -> Any:
            return make(room, None)

        return Depends(shared_repository)

    async def tenant_repository(room: RoomDep, tenant_id: Annotated[str, Depends(tenant)]) -> Any:
        return make(room, tenant_id)

    return Depends(tenant_repository)


@functools.cache
def async_repository(
    model: type[Any], tenant: TenantResolver | None = None, *, database: str | None = None, rls: bool = False
) -> Any:
    """``Depends`` giving ``AsyncRepository(model, room.async_database(database), tenant=<the request's>)``.

    Inside a request's unit of work (``async_unit_of_work`` on the same database) it joins the
    unit's transaction. ``tenant`` may be left out only for models with ``multi_tenant=False``.
    """
    orm = _orm()
    return _bind(
        model, tenant, lambda room, t: orm.AsyncRepository(model, room.async_database(database), tenant=t, rls=rls)
    )


@functools.cache
def repository(
    model: type[Any], tenant: TenantResolver | None = None, *, database: str | None = None, rls: bool = False
) -> Any:
    """The sync twin of :func:`async_repository`: a ``Repository`` over ``room.database(database)``."""
    orm = _orm()
    return _bind(model, tenant, lambda room, t: orm.Repository(model, room.database(database), tenant=t, rls=rls))
