"""The health route with a database that cannot be reached (a port nothing listens on): 503."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from _services import free_port
from fastapi import FastAPI
from storeroom import Storeroom
from storeroom_fastapi import health_router, storeroom_lifespan
from storeroom_fastapi.testing import serve

PASSWORD = "fastapi-health-pw-91c2"


def _served_health(tmp_path: Path, database: dict[str, Any]) -> httpx.Response:
    settings = {
        "databases": {"main": database},
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "objects")}},
    }
    app = FastAPI(lifespan=storeroom_lifespan(lambda: Storeroom.from_settings(settings, embedded_default=False)))
    app.include_router(health_router(timeout=5.0))
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        return client.get("/health")


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_an_unreachable_database_is_503(tmp_path: Path, scheme: str) -> None:
    url = f"{scheme}://app:{PASSWORD}@127.0.0.1:{free_port()}/test"
    response = _served_health(tmp_path, {"url": url, "connect_timeout": 2})
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["components"]["databases.main"]["status"] == "unhealthy"
    assert body["components"]["storages.files"]["status"] == "healthy"
    assert PASSWORD not in response.text


def test_a_live_postgresql_is_200(tmp_path: Path, postgres_url: str) -> None:
    response = _served_health(tmp_path, {"url": postgres_url})
    assert response.status_code == 200
    assert response.json()["components"]["databases.main"]["status"] == "healthy"


def test_a_live_mariadb_is_200(tmp_path: Path, mariadb_url: str) -> None:
    response = _served_health(tmp_path, {"url": mariadb_url})
    assert response.status_code == 200
