"""Failures mid-upload leave nothing behind: no object, no incomplete multipart upload."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from _proxy import CuttingProxy
from storeroom.errors import ObjectExistsError, StorageError
from storeroom.testing.storage import SourceFailure, payload
from storeroom_s3 import AsyncS3Storage, S3Storage

MiB = 1024 * 1024
PART = 5 * MiB


def _options(s3_options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**s3_options, "part_size": PART, "max_pool_connections": 40, **extra}


def _parts_then(error: BaseException, parts: int = 2, chunk: int = MiB) -> Iterator[bytes]:
    """More than ``parts`` full parts of data, then ``error`` from the caller's own source."""
    for _ in range(parts * PART // chunk + 1):
        yield b"x" * chunk
    raise error


def _objects(admin: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in admin.list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.fixture
def sync_store(bucket: str, s3_options: dict[str, Any], s3_empty: Callable[[str], None]) -> Iterator[S3Storage]:
    s3_empty(bucket)
    with S3Storage(bucket, **_options(s3_options)) as store:
        yield store


class TestSourceFailures:
    @pytest.mark.parametrize("error", [SourceFailure("late"), KeyboardInterrupt(), GeneratorExit()], ids=type)
    def test_source_error_after_parts_aborts_the_upload(
        self, sync_store: S3Storage, s3_admin: Any, bucket: str, s3_uploads: Any, error: BaseException
    ) -> None:
        uploads_seen: list[list[str]] = []

        def watched() -> Iterator[bytes]:
            for i, chunk in enumerate(_parts_then(error)):
                if i == 2 * PART // MiB:  # two parts read: the upload must exist by now
                    uploads_seen.append(s3_uploads(bucket))
                yield chunk

        with pytest.raises(type(error)) as excinfo:
            sync_store.write("doomed", watched())
        assert excinfo.value is error  # the caller's own exception, unchanged
        assert uploads_seen == [["doomed"]], "the write should have been a multipart upload"
        assert s3_uploads(bucket) == []
        assert _objects(s3_admin, bucket) == []

    @pytest.mark.asyncio
    async def test_async_source_error_after_parts(
        self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any, s3_admin: Any
    ) -> None:
        s3_empty(bucket)
        boom = SourceFailure("async late")

        async def source() -> AsyncIterator[bytes]:
            for chunk in _parts_then(boom):
                yield chunk

        async with AsyncS3Storage(bucket, **_options(s3_options)) as store:
            with pytest.raises(SourceFailure) as excinfo:
                await store.write("doomed", source())
        assert excinfo.value is boom
        assert s3_uploads(bucket) == []
        assert _objects(s3_admin, bucket) == []

    @pytest.mark.asyncio
    async def test_cancelled_async_upload_is_aborted(
        self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any, s3_admin: Any
    ) -> None:
        s3_empty(bucket)
        parts_sent = asyncio.Event()

        async def slow() -> AsyncIterator[bytes]:
            for i in range(200):
                yield b"y" * MiB
                if i > 2 * PART // MiB:
                    parts_sent.set()
                    await asyncio.sleep(0.05)

        async with AsyncS3Storage(bucket, **_options(s3_options)) as store:
            task = asyncio.create_task(store.write("cancelled", slow()))
            await asyncio.wait_for(parts_sent.wait(), 30)
            assert await asyncio.to_thread(s3_uploads, bucket) == ["cancelled"]
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert s3_uploads(bucket) == []
        assert _objects(s3_admin, bucket) == []

    def test_max_size_crossed_mid_upload_aborts(
        self, sync_store: S3Storage, s3_uploads: Any, bucket: str, s3_admin: Any
    ) -> None:
        from storeroom.errors import ContentTooLargeError

        with pytest.raises(ContentTooLargeError):
            sync_store.write("big", (b"z" * MiB for _ in range(16)), max_size=12 * MiB)
        assert s3_uploads(bucket) == []
        assert _objects(s3_admin, bucket) == []


class TestDroppedConnections:
    """A loopback proxy resets the connection after N bytes sent towards the server."""

    @pytest.mark.parametrize("flavour", ["sync", "async"])
    def test_single_put_cut_stores_nothing(
        self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_admin: Any, cutting_proxy: Any, flavour: str
    ) -> None:
        s3_empty(bucket)
        proxy = cutting_proxy(300_000, times=1 if flavour == "sync" else 2)  # aiohttp resends a PUT once
        options = _options(s3_options, endpoint_url=proxy.url, max_attempts=1)
        if flavour == "sync":
            with S3Storage(bucket, **options) as store, pytest.raises(StorageError) as excinfo:
                store.write("cut", payload(MiB))
        else:

            async def run() -> None:
                async with AsyncS3Storage(bucket, **options) as store:
                    await store.write("cut", payload(MiB))

            with pytest.raises(StorageError) as excinfo:
                asyncio.run(run())
        assert proxy.cuts == proxy.times
        assert excinfo.value.__cause__ is not None
        assert _objects(s3_admin, bucket) == []

    @pytest.mark.parametrize("flavour", ["sync", "async"])
    def test_multipart_cut_aborts_the_upload(
        self,
        bucket: str,
        s3_options: dict[str, Any],
        s3_empty: Any,
        s3_uploads: Any,
        s3_admin: Any,
        cutting_proxy: Any,
        flavour: str,
    ) -> None:
        s3_empty(bucket)
        # aiohttp resends an idempotent request (PUT) once on a fresh connection by itself,
        # so the async client needs a second cut to see the network fail
        proxy = cutting_proxy(PART + 2 * MiB, times=1 if flavour == "sync" else 2)  # inside the second part
        options = _options(s3_options, endpoint_url=proxy.url, max_attempts=1, max_concurrency=1)
        data = payload(3 * PART - 1)
        if flavour == "sync":
            with S3Storage(bucket, **options) as store, pytest.raises(StorageError):
                store.write("cut", iter([data]))
        else:

            async def run() -> None:
                async with AsyncS3Storage(bucket, **options) as store:
                    await store.write("cut", iter([data]))

            with pytest.raises(StorageError):
                asyncio.run(run())
        assert proxy.cuts == proxy.times
        assert s3_uploads(bucket) == []  # the abort went through once the network was back
        assert _objects(s3_admin, bucket) == []

    def test_every_failed_part_is_collected(
        self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, cutting_proxy: Any, caplog: Any
    ) -> None:
        """Several parts failing at once: asyncio must not report the others as "never retrieved"."""
        s3_empty(bucket)
        proxy = cutting_proxy(PART // 2, times=None)  # the network stays down: every part in flight fails
        options = _options(s3_options, endpoint_url=proxy.url, max_attempts=1, max_concurrency=4)

        async def run() -> None:
            async with AsyncS3Storage(bucket, **options) as store:
                await store.write("cut", payload(3 * PART))

        with pytest.raises(StorageError):
            asyncio.run(run())
        gc.collect()  # a task whose exception nobody retrieved is reported when it is collected
        assert "never retrieved" not in caplog.text
        s3_empty(bucket)  # the abort could not get through either

    def test_dropped_connection_is_retried(
        self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any, cutting_proxy: Any
    ) -> None:
        s3_empty(bucket)
        proxy = cutting_proxy(PART + MiB)
        data = payload(2 * PART + 123)
        with S3Storage(bucket, **_options(s3_options, endpoint_url=proxy.url, max_attempts=3)) as store:
            store.write("retried", iter([data]))
            assert store.read("retried") == data
        assert proxy.cuts == 1
        assert s3_uploads(bucket) == []


class TestCreateOnlyRace:
    """32 writers, multipart bodies (the commit is CompleteMultipartUpload): exactly one wins."""

    N = 32
    SIZE = PART + 1000

    def test_threads(self, sync_store: S3Storage, s3_uploads: Any, bucket: str) -> None:
        barrier = threading.Barrier(self.N)
        outcomes: list[object] = [None] * self.N

        def attempt(i: int) -> None:
            barrier.wait()
            try:
                sync_store.write("race", iter([payload(self.SIZE, seed=i)]), overwrite=False)
                outcomes[i] = "won"
            except ObjectExistsError:
                outcomes[i] = "lost"
            except BaseException as exc:  # noqa: BLE001 - reported below
                outcomes[i] = exc

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(self.N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert outcomes.count("won") == 1, outcomes
        assert outcomes.count("lost") == self.N - 1, outcomes
        assert sync_store.read("race") == payload(self.SIZE, seed=outcomes.index("won"))
        assert s3_uploads(bucket) == []

    @pytest.mark.asyncio
    async def test_tasks(self, bucket: str, s3_options: dict[str, Any], s3_empty: Any, s3_uploads: Any) -> None:
        s3_empty(bucket)
        async with AsyncS3Storage(bucket, **_options(s3_options)) as store:
            results = await asyncio.gather(
                *(store.write("race", iter([payload(self.SIZE, seed=i)]), overwrite=False) for i in range(self.N)),
                return_exceptions=True,
            )
            winners = [i for i, r in enumerate(results) if not isinstance(r, BaseException)]
            assert len(winners) == 1, results
            assert all(isinstance(r, ObjectExistsError) for i, r in enumerate(results) if i not in winners)
            assert await store.read("race") == payload(self.SIZE, seed=winners[0])
        assert s3_uploads(bucket) == []


class TestTruncatedDownloads:
    """A response body cut short is a StorageError on both flavours (not the HTTP library's own)."""

    @pytest.fixture
    def truncating(self, bucket: str, s3_options: dict[str, Any], s3_endpoint: str) -> Iterator[dict[str, Any]]:
        from urllib.parse import urlsplit

        with S3Storage(bucket, **s3_options) as store:
            store.write("big", payload(3 * MiB))
        parts = urlsplit(s3_endpoint)
        proxy = CuttingProxy((parts.hostname or "127.0.0.1", parts.port or 80), None, response_limit=200_000)
        yield {**s3_options, "endpoint_url": proxy.url, "max_attempts": 1}
        proxy.close()

    @pytest.mark.parametrize("how", ["read", "read_stream", "read_range"])
    def test_sync(self, bucket: str, truncating: dict[str, Any], how: str) -> None:
        def run() -> None:
            with S3Storage(bucket, **truncating) as store:
                if how == "read":
                    store.read("big")
                elif how == "read_stream":
                    list(store.read_stream("big"))
                else:
                    store.read_range("big", 0, 3 * MiB)

        with pytest.raises(StorageError) as excinfo:
            run()
        assert excinfo.value.__cause__ is not None

    @pytest.mark.parametrize("how", ["read", "read_stream", "read_range"])
    def test_async(self, bucket: str, truncating: dict[str, Any], how: str) -> None:
        async def run() -> None:
            async with AsyncS3Storage(bucket, **truncating) as store:
                if how == "read":
                    await store.read("big")
                elif how == "read_stream":
                    [chunk async for chunk in store.read_stream("big")]
                else:
                    await store.read_range("big", 0, 3 * MiB)

        with pytest.raises(StorageError) as excinfo:
            asyncio.run(run())
        assert excinfo.value.__cause__ is not None
