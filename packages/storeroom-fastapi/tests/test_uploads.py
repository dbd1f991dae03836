"""Uploads over real HTTP: streamed through a policy, refused (413, 415) before anything is stored."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from _fastapi_app import MAX_SIZE, Env


def _chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield b"z" * n
        sent += n


def test_the_raw_body_is_stored_with_its_type_size_and_checksum(env: Env) -> None:
    body = bytes(range(256)) * 1000
    with env.client() as client:
        response = client.put("/raw/docs", content=body, headers={"Content-Type": "application/pdf"})
    assert response.status_code == 200, response.text
    ref = response.json()
    assert ref["size"] == len(body)
    assert ref["content_type"] == "application/pdf"
    assert ref["checksum"] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert ref["key"].startswith("docs/")
    info = env.room.storage("files").stat(ref["key"])
    assert (info.size, info.content_type) == (len(body), "application/pdf")
    assert env.room.storage("files").read(ref["key"]) == body


def test_a_chunked_body_without_a_length_is_streamed(env: Env) -> None:
    with env.client() as client:
        response = client.put("/raw/docs", content=_chunks(MAX_SIZE))  # exactly the limit
    assert response.status_code == 200, response.text
    assert response.json()["size"] == MAX_SIZE


def test_a_chosen_key_goes_under_the_prefix(env: Env) -> None:
    with env.client() as client:
        response = client.put("/raw/docs", params={"key": "reports/q3.txt"}, content=b"q3")
    assert response.json()["key"] == "docs/reports/q3.txt"


def test_too_large_with_a_content_length_is_refused_before_the_body_is_read(env: Env) -> None:
    """Headers announcing 10 GiB and not one byte of body: the 413 comes back at once, so the
    server decided from the header alone."""
    url = urlsplit(env.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            b"PUT /raw/docs HTTP/1.1\r\nHost: test\r\nContent-Type: application/pdf\r\n"
            b"Content-Length: 10737418240\r\n\r\n"
        )
        head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 413 "), head[:200]
    assert b"ContentTooLargeError" in head or b"content-length" in head.lower()
    assert env.object_keys() == []
    assert env.temp_files() == []


@pytest.mark.parametrize("size", [MAX_SIZE + 1, 64 * MAX_SIZE])
def test_too_large_with_a_content_length_sent_in_full(env: Env, size: int) -> None:
    """The client sends the whole body before it reads: it still gets the 413 (uvicorn answers
    and closes the connection; httpx reads the answer after its write fails)."""
    with env.client() as client:
        response = client.put("/raw/docs", content=b"x" * size)
    assert response.status_code == 413
    assert response.json()["error"] == "ContentTooLargeError"
    assert env.object_keys() == []
    assert env.temp_files() == []


def test_too_large_without_a_content_length_is_refused_while_streaming(env: Env) -> None:
    with env.client() as client:
        response = client.put("/raw/docs", content=_chunks(4 * MAX_SIZE))
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "ContentTooLargeError"
    assert env.object_keys() == []
    assert env.temp_files() == []


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf"])
def test_a_type_the_policy_refuses_is_415_and_nothing_is_stored(env: Env, content_type: str) -> None:
    with env.client() as client:
        response = client.put("/raw/text", content=b"x" * 1000, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert response.json()["error"] == "ContentTypeNotAllowedError"
    assert env.object_keys() == []


def test_a_malformed_content_type_is_415(env: Env) -> None:
    with env.client() as client:
        response = client.put("/raw/docs", content=b"x", headers={"Content-Type": "not a type"})
    assert response.status_code == 415
    assert env.object_keys() == []


def test_the_type_is_checked_before_the_size(env: Env) -> None:
    with env.client() as client:
        response = client.put("/raw/text", content=b"x" * (MAX_SIZE + 1), headers={"Content-Type": "image/png"})
    assert response.status_code == 415


def test_a_text_family_type_is_accepted(env: Env) -> None:
    with env.client() as client:
        response = client.put("/raw/text", content=b"hello", headers={"Content-Type": "text/csv; charset=utf-8"})
    assert response.status_code == 200, response.text
    assert response.json()["content_type"] == "text/csv; charset=utf-8"


def test_an_upload_file_from_a_form_is_stored_with_its_name_and_type(env: Env) -> None:
    with env.client() as client:
        response = client.post(
            "/documents/form", params={"title": "form"}, files={"file": ("report.pdf", b"%PDF-1.7", "application/pdf")}
        )
    assert response.status_code == 201, response.text
    ref = response.json()["file"]
    assert (ref["filename"], ref["content_type"], ref["size"]) == ("report.pdf", "application/pdf", 8)
    assert env.room.storage("files").read(ref["key"]) == b"%PDF-1.7"


def test_an_upload_file_too_large_is_413_and_leaves_neither_row_nor_object(env: Env) -> None:
    with env.client() as client:
        response = client.post(
            "/documents/form", params={"title": "big"}, files={"file": ("big.bin", b"x" * (MAX_SIZE + 1))}
        )
    assert response.status_code == 413
    assert env.row_count() == 0
    assert env.object_keys() == []


def test_expect_100_continue_is_refused_before_the_body_is_sent(env: Env) -> None:
    """curl sends ``Expect: 100-continue`` for large bodies: a refusal comes instead of the 100,
    so the client never sends the body; an accepted upload gets the 100 once it is read."""
    url = urlsplit(env.base_url)
    head = "PUT /raw/docs HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n"
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.format(MAX_SIZE + 1).encode())
        refused = sock.recv(65536)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.format(5).encode())
        go_ahead = sock.recv(65536)
        sock.sendall(b"hello")
        stored = b""
        while b'"size":5' not in stored:
            stored += sock.recv(65536)
    assert refused.startswith(b"HTTP/1.1 413 ")
    assert go_ahead.startswith(b"HTTP/1.1 100 ")
    assert len(env.object_keys()) == 1
