"""Fixtures for storeroom-fastapi against real servers: S3 on moto, PostgreSQL, MariaDB."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

ACCESS_KEY_ID = "AKIASTOREROOMFASTAPI"
SECRET_ACCESS_KEY = "storeroom-fastapi-secret-" + uuid.uuid4().hex


@pytest.fixture
def s3_files(s3_endpoint: str) -> dict[str, Any]:
    """Settings of an S3 storage in a bucket of its own on moto."""
    return {
        "backend": "s3",
        "bucket": f"storeroom-fastapi-{uuid.uuid4().hex[:12]}",
        "endpoint_url": s3_endpoint,
        "region": "us-east-1",
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
        "create_bucket": True,
    }
