"""The core conformance suites on S3: moto's server (sync and async, with and without a prefix), and s3rver.

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

from storeroom.errors import InconsistentResponseError, InvalidKeyError
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


# -- s3rver, a second S3 implementation ------------------------------------------------------
#
# What s3rver 3 lacks, each marked where it shows (strict xfails: the test must fail, and with
# exactly this error, so a storeroom bug cannot hide behind a mark):
# - If-None-Match: ignored, so create-only writes are refused (supports_create_only = False);
# - key order: it lists its storage folders depth-first ("a/b" before "a-c" and "a"), so
#   listings of keys beside a same-named folder are out of order: storeroom raises; across
#   pages it can drop those keys and stay in order, which no client can detect;
# - ranges ending at byte 0: "bytes=0-0" gets the whole object: storeroom raises;
# - atomic overwrites: content and metadata are two files, so racing writers can tear them
#   (a race: marked non-strict);
# - ListMultipartUploads and AbortMultipartUpload (NotImplemented / MethodNotAllowed), so a
#   failed multipart upload stays, and the error says so (see test_s3_guarantees.py).

_FOLDER_ORDER = pytest.mark.xfail(
    raises=InconsistentResponseError,
    reason="s3rver lists its storage folders depth-first, not in key order ('a/b' before 'a-c' and 'a')",
)
_FOLDERS_LOST = pytest.mark.xfail(
    raises=AssertionError,
    reason="s3rver resumes a page after the last key it sent, by string order, so after its depth-first walk "
    "the keys beside a same-named folder are lost across pages, with the rest in order: no client can see that",
)
_RANGE_ZERO = pytest.mark.xfail(
    raises=InconsistentResponseError, reason="s3rver answers Range: bytes=0-0 with the whole object"
)
# Not strict: a race, so it fails only when two writers interleave (seen in a full run).
_TORN_OVERWRITES = pytest.mark.xfail(
    strict=False,
    raises=AssertionError,
    reason="s3rver writes an object's content and its metadata as two files, so concurrent overwrites "
    "can leave the content of one write under the metadata of another",
)


class _S3rverFlags(_S3Flags):
    supports_create_only = False  # s3rver ignores If-None-Match, so storeroom refuses create-only writes
    concurrency = 8


class TestS3rverStorage(_S3rverFlags, ObjectStorageConformance):
    @pytest.fixture
    def storage(self, s3rver_bucket: str, s3rver_server: Any) -> Iterator[S3Storage]:
        s3rver_server.empty(s3rver_bucket)
        with S3Storage(s3rver_bucket, name="files", **_options(s3rver_server.options())) as store:
            yield store

    @_FOLDER_ORDER
    def test_key_and_folder_of_same_name(self, storage: ObjectStorage) -> None:
        super().test_key_and_folder_of_same_name(storage)

    @_FOLDERS_LOST
    def test_list_order_is_utf8_byte_order(self, storage: ObjectStorage) -> None:
        super().test_list_order_is_utf8_byte_order(storage)

    @_FOLDER_ORDER
    def test_list_prefix_is_a_string_prefix(self, storage: ObjectStorage) -> None:
        super().test_list_prefix_is_a_string_prefix(storage)

    @_FOLDER_ORDER
    def test_list_start_after(self, storage: ObjectStorage) -> None:
        super().test_list_start_after(storage)

    @_RANGE_ZERO
    def test_read_range_across_chunk_boundaries(self, storage: ObjectStorage) -> None:
        super().test_read_range_across_chunk_boundaries(storage)

    @_TORN_OVERWRITES
    def test_concurrent_overwrites_stay_consistent(self, storage: ObjectStorage) -> None:
        super().test_concurrent_overwrites_stay_consistent(storage)


class TestAsyncS3rverStorage(_S3rverFlags, AsyncObjectStorageConformance):
    @pytest_asyncio.fixture
    async def async_storage(self, s3rver_bucket: str, s3rver_server: Any) -> AsyncIterator[AsyncS3Storage]:
        s3rver_server.empty(s3rver_bucket)
        async with AsyncS3Storage(s3rver_bucket, name="files", **_options(s3rver_server.options())) as store:
            yield store

    @_FOLDER_ORDER
    async def test_key_and_folder_of_same_name(self, async_storage: AsyncObjectStorage) -> None:
        await super().test_key_and_folder_of_same_name(async_storage)

    @_FOLDERS_LOST
    async def test_list_order_is_utf8_byte_order(self, async_storage: AsyncObjectStorage) -> None:
        await super().test_list_order_is_utf8_byte_order(async_storage)

    @_FOLDER_ORDER
    async def test_list_prefix_is_a_string_prefix(self, async_storage: AsyncObjectStorage) -> None:
        await super().test_list_prefix_is_a_string_prefix(async_storage)

    @_TORN_OVERWRITES
    async def test_concurrent_overwrites_stay_consistent(self, async_storage: AsyncObjectStorage) -> None:
        await super().test_concurrent_overwrites_stay_consistent(async_storage)
