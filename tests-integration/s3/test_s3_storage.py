"""What the conformance suite cannot see: the bucket's layout, S3 requests, errors, config."""

from __future__ import annotations

import asyncio
import logging
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from _services import free_port
from storeroom.errors import (
    ConfigurationError,
    ContentTooLargeError,
    ContentTypeNotAllowedError,
    InvalidKeyError,
    InvalidMetadataError,
    ObjectExistsError,
    StorageError,
)
from storeroom.health import HealthStatus
from storeroom.policy import StoragePolicy
from storeroom.room import Storeroom
from storeroom.testing.storage import payload
from storeroom_s3 import AsyncS3Storage, BucketNotFoundError, EndpointUnreachableError, S3Storage

MiB = 1024 * 1024


class Calls:
    """Counts the S3 operations a client really sends (botocore's own event hooks)."""

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-call.s3", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)

    def count(self, name: str) -> int:
        return self.names.count(name)


@pytest.fixture
def store(bucket: str, s3_options: dict[str, Any], s3_empty: Any) -> Iterator[S3Storage]:
    s3_empty(bucket)
    with S3Storage(bucket, part_size=5 * MiB, **s3_options) as st:
        yield st


def _bucket_keys(admin: Any, bucket: str) -> list[str]:
    keys: list[str] = []
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


class TestLayout:
    def test_prefix_isolates_stores_sharing_a_bucket(
        self, bucket: str, s3_options: dict[str, Any], s3_admin: Any, s3_empty: Any
    ) -> None:
        s3_empty(bucket)
        with (
            S3Storage(bucket, prefix="docs", **s3_options) as docs,
            S3Storage(bucket, prefix="docs2", **s3_options) as docs2,
        ):
            docs.write("a.txt", b"1")
            docs2.write("x/b.txt", b"2")
            docs2.write("a.txt", b"3")
            assert docs.list_keys() == ["a.txt"]
            assert docs2.list_keys() == ["a.txt", "x/b.txt"]
            assert docs.read("a.txt") == b"1"
            assert not docs.exists("x/b.txt")
            assert docs.delete_many(["a.txt", "x/b.txt"]) == 1
            assert docs2.list_keys() == ["a.txt", "x/b.txt"]
        assert _bucket_keys(s3_admin, bucket) == ["docs2/a.txt", "docs2/x/b.txt"]

    def test_prefix_slashes_are_normalised(self, bucket: str, s3_options: dict[str, Any], s3_admin: Any) -> None:
        with S3Storage(bucket, prefix="/nested/deeper/", **s3_options) as st:
            st.write("k", b"v")
            assert st.prefix == "nested/deeper"
        assert "nested/deeper/k" in _bucket_keys(s3_admin, bucket)

    def test_metadata_on_the_wire_is_ascii_and_readable_by_others(
        self, store: S3Storage, s3_admin: Any, bucket: str
    ) -> None:
        store.write("m", b"x", metadata={"plain": "abc", "u": "naïve 日本", "pad": " p "}, content_type="text/csv")
        raw = s3_admin.head_object(Bucket=bucket, Key="m")
        assert raw["ContentType"] == "text/csv"
        assert raw["Metadata"]["plain"] == "abc"
        assert all(v.isascii() for v in raw["Metadata"].values())
        assert raw["Metadata"]["u"].startswith("=?utf-8?")
        # and metadata another tool stored plainly reads back unchanged
        s3_admin.put_object(Bucket=bucket, Key="other", Body=b"y", Metadata={"Tool": "plain value"})
        assert store.get_metadata("other") == {"tool": "plain value"}

    def test_default_content_type_is_octet_stream(self, store: S3Storage, s3_admin: Any, bucket: str) -> None:
        store.write("d", b"x")
        assert s3_admin.head_object(Bucket=bucket, Key="d")["ContentType"] == "application/octet-stream"


class TestRequests:
    def test_small_body_is_one_put_large_is_multipart(self, store: S3Storage) -> None:
        calls = Calls(store.client)
        store.write("small", iter([b"a" * 1000, b"b" * 1000]))
        assert calls.names == ["PutObject"]
        calls.names.clear()
        data = payload(11 * MiB)
        store.write("large", iter([data]))
        assert calls.count("CreateMultipartUpload") == 1
        assert calls.count("UploadPart") == 3
        assert calls.count("CompleteMultipartUpload") == 1
        assert store.read("large") == data

    def test_known_length_part_size_grows_past_10000_parts(self, store: S3Storage) -> None:
        # a 100 GB body would need 12 MiB parts; the plan is checked without sending it
        plan = store._plan(100 * 1000**3)
        assert plan.first == 10 * MiB
        assert plan.first * 10_000 >= 100 * 1000**3

    def test_ranged_read_sends_a_range(self, store: S3Storage) -> None:
        store.write("r", b"0123456789")
        seen: list[str] = []
        store.client.meta.events.register(
            "before-call.s3.GetObject", lambda params, **_: seen.append(params["headers"].get("Range"))
        )
        assert store.read_range("r", 2, 5) == b"234"
        assert seen == ["bytes=2-4"]

    def test_listing_is_lazy_and_paginated(self, bucket: str, s3_options: dict[str, Any], s3_empty: Any) -> None:
        s3_empty(bucket)
        with S3Storage(bucket, list_page_size=2, **s3_options) as st:
            for i in range(7):
                st.write(f"l/{i}", b"x")
            calls = Calls(st.client)
            listing = st.list("l/")
            assert next(listing).key == "l/0"
            assert calls.count("ListObjectsV2") == 1
            assert [i.key for i in listing] == [f"l/{i}" for i in range(1, 7)]
            assert calls.count("ListObjectsV2") == 4

    def test_delete_many_batches_of_1000(self, store: S3Storage, s3_admin: Any, bucket: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        keys = [f"many/{i:05d}" for i in range(1003)]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda k: s3_admin.put_object(Bucket=bucket, Key=k, Body=b""), keys))
        calls = Calls(store.client)
        assert store.delete_many([*keys, "many/missing"]) == 1003
        assert calls.count("DeleteObjects") == 2
        assert store.list_keys("many/") == []

    def test_multipart_copy_path(self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any) -> None:
        s3_empty(bucket)
        data = payload(12 * MiB + 7, seed=4)
        options = {**s3_options, "part_size": 5 * MiB, "multipart_copy_threshold": MiB}
        with S3Storage(bucket, **options) as st:
            st.write("src", iter([data]), content_type="image/png", metadata={"k": "vé"})
            calls = Calls(st.client)
            info = st.copy("src", "dst")
            assert calls.count("UploadPartCopy") == 3 and calls.count("CopyObject") == 0
            assert info.size == len(data)
            assert st.read("dst") == data
            assert st.stat("dst").content_type == "image/png"
            assert st.get_metadata("dst") == {"k": "vé"}
            with pytest.raises(ObjectExistsError):
                st.copy("src", "dst", overwrite=False)
            st.move("dst", "moved", overwrite=False)
            assert st.list_keys() == ["moved", "src"]
        assert s3_uploads(bucket) == []

    def test_small_copy_is_one_copy_object(self, store: S3Storage) -> None:
        store.write("a", b"abc", metadata={"m": "1"})
        calls = Calls(store.client)
        store.copy("a", "b")
        assert calls.count("CopyObject") == 1 and calls.count("UploadPartCopy") == 0
        assert store.get_metadata("b") == {"m": "1"}

    def test_presigned_put_uploads(self, store: S3Storage) -> None:
        url = store.presigned_url("up/loaded", method="PUT", expires_in=60)
        assert "X-Amz-Signature=" in url
        request = urllib.request.Request(
            url, data=b"from a browser", method="PUT", headers={"Content-Type": "application/octet-stream"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert store.read("up/loaded") == b"from a browser"

    def test_create_bucket_on_first_use(self, s3_options: dict[str, Any], s3_admin: Any) -> None:
        name = f"storeroom-new-{uuid.uuid4().hex[:16]}"
        with S3Storage(name, **s3_options) as st, pytest.raises(BucketNotFoundError, match=name):
            st.write("k", b"v")
        with S3Storage(name, create_bucket=True, **s3_options) as st:
            st.write("k", b"v")
            assert st.read("k") == b"v"
            st.delete("k")
        s3_admin.delete_bucket(Bucket=name)


class TestBadInput:
    def test_key_too_long_with_prefix_fails_before_io(self, bucket: str, s3_options: dict[str, Any]) -> None:
        with S3Storage(bucket, prefix="p" * 20, **s3_options) as st:
            calls = Calls(st.client)
            with pytest.raises(InvalidKeyError, match="too long"):
                st.write("k" * 1004, b"x")
            with pytest.raises(InvalidKeyError):
                st.read("k" * 1004)
            assert calls.names == []

    @pytest.mark.parametrize(
        "metadata",
        [{"big": "é" * 800}, {"x": "日" * 600}, {"nämé": "x"}, {"bad name": "x"}],
        ids=["encoded-too-large", "cjk-too-large", "non-ascii-name", "space-in-name"],
    )
    def test_bad_metadata_fails_before_io(self, store: S3Storage, metadata: dict[str, str]) -> None:
        calls = Calls(store.client)
        with pytest.raises(InvalidMetadataError):
            store.write("m", b"x", metadata=metadata)
        assert calls.names == []

    def test_max_size_streamed_stores_nothing(self, store: S3Storage, s3_uploads: Any, bucket: str) -> None:
        with pytest.raises(ContentTooLargeError):
            store.write("big", (b"q" * MiB for _ in range(20)), max_size=15 * MiB)
        assert store.list_keys() == []
        assert s3_uploads(bucket) == []

    def test_policy_rejects_content_type(self, store: S3Storage) -> None:
        policy = StoragePolicy("avatars", store, key_prefix="avatars/", content_types=["image/png"])
        calls = Calls(store.client)
        with pytest.raises(ContentTypeNotAllowedError):
            policy.put(b"<svg/>", filename="a.svg")
        assert calls.names == []
        ref = policy.put(b"\x89PNG", filename="a.png")
        assert ref.key.startswith("avatars/") and store.read(ref.key) == b"\x89PNG"


class TestErrorsAndHealth:
    def test_health_reports_latency_and_bucket(self, store: S3Storage) -> None:
        result = store.health_check()
        assert result.status is HealthStatus.HEALTHY
        assert result.latency_ms is not None and result.latency_ms > 0
        assert result.details["bucket"] == store.bucket

    def test_unreachable_endpoint(self, bucket: str, s3_options: dict[str, Any], caplog: Any) -> None:
        options = {**s3_options, "endpoint_url": f"http://127.0.0.1:{free_port()}", "max_attempts": 1}
        secret = options["secret_access_key"]
        caplog.set_level(logging.DEBUG, logger="storeroom_s3")
        with S3Storage(bucket, **options) as st:
            result = st.health_check(timeout=5)
            assert result.status is HealthStatus.UNHEALTHY
            assert "EndpointUnreachableError" in result.message
            with pytest.raises(EndpointUnreachableError, match="cannot reach") as excinfo:
                st.write("k", b"v")
            assert excinfo.value.__cause__ is not None
            assert isinstance(excinfo.value, ConnectionError)
            for text in (str(excinfo.value), repr(excinfo.value), result.message, repr(st), caplog.text):
                assert secret not in text

    @pytest.mark.asyncio
    async def test_async_unreachable_and_missing_bucket(self, s3_options: dict[str, Any]) -> None:
        options = {**s3_options, "endpoint_url": f"http://127.0.0.1:{free_port()}", "max_attempts": 1}
        async with AsyncS3Storage("storeroom-unreachable", **options) as st:
            assert (await st.health_check(timeout=5)).status is HealthStatus.UNHEALTHY
            with pytest.raises(EndpointUnreachableError):
                await st.read("k")
        async with AsyncS3Storage("storeroom-no-such-bucket-here", **s3_options) as st:
            result = await st.health_check()
            assert result.status is HealthStatus.UNHEALTHY and "BucketNotFoundError" in result.message
            with pytest.raises(BucketNotFoundError) as excinfo:
                await st.write("k", b"v")
            assert "storeroom-no-such-bucket-here" in str(excinfo.value)
            assert excinfo.value.__cause__ is not None

    def test_missing_bucket(self, s3_options: dict[str, Any]) -> None:
        with S3Storage("storeroom-no-such-bucket-here", **s3_options) as st:
            with pytest.raises(BucketNotFoundError, match="does not exist"):
                st.write("k", b"v")
            with pytest.raises(StorageError):
                list(st.list())
            assert st.health_check().status is HealthStatus.UNHEALTHY

    def test_secrets_never_in_repr(self, store: S3Storage, s3_options: dict[str, Any]) -> None:
        secret = s3_options["secret_access_key"]
        assert secret not in repr(store)
        assert secret not in repr(store.settings)
        assert secret not in str(store.settings.model_dump())

    @pytest.mark.parametrize("flavour", ["sync", "async"])
    def test_secrets_never_in_sdk_debug_logs(
        self, bucket: str, s3_options: dict[str, Any], caplog: Any, flavour: str
    ) -> None:
        # botocore logs each request's headers (Authorization, X-Amz-Security-Token) at DEBUG
        token = "storeroom-s3-session-token-" + uuid.uuid4().hex
        caplog.set_level(logging.DEBUG)
        options = {**s3_options, "session_token": token}
        if flavour == "sync":
            with S3Storage(bucket, **options) as st:
                st.write("logged", b"x")
                st.read("logged")
                st.presigned_url("logged")
        else:

            async def run() -> None:
                async with AsyncS3Storage(bucket, **options) as st:
                    await st.write("logged", b"x")
                    await st.read("logged")
                    await st.presigned_url("logged")

            asyncio.run(run())
        assert "botocore.endpoint" in {r.name for r in caplog.records}
        for secret in (token, s3_options["access_key_id"], s3_options["secret_access_key"]):
            assert not [r.name for r in caplog.records if secret in r.getMessage()]


class TestConfiguration:
    def _settings(self, bucket: str, s3_options: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"storages": {"files": {"backend": "s3", "bucket": bucket, **s3_options, **extra}}}

    def test_storeroom_builds_both_flavours(self, bucket: str, s3_options: dict[str, Any]) -> None:
        with Storeroom.from_settings(self._settings(bucket, s3_options, prefix="room"), embedded_default=False) as room:
            storage = room.storage("files")
            assert isinstance(storage, S3Storage) and storage.name == "files"
            assert isinstance(room.async_storage("files"), AsyncS3Storage)
            storage.write("hello.txt", b"hi")
            assert room.health()["storages.files"].ok

            async def read_async() -> bytes:
                return await room.async_storage("files").read("hello.txt")

            assert asyncio.run(read_async()) == b"hi"

    @pytest.mark.parametrize(
        ("extra", "key"),
        [
            ({"bukket": "x"}, "bukket"),
            ({"addressing_style": "sideways"}, "addressing_style"),
            ({"part_size": "1 MiB"}, "part_size"),
            ({"max_concurrency": 0}, "max_concurrency"),
        ],
    )
    def test_bad_setting_is_named(
        self, bucket: str, s3_options: dict[str, Any], extra: dict[str, Any], key: str
    ) -> None:
        with pytest.raises(ConfigurationError, match=key) as excinfo:
            Storeroom.from_settings(self._settings(bucket, s3_options, **extra), embedded_default=False)
        assert s3_options["secret_access_key"] not in str(excinfo.value)


class TestPartLimit:
    """S3 allows 10,000 parts; the limit is lowered to 3 here so the boundary is cheap to reach."""

    @pytest.fixture
    def three_parts(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import storeroom_s3._multipart

        monkeypatch.setattr(storeroom_s3._multipart, "MAX_PARTS", 3)

    @pytest.mark.parametrize("kind", ["bytes", "generator"])
    def test_exactly_the_last_part_is_allowed(self, three_parts: None, store: S3Storage, kind: str) -> None:
        data = payload(15 * MiB)  # exactly 3 parts of 5 MiB
        store.write("full", data if kind == "bytes" else iter([data]))
        assert store.read("full") == data

    def test_one_byte_past_the_last_part_fails_and_is_aborted(
        self, three_parts: None, store: S3Storage, s3_uploads: Any, bucket: str
    ) -> None:
        with pytest.raises(StorageError, match="more than 3 parts"):
            store.write("over", iter([payload(15 * MiB + 1)]))
        assert not store.exists("over")
        assert s3_uploads(bucket) == []

    @pytest.mark.asyncio
    async def test_async_exactly_the_last_part_is_allowed(
        self, three_parts: None, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any
    ) -> None:
        s3_empty(bucket)
        data = payload(15 * MiB)
        async with AsyncS3Storage(bucket, part_size=5 * MiB, **s3_options) as st:
            await st.write("full", data)
            assert await st.read("full") == data
            with pytest.raises(StorageError, match="more than 3 parts"):
                await st.write("over", iter([data, b"x"]))
            assert not await st.exists("over")
        assert s3_uploads(bucket) == []
