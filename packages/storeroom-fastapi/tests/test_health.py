"""The health route over real HTTP: 200 healthy or degraded, 503 unhealthy."""

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx

from _fastapi_app import Env
from fastapi import FastAPI
from storeroom import HealthResult, HealthStatus, Storeroom
from storeroom_fastapi import AsyncDatabaseDep, health_report, health_router, storeroom_lifespan
from storeroom_fastapi.testing import serve


def test_healthy_is_200_with_every_component(env: Env) -> None:
    with env.client(None) as client:
        response = client.get("/health")
        head = client.head("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert set(body["components"]) == {"databases.main", "storages.files"}
    assert body["components"]["databases.main"]["status"] == "healthy"
    assert response.headers["cache-control"] == "no-store"
    assert head.status_code == 200


def _app(settings: dict[str, Any], **options: Any) -> FastAPI:
    app = FastAPI(lifespan=storeroom_lifespan(lambda: Storeroom.from_settings(settings, embedded_default=False)))
    app.include_router(health_router(**options))
    return app


def test_an_unusable_storage_is_503(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the storage root should be")
    settings = {
        "databases": {"main": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/h.db"}},
        "storages": {"files": {"backend": "local", "root": str(blocker / "objects")}},
    }
    with serve(_app(settings)) as base, httpx.Client(base_url=base) as client:
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["components"]["storages.files"]["status"] == "unhealthy"
    assert body["components"]["databases.main"]["status"] == "healthy"


def test_verbose_false_leaves_messages_out(tmp_path: Path) -> None:
    settings = {
        "databases": {"main": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/h.db"}},
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "o")}},
    }
    with serve(_app(settings, path="/healthz", verbose=False)) as base, httpx.Client(base_url=base) as client:
        response = client.get("/healthz")
    assert response.json() == {
        "status": "healthy",
        "components": {"databases.main": {"status": "healthy"}, "storages.files": {"status": "healthy"}},
    }


def test_an_exhausted_pool_is_degraded_and_still_200(tmp_path: Path) -> None:
    """Every connection of a one-connection pool held by a request: the database is DEGRADED
    (serving, slowly), and the probe must not take the pod out of service."""
    settings = {
        "databases": {
            "main": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/h.db", "pool": {"size": 1, "max_overflow": 0}}
        },
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "o")}},
    }
    app = _app(settings, timeout=2.0)
    held, release = threading.Event(), asyncio.Event()

    @app.post("/hold")
    async def hold(db: AsyncDatabaseDep) -> None:
        async with db.transaction() as tx:
            await tx.fetch_value("SELECT 1")
            held.set()
            await release.wait()

    @app.post("/release")
    async def release_it() -> None:
        release.set()

    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        holder = threading.Thread(target=lambda: httpx.post(f"{base}/hold", timeout=30))
        holder.start()
        try:
            assert held.wait(10)
            response = client.get("/health")
        finally:
            client.post("/release")
            holder.join(10)
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["components"]["databases.main"]["status"] == "degraded"


def test_the_report_is_the_worst_status() -> None:
    results = {
        "databases.main": HealthResult("databases.main", HealthStatus.DEGRADED, "pool busy"),
        "storages.files": HealthResult("storages.files", HealthStatus.HEALTHY, "ok"),
    }
    report = health_report(results)
    assert report["status"] == "degraded"
    assert report["components"]["databases.main"]["message"] == "pool busy"
