"""The core conformance suites on S3 (moto's server): sync and async, with and without a prefix.

Parts are made as small as S3 allows (5 MiB) and the "large" objects span three of
them, so streaming writes, failures and copies go through the multipart paths; the
prefixed classes also lower the multipart-copy threshold to exercise UploadPartCopy.
Every test ends by checking that no incomplete multipart upload was left behind.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from storeroom.errors import InvalidKeyError
from storeroom.storage import AsyncObjectStorage, ObjectStorage
from storeroom.testing.storage import AsyncObjectStorageConformance, ObjectStorageConformance
from storeroom_s3 import AsyncS3Storage, S3Storage

MiB = 1024 * 1024


class _S3Flags:
    supports_presigned_urls = True
    supports_key_as_prefix_folder = True
    listing_page_size = 3
    concurrency = 32  # the create-only race: 32 writers, exactly one winner
    large_object_size = 11 * MiB + 12345  # three 5 MiB parts


def _options(s3_options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**s3_options, "part_size": 5 * MiB, "list_page_size": 3, "max_pool_connections": 40, **extra}


class _Prefixed:
    """A fresh prefix per test inside the class's bucket: also proves the prefix isolates stores."""

    prefix_options: dict[str, Any] = {"multipart_copy_threshold": MiB}

    def test_longest_key(self, storage: ObjectStorage) -> None:  # type: ignore[override]
        # Overridden: S3 caps the whole bucket key at 1024 bytes and the store's prefix takes
        # len(prefix) + 1 of them, so a 1024-byte store key must fail before I/O instead.
        budget = 1024 - len(getattr(storage, "prefix", "")) - 1
        with pytest.raises(InvalidKeyError, match="too long for this store"):
            storage.write("k" * 1024, b"x")
        key = "/".join(["s" * 199] * 4) + "/" + "e" * (budget - 800)
        assert len(key.encode()) == budget
        storage.write(key, b"deep")
        assert storage.read(key) == b"deep"
        assert storage.list_keys() == [key]


class TestS3Storage(_S3Flags, ObjectStorageConformance):
    @pytest.fixture
    def storage(self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any) -> Iterator[S3Storage]:
        s3_empty(bucket)
        with S3Storage(bucket, name="files", **_options(s3_options)) as store:
            yield store
        assert s3_uploads(bucket) == []


class TestS3StoragePrefixed(_Prefixed, _S3Flags, ObjectStorageConformance):
    @pytest.fixture
    def storage(self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any) -> Iterator[S3Storage]:
        prefix = f"tenant-{uuid.uuid4().hex[:8]}"
        with S3Storage(bucket, prefix=prefix, **_options(s3_options, **self.prefix_options)) as store:
            yield store
        assert s3_uploads(bucket, prefix) == []


class TestAsyncS3Storage(_S3Flags, AsyncObjectStorageConformance):
    @pytest_asyncio.fixture
    async def async_storage(
        self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any
    ) -> AsyncIterator[AsyncS3Storage]:
        s3_empty(bucket)
        async with AsyncS3Storage(bucket, name="files", **_options(s3_options)) as store:
            yield store
        assert s3_uploads(bucket) == []


class TestAsyncS3StoragePrefixed(_S3Flags, AsyncObjectStorageConformance):
    @pytest_asyncio.fixture
    async def async_storage(
        self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any
    ) -> AsyncIterator[AsyncObjectStorage]:
        prefix = f"tenant-{uuid.uuid4().hex[:8]}"
        options = _options(s3_options, multipart_copy_threshold=MiB)
        async with AsyncS3Storage(bucket, prefix=prefix, **options) as store:
            yield store
        assert s3_uploads(bucket, prefix) == []
