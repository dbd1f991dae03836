"""Fixtures for the S3 backend: moto's server (most tests), and s3rver as a second implementation.

The moto credentials are made up (moto accepts any) but distinctive, so redaction
tests can look for them and registering them as secrets masks nothing else. s3rver
checks signatures against its one built-in key pair.

Tests that must hold on every S3 server take ``s3_server`` (parametrized: moto, then
s3rver) and a fresh ``server_bucket`` on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from _proxy import CuttingProxy

ACCESS_KEY_ID = "AKIASTOREROOMS3TEST"
SECRET_ACCESS_KEY = "storeroom-s3-secret-" + uuid.uuid4().hex
REGION = "us-east-1"


def unique_bucket(label: str = "t") -> str:
    return f"storeroom-{label}-{uuid.uuid4().hex[:16]}"


def admin_client(endpoint: str, access_key_id: str = ACCESS_KEY_ID, secret_access_key: str = SECRET_ACCESS_KEY) -> Any:
    """A plain boto3 client for arranging and inspecting the bucket behind the store's back."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required"),
    )


@dataclass(frozen=True)
class S3Server:
    """One S3 implementation the tests run against, with what it is known to lack."""

    name: str
    endpoint: str
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = SECRET_ACCESS_KEY
    #: ListMultipartUploads works (s3rver answers NotImplemented)
    lists_uploads: bool = True
    #: the server enforces If-None-Match: * (s3rver ignores it)
    conditional_writes: bool = True

    def admin(self) -> Any:
        return admin_client(self.endpoint, self.access_key_id, self.secret_access_key)

    def options(self, **extra: Any) -> dict[str, Any]:
        """Keyword options for S3Storage / AsyncS3Storage, bucket excluded."""
        return {
            "endpoint_url": self.endpoint,
            "region": REGION,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            **extra,
        }

    def uploads(self, bucket: str, prefix: str = "") -> list[str] | None:
        """Keys with an incomplete multipart upload; None where the server cannot list them."""
        return pending_uploads(self.admin(), bucket, prefix) if self.lists_uploads else None

    def new_bucket(self) -> str:
        name = unique_bucket()
        self.admin().create_bucket(Bucket=name)
        return name

    def empty(self, bucket: str) -> None:
        """Remove every object (and pending upload, where the server can list them)."""
        empty_bucket(self.admin(), bucket, uploads=self.lists_uploads)

    def drop_bucket(self, bucket: str) -> None:
        self.empty(bucket)
        self.admin().delete_bucket(Bucket=bucket)


def pending_uploads(admin: Any, bucket: str, prefix: str = "") -> list[str]:
    """Keys with an incomplete multipart upload (what an aborted upload must not leave)."""
    response = admin.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return [u["Key"] for u in response.get("Uploads", [])]


def empty_bucket(admin: Any, bucket: str, *, uploads: bool = True) -> None:
    for upload in admin.list_multipart_uploads(Bucket=bucket).get("Uploads", []) if uploads else ():
        admin.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    paginator = admin.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            admin.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


@pytest.fixture(scope="session")
def s3_admin(s3_endpoint: str) -> Any:
    return admin_client(s3_endpoint)


@pytest.fixture(scope="class")
def bucket(s3_admin: Any) -> Iterator[str]:
    name = unique_bucket()
    s3_admin.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3_admin, name)
    s3_admin.delete_bucket(Bucket=name)


@pytest.fixture(scope="session")
def s3_uploads(s3_admin: Any) -> Any:
    """``s3_uploads(bucket, prefix="")`` -> keys with an incomplete multipart upload."""
    return lambda bucket, prefix="": pending_uploads(s3_admin, bucket, prefix)


@pytest.fixture(scope="session")
def s3_empty(s3_admin: Any) -> Any:
    """``s3_empty(bucket)`` removes every object and pending upload."""
    return lambda bucket: empty_bucket(s3_admin, bucket)


@pytest.fixture
def s3_options(s3_endpoint: str) -> dict[str, Any]:
    """Keyword options for S3Storage / AsyncS3Storage, bucket excluded."""
    return {
        "endpoint_url": s3_endpoint,
        "region": REGION,
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
    }


@pytest.fixture
def cutting_proxy(s3_endpoint: str) -> Iterator[Callable[[int], CuttingProxy]]:
    """``cutting_proxy(n, times=1)`` -> a proxy to the S3 server that drops connections after n bytes."""
    from urllib.parse import urlsplit

    parts = urlsplit(s3_endpoint)
    proxies: list[CuttingProxy] = []

    def make(cut_after: int, times: int = 1) -> CuttingProxy:
        proxy = CuttingProxy((parts.hostname or "127.0.0.1", parts.port or 80), cut_after, times=times)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


# -- the second implementation, and tests that run on both -----------------------------------

#: s3rver's one built-in key pair (it checks signatures against it)
S3RVER_KEY = "S3RVER"


@pytest.fixture(scope="session")
def moto_server(s3_endpoint: str) -> S3Server:
    return S3Server("moto", s3_endpoint)


@pytest.fixture(scope="session")
def s3rver_server(s3rver_endpoint: str) -> S3Server:
    return S3Server(
        "s3rver",
        s3rver_endpoint,
        access_key_id=S3RVER_KEY,
        secret_access_key=S3RVER_KEY,
        lists_uploads=False,
        conditional_writes=False,
    )


@pytest.fixture(params=["moto", "s3rver"])
def s3_server(request: pytest.FixtureRequest) -> S3Server:
    """Each S3 implementation in turn: a guarantee must hold on both."""
    server: S3Server = request.getfixturevalue(f"{request.param}_server")
    return server


@pytest.fixture
def server_bucket(s3_server: S3Server) -> Iterator[str]:
    """A fresh bucket on ``s3_server``, removed afterwards."""
    name = s3_server.new_bucket()
    yield name
    s3_server.drop_bucket(name)


@pytest.fixture(scope="class")
def s3rver_bucket(s3rver_server: S3Server) -> Iterator[str]:
    """One bucket on s3rver per test class (the conformance classes empty it per test)."""
    name = s3rver_server.new_bucket()
    yield name
    s3rver_server.drop_bucket(name)
