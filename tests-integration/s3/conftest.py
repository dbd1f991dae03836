"""Fixtures for the S3 backend against moto's server: a unique bucket per test class.

The credentials are made up (moto accepts any) but distinctive, so redaction tests
can look for them and registering them as secrets masks nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from _proxy import CuttingProxy

ACCESS_KEY_ID = "AKIASTOREROOMS3TEST"
SECRET_ACCESS_KEY = "storeroom-s3-secret-" + uuid.uuid4().hex
REGION = "us-east-1"


def unique_bucket(label: str = "t") -> str:
    return f"storeroom-{label}-{uuid.uuid4().hex[:16]}"


def admin_client(endpoint: str) -> Any:
    """A plain boto3 client for arranging and inspecting the bucket behind the store's back."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required"),
    )


def pending_uploads(admin: Any, bucket: str, prefix: str = "") -> list[str]:
    """Keys with an incomplete multipart upload (what an aborted upload must not leave)."""
    response = admin.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return [u["Key"] for u in response.get("Uploads", [])]


def empty_bucket(admin: Any, bucket: str) -> None:
    for upload in admin.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
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
