"""Downloads over real HTTP: streaming, validators, 304, ranges (206, multipart, 416), changes mid-send."""

from __future__ import annotations

import os
from email import message_from_bytes

import httpx
import pytest

from _fastapi_app import Env

BODY = os.urandom(300_000)


@pytest.fixture
def stored(env: Env) -> str:
    key = "docs/sample.bin"
    env.room.storage("files").write(key, BODY, content_type="text/plain")
    return key


def test_the_whole_object_streams_with_its_headers(env: Env, stored: str) -> None:
    with env.client() as client:
        response = client.get(f"/objects/{stored}")
    assert response.status_code == 200
    assert response.content == BODY
    info = env.room.storage("files").stat(stored)
    assert response.headers["content-type"] == "text/plain"  # as stored: no charset invented
    assert response.headers["content-length"] == str(len(BODY))
    assert response.headers["etag"] == f'"{info.etag}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "last-modified" in response.headers


def test_head_sends_the_headers_only(env: Env, stored: str) -> None:
    with env.client() as client:
        response = client.head(f"/objects/{stored}", headers={"Range": "bytes=0-1"})  # Range ignored on HEAD
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(BODY))


def test_a_missing_object_is_404(env: Env) -> None:
    with env.client() as client:
        response = client.get("/objects/docs/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "ObjectNotFoundError"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-9", 0, 10), ("bytes=1000-", 1000, len(BODY)), ("bytes=-100", len(BODY) - 100, len(BODY))],
)
def test_a_single_range_is_206(env: Env, stored: str, header: str, start: int, end: int) -> None:
    with env.client() as client:
        response = client.get(f"/objects/{stored}", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == BODY[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(BODY)}"
    assert response.headers["content-length"] == str(end - start)


def test_a_range_longer_than_the_read_chunk_is_read_in_pieces(env: Env, stored: str) -> None:
    with env.client() as client:  # the route reads 64 KiB pieces
        response = client.get(f"/objects/{stored}", headers={"Range": "bytes=10-250009"})
    assert response.status_code == 206
    assert response.content == BODY[10:250010]


def test_several_ranges_are_a_multipart_byteranges_body(env: Env, stored: str) -> None:
    with env.client() as client:
        response = client.get(f"/objects/{stored}", headers={"Range": "bytes=0-4, 100-109, -3"})
    assert response.status_code == 206
    ctype = response.headers["content-type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    assert response.headers["content-length"] == str(len(response.content))
    message = message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + response.content)
    parts = [(p["Content-Range"], p.get_payload(decode=True)) for p in message.get_payload()]
    size = len(BODY)
    assert parts == [
        (f"bytes 0-4/{size}", BODY[0:5]),
        (f"bytes 100-109/{size}", BODY[100:110]),
        (f"bytes {size - 3}-{size - 1}/{size}", BODY[-3:]),
    ]


@pytest.mark.parametrize("header", ["bytes=300000-", "bytes=9-2", "bytes=x-y"])
def test_a_bad_or_unsatisfiable_range_is_416(env: Env, stored: str, header: str) -> None:
    with env.client() as client:
        response = client.get(f"/objects/{stored}", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(BODY)}"


def test_if_range_with_a_stale_validator_sends_the_whole_object(env: Env, stored: str) -> None:
    with env.client() as client:
        etag = client.get(f"/objects/{stored}").headers["etag"]
        fresh = client.get(f"/objects/{stored}", headers={"Range": "bytes=0-9", "If-Range": etag})
        stale = client.get(f"/objects/{stored}", headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert (fresh.status_code, fresh.content) == (206, BODY[:10])
    assert (stale.status_code, stale.content) == (200, BODY)


def test_if_none_match_gives_304_until_the_object_changes(env: Env, stored: str) -> None:
    with env.client() as client:
        first = client.get(f"/objects/{stored}")
        etag = first.headers["etag"]
        cached = client.get(f"/objects/{stored}", headers={"If-None-Match": etag})
        weak = client.get(f"/objects/{stored}", headers={"If-None-Match": f'"other", W/{etag}'})
        env.room.storage("files").write(stored, b"new content")
        changed = client.get(f"/objects/{stored}", headers={"If-None-Match": etag})
    assert (cached.status_code, cached.content) == (304, b"")
    assert cached.headers["etag"] == etag
    assert weak.status_code == 304
    assert (changed.status_code, changed.content) == (200, b"new content")
    assert changed.headers["etag"] != etag


def test_if_modified_since(env: Env, stored: str) -> None:
    with env.client() as client:
        last_modified = client.get(f"/objects/{stored}").headers["last-modified"]
        same = client.get(f"/objects/{stored}", headers={"If-Modified-Since": last_modified})
        older = client.get(f"/objects/{stored}", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert same.status_code == 304
    assert older.status_code == 200


def test_a_document_file_downloads_with_its_original_name(env: Env) -> None:
    with env.client() as client:
        created = client.post(
            "/documents",
            params={"title": "t", "filename": "résumé 2026.pdf"},
            content=b"%PDF",
            headers={"Content-Type": "application/pdf"},
        )
        response = client.get(f"/documents/{created.json()['id']}/file")
    assert response.status_code == 200
    assert response.content == b"%PDF"
    disposition = response.headers["content-disposition"]
    assert disposition == "attachment; filename=\"r_sum_ 2026.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.pdf"


def test_an_object_replaced_while_it_is_sent_cuts_the_response_short(env: Env) -> None:
    """The client never gets a complete body its ETag does not describe: the server checks the
    object again before the last byte and drops the connection when it changed."""
    key = "docs/big.bin"
    files = env.room.storage("files")
    files.write(key, b"a" * (32 * 1024 * 1024))
    with env.client() as client, client.stream("GET", f"/objects/{key}") as response:
        assert response.status_code == 200
        stream = response.iter_bytes()
        next(stream)
        files.write(key, b"b" * (32 * 1024 * 1024))
        with pytest.raises(httpx.RemoteProtocolError):
            for _ in stream:
                pass
