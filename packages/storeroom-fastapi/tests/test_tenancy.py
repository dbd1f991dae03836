"""Tenant resolvers and tenant-bound repositories over real HTTP: isolation, and no unscoped query."""

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import sqlalchemy as sa

from _fastapi_app import Env, unique
from fastapi import FastAPI, Header, HTTPException
from storeroom import Storeroom
from storeroom_fastapi import (
    async_repository,
    claim_tenant,
    header_tenant,
    install_error_handlers,
    repository,
    storeroom_lifespan,
    subdomain_tenant,
)
from storeroom_fastapi.testing import serve
from storeroom_orm import AsyncRepository, Field, Model, Repository


def test_two_tenants_see_only_their_own_documents(env: Env) -> None:
    with env.client("acme") as acme, env.client("globex") as globex:
        a = acme.post("/documents", params={"title": "acme plan"}, content=b"acme secret")
        g = globex.post("/documents", params={"title": "globex plan"}, content=b"globex secret")
        assert a.status_code == g.status_code == 201
        assert [d["title"] for d in acme.get("/documents").json()] == ["acme plan"]
        assert [d["title"] for d in globex.get("/documents").json()] == ["globex plan"]
        assert acme.get(f"/documents/{a.json()['id']}/file").content == b"acme secret"
        stolen = globex.get(f"/documents/{a.json()['id']}/file")
    assert stolen.status_code == 404
    assert b"acme" not in stolen.content


@pytest.mark.parametrize("tenant", [None, "", "a,b", "x" * 300])
def test_a_missing_or_malformed_tenant_is_400_before_anything_happens(env: Env, tenant: str | None) -> None:
    headers = {"X-Tenant-ID": tenant} if tenant is not None else {}
    with env.client(None) as client:
        listed = client.get("/documents", headers=headers)
        posted = client.post("/documents", params={"title": "t"}, content=b"data", headers=headers)
    assert listed.status_code == posted.status_code == 400
    assert env.row_count() == 0
    assert env.object_keys() == []


# -- the other resolvers, and the sync repository, on an application of their own ----------------

TOKENS = {"token-acme": {"sub": "alice", "tenant_id": "acme"}, "token-none": {"sub": "bob"}}


async def verified_claims(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Stands for the application's own token verification (signature, expiry, audience)."""
    token = (authorization or "").removeprefix("Bearer ")
    if token not in TOKENS:
        raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
    return TOKENS[token]


@pytest.fixture
def notes_app(tmp_path: Path) -> Iterator[str]:
    metadata = sa.MetaData()

    class Note(Model, table=unique("notes"), metadata=metadata):
        body: str

    settings = {
        "databases": {"main": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/notes.db"}},
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "objects")}},
    }
    with Storeroom.from_settings(settings, embedded_default=False) as room:
        metadata.create_all(room.database().engine)
        for tenant in ("acme", "globex"):
            Repository(Note, room.database(), tenant=tenant).create(Note(body=f"note of {tenant}"))
    app = FastAPI(lifespan=storeroom_lifespan(lambda: Storeroom.from_settings(settings, embedded_default=False)))
    install_error_handlers(app)
    by_claim = Annotated[AsyncRepository[Any], async_repository(Note, claim_tenant(verified_claims))]
    by_host = Annotated[AsyncRepository[Any], async_repository(Note, subdomain_tenant("example.test"))]
    by_header_sync = Annotated[Repository[Any], repository(Note, header_tenant())]

    @app.get("/claim")
    async def claim(notes: by_claim) -> list[str]:
        return [n.body for n in await notes.list()]

    @app.get("/host")
    async def host(notes: by_host) -> list[str]:
        return [n.body for n in await notes.list()]

    @app.get("/sync")
    def sync(notes: by_header_sync) -> list[str]:  # a def endpoint: runs in the thread pool
        return [n.body for n in notes.list()]

    with serve(app) as base_url:
        yield base_url


def test_the_tenant_from_a_verified_claim(notes_app: str) -> None:
    with httpx.Client(base_url=notes_app) as client:
        ok = client.get("/claim", headers={"Authorization": "Bearer token-acme"})
        no_claim = client.get("/claim", headers={"Authorization": "Bearer token-none"})
        no_token = client.get("/claim")
    assert (ok.status_code, ok.json()) == (200, ["note of acme"])
    assert no_claim.status_code == 401
    assert no_claim.headers["www-authenticate"] == "Bearer"
    assert no_token.status_code == 401


@pytest.mark.parametrize(
    ("host", "status", "body"),
    [
        ("globex.example.test", 200, ["note of globex"]),
        ("GLOBEX.example.test:8080", 200, ["note of globex"]),
        ("example.test", 400, None),
        ("a.b.example.test", 400, None),
        ("globex.example.test.evil", 400, None),
        ("[::1]:8000", 400, None),
    ],
)
def test_the_tenant_from_the_subdomain(notes_app: str, host: str, status: int, body: list[str] | None) -> None:
    with httpx.Client(base_url=notes_app) as client:
        response = client.get("/host", headers={"Host": host})
    assert response.status_code == status
    if body is not None:
        assert response.json() == body


def test_a_sync_repository_in_a_def_endpoint(notes_app: str) -> None:
    with httpx.Client(base_url=notes_app) as client:
        ok = client.get("/sync", headers={"X-Tenant-ID": "globex"})
        missing = client.get("/sync")
    assert (ok.status_code, ok.json()) == (200, ["note of globex"])
    assert missing.status_code == 400


def test_a_multi_tenant_model_needs_a_resolver() -> None:
    class Shared(Model, table=unique("shared"), metadata=sa.MetaData(), multi_tenant=False):
        name: str = Field(max_length=20)

    class Owned(Model, table=unique("owned"), metadata=sa.MetaData()):
        name: str = Field(max_length=20)

    assert async_repository(Shared) is async_repository(Shared)  # one dependency, resolved once per request
    with pytest.raises(TypeError, match="multi-tenant"):
        async_repository(Owned)
    with pytest.raises(TypeError, match="not a storeroom_orm table model"):
        repository(int, header_tenant())
