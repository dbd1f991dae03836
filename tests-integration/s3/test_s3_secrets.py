"""No secret in anything S3 produces: chained SDK errors, and every SDK logger at DEBUG.

The credentials come from the environment (boto's default chain), so storeroom never saw them
and cannot have registered them: only the shapes they travel in can mask them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from _secrets import assert_hidden, error_of
from _services import free_port
from storeroom.errors import StorageError
from storeroom_s3 import AsyncS3Storage, EndpointUnreachableError, S3Storage


def with_userinfo(endpoint: str, user: str, password: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{user}:{password}@{parts.netloc}"


@pytest.fixture
def env_credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Credentials only boto's default chain knows (never given to storeroom, never registered)."""
    creds = {
        "AWS_ACCESS_KEY_ID": "AKIAENVCHAIN" + uuid.uuid4().hex[:8].upper(),
        "AWS_SECRET_ACCESS_KEY": "env-chain-secret-" + uuid.uuid4().hex,
        "AWS_SESSION_TOKEN": "env-chain-session-token-" + uuid.uuid4().hex,
    }
    for name, value in creds.items():
        monkeypatch.setenv(name, value)
    return creds


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.usefixtures("env_credentials")
def test_endpoint_userinfo_never_in_the_chained_error(flavour: str) -> None:
    password = "endpoint-pw-" + uuid.uuid4().hex
    options: dict[str, Any] = {
        "endpoint_url": f"http://s3user:{password}@127.0.0.1:{free_port()}",
        "region": "us-east-1",
        "max_attempts": 1,
        "connect_timeout": 2,
    }
    store = S3Storage if flavour == "sync" else AsyncS3Storage
    error = error_of(flavour, lambda: store("storeroom-unreachable", **options), lambda st: st.write("k", b"v"))
    # aiohttp refuses a URL with userinfo next to the Authorization header: a StorageError too
    assert isinstance(error, EndpointUnreachableError if flavour == "sync" else StorageError)
    assert error.__cause__ is not None
    assert_hidden(error, password)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_no_secret_from_any_logger_at_debug(
    s3_endpoint: str, bucket: str, env_credentials: dict[str, str], caplog: pytest.LogCaptureFixture, flavour: str
) -> None:
    password = "endpoint-pw-" + uuid.uuid4().hex
    # aiohttp cannot send a URL with userinfo next to the Authorization header: sync only
    endpoint = with_userinfo(s3_endpoint, "s3user", password) if flavour == "sync" else s3_endpoint
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records
    options: dict[str, Any] = {"endpoint_url": endpoint, "region": "us-east-1", "part_size": "5 MiB"}
    big = b"x" * (6 * 1024 * 1024)  # multipart
    if flavour == "sync":
        with S3Storage(bucket, **options) as st:
            st.write("logged/a", b"x")
            st.write("logged/big", big)
            st.read("logged/a")
            st.copy("logged/a", "logged/b")
            st.list_keys("logged/")
            st.presigned_url("logged/a")
            st.delete_many(["logged/a", "logged/b", "logged/big"])
    else:

        async def run() -> None:
            async with AsyncS3Storage(bucket, **options) as st:
                await st.write("logged/a", b"x")
                await st.write("logged/big", big)
                await st.read("logged/a")
                await st.copy("logged/a", "logged/b")
                await st.list_keys("logged/")
                await st.presigned_url("logged/a")
                await st.delete_many(["logged/a", "logged/b", "logged/big"])

        asyncio.run(run())
    names = {r.name for r in caplog.records}
    assert {"botocore.regions", "botocore.endpoint", "botocore.auth", "botocore.parsers"} <= names, names
    for secret in (password, env_credentials["AWS_SECRET_ACCESS_KEY"], env_credentials["AWS_SESSION_TOKEN"]):
        leaks = sorted({r.name for r in caplog.records if secret in r.getMessage() or secret in (r.exc_text or "")})
        assert not leaks, f"{secret[:12]}... logged by {leaks}"
