"""examples/fastapi_app (``hatch run fastapi-demo``) served by uvicorn and used as its README says."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from storeroom_fastapi.testing import serve

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fastapi_app" / "main.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("storeroom_fastapi_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(example: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.chdir(tmp_path)  # the embedded default keeps its data under ./var
    for name in [n for n in __import__("os").environ if n.startswith("STOREROOM_")]:
        monkeypatch.delenv(name)
    with serve(example.app) as base, httpx.Client(base_url=base, headers={"X-Tenant-ID": "acme"}) as c:
        yield c
    assert (tmp_path / "var" / "storeroom.db").is_file()


def test_documents_with_files_per_tenant(client: httpx.Client, tmp_path: Path) -> None:
    created = client.post(
        "/documents",
        params={"title": "Plan", "filename": "plan.txt"},
        content=b"the plan",
        headers={"Content-Type": "text/plain"},
    )
    assert created.status_code == 201, created.text
    doc = created.json()
    assert doc["file"]["filename"] == "plan.txt"
    assert (tmp_path / "var" / "objects" / doc["file"]["key"]).read_bytes() == b"the plan"

    form = client.post(
        "/documents/form", data={"title": "Scan"}, files={"file": ("scan.pdf", b"%PDF-1.7", "application/pdf")}
    )
    assert form.status_code == 201, form.text
    assert [d["title"] for d in client.get("/documents").json()] == ["Scan", "Plan"]
    assert client.get("/documents", headers={"X-Tenant-ID": "globex"}).json() == []

    file = client.get(f"/documents/{doc['id']}/file", headers={"Range": "bytes=4-7"})
    assert (file.status_code, file.content) == (206, b"plan")
    assert client.get(f"/documents/{doc['id']}/file", headers={"X-Tenant-ID": "globex"}).status_code == 404

    refused = client.post(
        "/documents", params={"title": "x"}, content=b"MZ", headers={"Content-Type": "application/x-msdownload"}
    )
    assert refused.status_code == 415

    replaced = client.put(
        f"/documents/{doc['id']}/file",
        params={"filename": "v2.txt"},
        content=b"v2",
        headers={"Content-Type": "text/plain"},
    )
    assert replaced.status_code == 200, replaced.text
    assert not (tmp_path / "var" / "objects" / doc["file"]["key"]).exists()  # the old file, after the commit
    new_key = replaced.json()["file"]["key"]

    assert client.delete(f"/documents/{doc['id']}").status_code == 204
    assert client.get(f"/documents/{doc['id']}").status_code == 404
    assert not (tmp_path / "var" / "objects" / new_key).exists()
    assert client.get("/health").json()["status"] == "healthy"
