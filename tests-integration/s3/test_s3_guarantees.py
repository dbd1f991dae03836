"""What storeroom promises must hold on every S3 server: it holds, or storeroom raises.

Each test runs on moto and on s3rver (``s3_server``). moto keeps the protocol; s3rver
ignores ``If-None-Match``, answers ``Range: bytes=0-0`` with the whole object, lists its
folders depth-first and cannot abort multipart uploads - so on s3rver the same calls must
end in an error that says so, never in a reported success that is not true.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from storeroom.errors import (
    InconsistentResponseError,
    NotSupportedError,
    ObjectExistsError,
    StorageError,
)
from storeroom.policy import StoragePolicy
from storeroom.testing.storage import SourceFailure, payload
from storeroom.uow import UnitOfWork
from storeroom_s3 import AsyncS3Storage, S3Storage

MiB = 1024 * 1024
PART = 5 * MiB


def _options(server: Any, **extra: Any) -> dict[str, Any]:
    return server.options(part_size=PART, max_pool_connections=40, **extra)


def _objects(server: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in server.admin().list_objects_v2(Bucket=bucket).get("Contents", [])]


class Calls:
    """The S3 operations a store's client really sends (botocore's own event hooks)."""

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-call.s3", lambda model, **_: self.names.append(model.name))


@pytest.fixture
def store(s3_server: Any, server_bucket: str) -> Iterator[S3Storage]:
    with S3Storage(server_bucket, **_options(s3_server)) as st:
        yield st


# -- create-only ----------------------------------------------------------------------------


class TestCreateOnly:
    def test_single_put_over_an_existing_object(self, s3_server: Any, store: S3Storage) -> None:
        store.write("k", b"original", metadata={"v": "1"})
        expected = ObjectExistsError if s3_server.conditional_writes else NotSupportedError
        with pytest.raises(expected) as excinfo:
            store.write("k", b"intruder", overwrite=False, metadata={"v": "2"})
        assert excinfo.value.key == "k"
        assert store.read("k") == b"original"
        assert store.get_metadata("k") == {"v": "1"}

    def test_new_key(self, s3_server: Any, store: S3Storage, server_bucket: str) -> None:
        if s3_server.conditional_writes:
            store.write("fresh", b"x", overwrite=False)
            assert store.read("fresh") == b"x"
        else:
            with pytest.raises(NotSupportedError, match="does not enforce If-None-Match"):
                store.write("fresh", b"x", overwrite=False)
            assert not store.exists("fresh")
        assert [k for k in _objects(s3_server, server_bucket) if k != "fresh"] == []  # no probe left behind

    def test_racing_multipart_writers(self, s3_server: Any, store: S3Storage, server_bucket: str) -> None:
        """Multipart bodies commit with CompleteMultipartUpload: one winner, or nobody claims to win."""
        n = 6
        barrier = threading.Barrier(n)
        outcomes: list[object] = [None] * n

        def attempt(i: int) -> None:
            barrier.wait()
            try:
                store.write("race", iter([payload(PART + 1000, seed=i)]), overwrite=False)
                outcomes[i] = "won"
            except (ObjectExistsError, NotSupportedError) as exc:
                outcomes[i] = type(exc)
            except BaseException as exc:  # noqa: BLE001 - reported below
                outcomes[i] = exc

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        if s3_server.conditional_writes:
            assert outcomes.count("won") == 1, outcomes
            assert outcomes.count(ObjectExistsError) == n - 1, outcomes
            assert store.read("race") == payload(PART + 1000, seed=outcomes.index("won"))
        else:
            assert outcomes == [NotSupportedError] * n
            assert _objects(s3_server, server_bucket) == []

    def test_async_racing_multipart_writers(self, s3_server: Any, server_bucket: str) -> None:
        async def run() -> list[Any]:
            async with AsyncS3Storage(server_bucket, **_options(s3_server)) as st:
                return await asyncio.gather(
                    *(st.write("race", iter([payload(PART + 1000, seed=i)]), overwrite=False) for i in range(4)),
                    return_exceptions=True,
                )

        results = asyncio.run(run())
        if s3_server.conditional_writes:
            assert sum(not isinstance(r, BaseException) for r in results) == 1, results
            assert sum(isinstance(r, ObjectExistsError) for r in results) == 3, results
        else:
            assert all(isinstance(r, NotSupportedError) for r in results), results
            assert _objects(s3_server, server_bucket) == []

    def test_create_only_copy(self, s3_server: Any, store: S3Storage) -> None:
        store.write("src", b"new")
        store.write("dst", b"old")
        with pytest.raises(ObjectExistsError if s3_server.conditional_writes else NotSupportedError):
            store.copy("src", "dst", overwrite=False)
        assert store.read("dst") == b"old"

    def test_the_server_is_asked_once_per_store(self, s3_server: Any, store: S3Storage, server_bucket: str) -> None:
        calls = Calls(store.client)
        for key in ("one", "two"):
            try:
                store.write(key, b"x", overwrite=False)
            except NotSupportedError:
                assert not s3_server.conditional_writes
        if s3_server.conditional_writes:  # both kinds of commit were tried, then the probe removed
            probe = ["PutObject", "PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"]
            probe += ["AbortMultipartUpload", "DeleteObject"]
            assert calls.names == [*probe, "PutObject", "PutObject"]
            assert s3_server.uploads(server_bucket) == []
        else:  # the PutObject came back 200: enough to know, and the writes were never sent
            assert calls.names == ["PutObject", "PutObject", "DeleteObject"]
        assert not [k for k in _objects(s3_server, server_bucket) if k.startswith(".storeroom/")]

    def test_conditional_writes_setting(self, s3_server: Any, server_bucket: str) -> None:
        with S3Storage(server_bucket, **_options(s3_server, conditional_writes=False)) as st:
            calls = Calls(st.client)
            with pytest.raises(NotSupportedError, match="conditional_writes = false"):
                st.write("k", b"x", overwrite=False)
            assert calls.names == []  # refused before any request
        with S3Storage(server_bucket, **_options(s3_server, conditional_writes=True)) as st:
            calls = Calls(st.client)
            st.write("k", b"x", overwrite=False)  # trusted: on s3rver this is the user's own risk
            assert calls.names == ["PutObject"]


class TestPoliciesAndUnitsOfWork:
    """They write create-only (generated keys, backups): on s3rver that is an error, never an overwrite."""

    def test_policy_put(self, s3_server: Any, store: S3Storage, server_bucket: str) -> None:
        policy = StoragePolicy("avatars", store, key_prefix="avatars/")
        if s3_server.conditional_writes:
            ref = policy.put(b"png", filename="a.png", content_type="image/png")
            assert store.read(ref.key) == b"png"
        else:
            with pytest.raises(NotSupportedError):
                policy.put(b"png", filename="a.png", content_type="image/png")
            assert _objects(s3_server, server_bucket) == []

    def test_unit_of_work(self, s3_server: Any, store: S3Storage, server_bucket: str) -> None:
        store.write("doc", b"v1")
        if s3_server.conditional_writes:
            with UnitOfWork({"files": store}) as uow:
                uow.create("files", "new", b"x")
                uow.put("files", "doc", b"v2")
            assert (store.read("new"), store.read("doc")) == (b"x", b"v2")
            return
        with pytest.raises(NotSupportedError), UnitOfWork({"files": store}) as uow:
            uow.create("files", "new", b"x")
        with pytest.raises(NotSupportedError), UnitOfWork({"files": store}) as uow:
            uow.put("files", "doc", b"v2")  # its backup of v1 is a create-only copy
        assert _objects(s3_server, server_bucket) == ["doc"]
        assert store.read("doc") == b"v1"


# -- ranged reads ---------------------------------------------------------------------------


class TestRanges:
    @pytest.mark.parametrize(("start", "end"), [(0, 1), (3, 7), (9, 10), (0, 100), (10, 20)])
    def test_right_bytes_or_an_error(self, s3_server: Any, store: S3Storage, start: int, end: int) -> None:
        store.write("r", b"0123456789")
        if (start, end) == (0, 1) and s3_server.name == "s3rver":  # it sends the whole object
            with pytest.raises(InconsistentResponseError, match=r"bytes 0-9 .* for bytes 0-0"):
                store.read_range("r", start, end)
        else:
            assert store.read_range("r", start, end) == b"0123456789"[start:end]

    def test_async(self, s3_server: Any, server_bucket: str) -> None:
        async def run() -> bytes:
            async with AsyncS3Storage(server_bucket, **_options(s3_server)) as st:
                await st.write("r", b"0123456789")
                assert await st.read_range("r", 4, 6) == b"45"
                return await st.read_range("r", 0, 1)

        if s3_server.name == "s3rver":
            with pytest.raises(InconsistentResponseError):
                asyncio.run(run())
        else:
            assert asyncio.run(run()) == b"0"

    def test_empty_object(self, store: S3Storage) -> None:
        store.write("empty", b"")
        assert store.read_range("empty", 0, 10) == b""


# -- listing order ----------------------------------------------------------------------------

#: in UTF-8 byte order; a server walking folders depth-first lists "a/b" before "a-c" and "a"
FOLDER_KEYS = ["a", "a-c", "a.b", "a/b", "a/b-c", "a/b/c", "a0", "b"]


class TestListingOrder:
    def test_in_order_or_an_error(self, s3_server: Any, store: S3Storage) -> None:
        for key in FOLDER_KEYS:
            store.write(key, b"x")
        if s3_server.name == "s3rver":
            with pytest.raises(InconsistentResponseError, match=r"listed '.+' after '.+'") as excinfo:
                store.list_keys()
            assert isinstance(excinfo.value, StorageError)
        else:
            assert store.list_keys() == FOLDER_KEYS

    def test_async(self, s3_server: Any, server_bucket: str) -> None:
        async def run() -> list[str]:
            async with AsyncS3Storage(server_bucket, **_options(s3_server)) as st:
                for key in FOLDER_KEYS:
                    await st.write(key, b"x")
                return [info.key async for info in st.list()]

        if s3_server.name == "s3rver":
            with pytest.raises(InconsistentResponseError):
                asyncio.run(run())
        else:
            assert asyncio.run(run()) == FOLDER_KEYS

    def test_keys_without_folders_list_in_order_everywhere(self, store: S3Storage) -> None:
        keys = sorted(f"k{i:03d}" for i in range(25))
        for key in reversed(keys):
            store.write(key, b"")
        assert store.list_keys() == keys


# -- an abort that fails ----------------------------------------------------------------------


def _parts_then(error: BaseException) -> Iterator[bytes]:
    for _ in range(2 * PART // MiB + 1):
        yield b"x" * MiB
    raise error


class TestFailedAborts:
    def test_the_error_says_what_was_left(self, s3_server: Any, store: S3Storage, server_bucket: str) -> None:
        """s3rver cannot abort a multipart upload (MethodNotAllowed); moto can, and then nothing is said."""
        boom = SourceFailure("late")
        with pytest.raises(SourceFailure) as excinfo:
            store.write("doomed", _parts_then(boom))
        assert excinfo.value is boom  # still the caller's own exception
        notes = getattr(boom, "__notes__", [])
        if s3_server.name == "s3rver":
            assert len(notes) == 1, notes
            assert "incomplete multipart upload" in notes[0] and "'doomed'" in notes[0], notes
            assert "MethodNotAllowed" in notes[0]
        else:
            assert notes == []
            assert s3_server.uploads(server_bucket) == []
        assert _objects(s3_server, server_bucket) == []

    def test_network_down_names_the_upload(
        self,
        moto_server: Any,
        bucket: str,
        s3_empty: Callable[[str], None],
        cutting_proxy: Any,
    ) -> None:
        """The path stays down after a part fails, so the abort fails too: the error names the upload left."""
        s3_empty(bucket)
        proxy = cutting_proxy(PART // 2, times=None)
        options = _options(moto_server, endpoint_url=proxy.url, max_attempts=1, max_concurrency=1)
        with S3Storage(bucket, **options) as st, pytest.raises(StorageError) as excinfo:
            st.write("cut", payload(3 * PART))
        pending = moto_server.admin().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        assert [u["Key"] for u in pending] == ["cut"]
        (leftover,) = excinfo.value.leftovers
        assert pending[0]["UploadId"] in leftover and "'cut'" in leftover, leftover
        assert any(pending[0]["UploadId"] in note for note in excinfo.value.__notes__)
        s3_empty(bucket)

    def test_async_network_down_names_the_upload(
        self, moto_server: Any, bucket: str, s3_empty: Callable[[str], None], cutting_proxy: Any
    ) -> None:
        s3_empty(bucket)
        proxy = cutting_proxy(PART // 2, times=None)
        options = _options(moto_server, endpoint_url=proxy.url, max_attempts=1, max_concurrency=1)

        async def run() -> None:
            async with AsyncS3Storage(bucket, **options) as st:
                await st.write("cut", payload(3 * PART))

        with pytest.raises(StorageError) as excinfo:
            asyncio.run(run())
        pending = moto_server.admin().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        assert [u["Key"] for u in pending] == ["cut"]
        assert any(pending[0]["UploadId"] in left for left in excinfo.value.leftovers), excinfo.value.leftovers
        s3_empty(bucket)
