"""The document application on PostgreSQL and S3 (moto) over real HTTP: units of work, streaming
to and from S3 (multipart upload, ranged reads), and the redirect to a presigned URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _fastapi_app import Env, served, settings_for

BIG = os.urandom(6 * 1024 * 1024 + 123)  # past S3's 5 MiB part size: a multipart upload


@pytest.fixture
def env(tmp_path: Path, postgres_url: str, s3_files: dict[str, Any]) -> Iterator[Env]:
    settings = settings_for(tmp_path, database={"backend": "postgres", "url": postgres_url}, files=s3_files)
    settings["policies"]["big"]["max_size"] = 64 * 1024 * 1024
    with served(tmp_path, settings) as e:
        yield e


def test_a_document_and_its_file_on_postgres_and_s3(env: Env) -> None:
    with env.client() as client:
        created = client.post("/documents", params={"title": "Q3", "filename": "q3.pdf"}, content=b"%PDF-1.7 q3")
        assert created.status_code == 201, created.text
        doc = created.json()["id"]
        file = client.get(f"/documents/{doc}/file")
        cached = client.get(f"/documents/{doc}/file", headers={"If-None-Match": file.headers["etag"]})
        other_tenant = client.get(f"/documents/{doc}/file", headers={"X-Tenant-ID": "globex"})
    assert (file.status_code, file.content) == (200, b"%PDF-1.7 q3")
    assert cached.status_code == 304
    assert other_tenant.status_code == 404
    assert env.row_count() == 1


@pytest.mark.parametrize(("fail", "status"), [("raise", 500), ("http", 409), ("commit", 409)])
def test_a_failing_request_leaves_neither_row_nor_object(env: Env, fail: str, status: int) -> None:
    with env.client() as client:
        response = client.post("/documents", params={"title": "doomed", "fail": fail}, content=b"x" * 100_000)
    assert response.status_code == status, response.text
    assert env.row_count() == 0
    assert env.object_keys() == []


def test_a_large_body_streams_to_s3_and_back_with_ranges(env: Env) -> None:
    with env.client() as client:
        stored = client.put("/raw/big", content=iter([BIG[i : i + 65536] for i in range(0, len(BIG), 65536)]))
        assert stored.status_code == 200, stored.text
        key = stored.json()["key"]
        whole = client.get(f"/objects/{key}")
        part = client.get(f"/objects/{key}", headers={"Range": "bytes=5000000-5300000"})
    assert whole.content == BIG
    assert (part.status_code, part.content) == (206, BIG[5_000_000:5_300_001])


def test_presigned_redirects_to_s3_which_serves_the_bytes_and_ranges(env: Env) -> None:
    key = "docs/presigned.bin"
    env.room.storage("files").write(key, BIG[:100_000], content_type="application/octet-stream")
    with env.client() as client:
        redirect = client.get(f"/objects/{key}", params={"presigned": "true"})
    assert redirect.status_code == 307
    location = redirect.headers["location"]
    assert location.startswith(env.settings["storages"]["files"]["endpoint_url"])
    assert "X-Amz-Signature=" in location
    assert redirect.headers["cache-control"] == "no-store"
    with env.client(follow_redirects=True) as client:
        followed = client.get(f"/objects/{key}", params={"presigned": "true"})
        ranged = client.get(f"/objects/{key}", params={"presigned": "true"}, headers={"Range": "bytes=10-19"})
    assert followed.content == BIG[:100_000]
    assert (ranged.status_code, ranged.content) == (206, BIG[10:20])


def test_presigned_falls_back_to_streaming_on_local_files(tmp_path: Path) -> None:
    with served(tmp_path) as local:
        local.room.storage("files").write("docs/x.txt", b"local bytes")
        with httpx.Client(base_url=local.base_url) as client:
            response = client.get("/objects/docs/x.txt", params={"presigned": "true"})
    assert (response.status_code, response.content) == (200, b"local bytes")
