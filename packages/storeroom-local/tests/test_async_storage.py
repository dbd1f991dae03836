"""The native async backend: worker-thread I/O, cancellation cleanup, bounded memory."""

from __future__ import annotations

import asyncio
import threading
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storeroom.errors import ObjectNotFoundError
from storeroom_local import AsyncLocalStorage, LocalStorage

from ._helpers import temp_files

pytestmark = pytest.mark.asyncio


async def test_shares_files_with_the_sync_backend(root: Path) -> None:
    async with AsyncLocalStorage(root, fsync=False) as astore:
        await astore.write("k", b"v", metadata={"m": "1"}, content_type="text/plain")
        sync = LocalStorage(root, fsync=False)
        assert sync.read("k") == b"v"
        assert sync.get_metadata("k") == {"m": "1"}
        sync.write("s", b"from sync")
        assert await astore.read("s") == b"from sync"
        assert astore.root == str(root)


async def test_file_io_runs_off_the_event_loop(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    loop_thread = threading.get_ident()
    threads: set[int] = set()
    real_write, real_read = os.write, os.read

    def spy_write(fd: int, data: bytes) -> int:
        threads.add(threading.get_ident())
        return real_write(fd, data)

    def spy_read(fd: int, n: int) -> bytes:
        threads.add(threading.get_ident())
        return real_read(fd, n)

    async with AsyncLocalStorage(root, fsync=False) as store:
        monkeypatch.setattr(os, "write", spy_write)
        monkeypatch.setattr(os, "read", spy_read)
        await store.write("k", b"x" * 3_000_000)
        async for _ in store.read_stream("k"):
            pass
        monkeypatch.undo()
    assert threads and loop_thread not in threads


async def test_small_chunks_are_coalesced(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hops = 0
    real = asyncio.to_thread

    async def counting(func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal hops
        hops += 1
        return await real(func, *args, **kwargs)

    async def tiny() -> AsyncIterator[bytes]:
        for _ in range(4000):
            yield b"x" * 1000

    async with AsyncLocalStorage(root, fsync=False) as store:
        monkeypatch.setattr(asyncio, "to_thread", counting)
        await store.write("k", tiny())
        monkeypatch.undo()
        assert (await store.stat("k")).size == 4_000_000
    assert hops < 10  # ~4 MB in ~1 MiB blocks, not 4000 thread hops


async def test_cancelled_write_removes_its_temp_file(root: Path) -> None:
    started = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 300_000
            started.set()
            await asyncio.sleep(0.01)

    async with AsyncLocalStorage(root, fsync=False) as store:
        task = asyncio.create_task(store.write("k", slow()))
        await started.wait()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not await store.exists("k")
    assert temp_files(root) == []


async def test_read_stream_small_chunks_from_large_blocks(root: Path) -> None:
    async with AsyncLocalStorage(root, fsync=False) as store:
        data = bytes(range(256)) * 10_000
        await store.write("k", data)
        parts = [p async for p in store.read_stream("k", chunk_size=1000)]
        assert all(len(p) <= 1000 for p in parts)
        assert b"".join(parts) == data
        with pytest.raises(ObjectNotFoundError):
            await store.read_stream("missing").__anext__()


async def test_streaming_in_bounded_memory(root: Path) -> None:
    async def body() -> AsyncIterator[bytes]:
        block = b"\xcd" * (256 * 1024)
        for _ in range(160):
            yield block

    async with AsyncLocalStorage(root, fsync=False) as store:
        tracemalloc.start()
        try:
            await store.write("big", body())
            async for _ in store.read_stream("big"):
                pass
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (await store.stat("big")).size == 40 * 1024 * 1024
    assert peak < 8 * 1024 * 1024, peak


async def test_abandoned_listing_closes_its_folders(root: Path) -> None:
    import os

    async with AsyncLocalStorage(root, fsync=False) as store:
        for i in range(40):
            await store.write(f"d{i % 4}/k{i:02d}", b"x")
        before = len(os.listdir("/proc/self/fd"))
        listing = store.list()
        await listing.__anext__()
        await listing.aclose()
        assert len(os.listdir("/proc/self/fd")) <= before
