"""Multipart forms streamed to the storage (upload_form) over real HTTP."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

from _fastapi_app import MAX_SIZE, Env

BOUNDARY = "storeroomTESTboundary"


def _form(*parts: tuple[str, str | None, str | None, bytes], close: bool = True) -> bytes:
    """A multipart/form-data body: (name, filename, content type, value) per part."""
    out = b""
    for name, filename, ctype, value in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + value + b"\r\n"
    return out + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def test_a_browser_style_form_is_stored_with_its_fields(env: Env) -> None:
    data = bytes(range(256)) * 2000
    with env.client() as client:  # httpx builds the body as a browser would
        response = client.post(
            "/documents/stream",
            data={"title": "streamed", "note": "naïve ☕"},
            files={"file": ("plan.pdf", data, "application/pdf")},
        )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["fields"] == {"title": "streamed", "note": "naïve ☕"}
    ref = body["file"]
    assert (ref["filename"], ref["content_type"], ref["size"]) == ("plan.pdf", "application/pdf", len(data))
    assert ref["checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert env.room.storage("files").read(ref["key"]) == data
    assert env.row_count() == 1


def test_fields_after_the_file_are_read_too(env: Env) -> None:
    body = _form(("file", "a.txt", "text/plain", b"abc"), ("title", None, None, b"after"))
    with env.client() as client:
        response = client.post("/documents/stream", content=body, headers=HEADERS)
    assert response.status_code == 201, response.text
    assert response.json()["fields"] == {"title": "after"}


def test_a_file_over_the_limit_is_413_and_nothing_is_kept(env: Env) -> None:
    def chunked() -> Iterator[bytes]:  # no Content-Length: refused while streaming
        yield _form(("title", None, None, b"t"), close=False)
        yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
        for _ in range(8):
            yield b"x" * (MAX_SIZE // 4)
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    with env.client() as client:
        response = client.post("/documents/stream", content=chunked(), headers=HEADERS)
    assert response.status_code == 413, response.text
    assert env.object_keys() == []
    assert env.temp_files() == []
    assert env.row_count() == 0


def test_a_declared_length_past_the_allowance_is_refused_before_reading(env: Env) -> None:
    url = urlsplit(env.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            f"POST /forms/docs HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {10 * MAX_SIZE}\r\n\r\n".encode()
        )
        head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 413 "), head[:200]
    assert env.object_keys() == []


def test_a_refused_file_type_is_415_before_its_bytes(env: Env) -> None:
    body = _form(("file", "x.png", "image/png", b"\x89PNG" * 1000))
    with env.client() as client:
        response = client.post("/forms/text", content=body, headers=HEADERS)
        not_a_form = client.post("/forms/text", content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert not_a_form.status_code == 415
    assert env.object_keys() == []


def test_a_second_file_is_400_and_the_first_is_deleted(env: Env) -> None:
    body = _form(("file", "a.txt", "text/plain", b"one"), ("other", "b.txt", "text/plain", b"two"))
    with env.client() as client:
        response = client.post("/forms/docs", content=body, headers=HEADERS)
    assert response.status_code == 400
    assert env.object_keys() == []


def test_a_failing_endpoint_undoes_the_streamed_file_with_the_unit(env: Env) -> None:
    body = _form(("file", "a.txt", "text/plain", b"one"), ("fail", None, None, b"yes"))
    with env.client() as client:
        response = client.post("/documents/stream", content=body, headers=HEADERS)
    assert response.status_code == 409
    assert env.object_keys() == []
    assert env.row_count() == 0


def test_a_form_without_the_closing_boundary_stores_nothing(env: Env) -> None:
    body = _form(("file", "a.txt", "text/plain", b"partial" * 1000), close=False)
    with env.client() as client:
        response = client.post("/forms/docs", content=body, headers=HEADERS)
        missing = client.post("/forms/docs", content=_form(("title", None, None, b"t")), headers=HEADERS)
    assert response.status_code == 400
    assert missing.status_code == 400  # no file field
    assert env.object_keys() == []
    assert env.temp_files() == []


def test_a_client_that_disconnects_mid_file_leaves_nothing(env: Env) -> None:
    url = urlsplit(env.base_url)
    head = _form(close=False) + (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'.encode()
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            f"POST /forms/docs HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {MAX_SIZE // 2}\r\n\r\n".encode()
            + head
            + b"y" * 100_000
        )
        time.sleep(0.3)  # the server is writing the file part when the connection goes
    time.sleep(1.0)  # for it to see the disconnect and drop what it had written
    assert env.object_keys() == []
    assert env.temp_files() == []
    with httpx.Client(base_url=env.base_url) as client:  # and the server is fine
        assert client.get("/health").status_code == 200
