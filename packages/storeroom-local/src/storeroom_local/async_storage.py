"""``AsyncLocalStorage``: the native async ``local`` backend.

Every blocking call runs in a worker thread (``asyncio.to_thread``) and moves data
in blocks of about 1 MiB, so the event loop never waits on the disk and memory
stays bounded whatever the object size. Cancelling a write removes its temp file.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from storeroom.objects import ObjectInfo
from storeroom.storage import AsyncObjectStorage
from storeroom.streams import AsyncByteSource
from storeroom_local._base import LocalBase
from storeroom_local._paths import key_segments

__all__ = ["AsyncLocalStorage"]

T = TypeVar("T")
#: bytes moved per worker-thread hop
BLOCK = 1024 * 1024
_LIST_BATCH = 256


async def _owned(func: Callable[..., T], *args: Any, release: Callable[[T], None]) -> T:
    """Run ``func`` in a thread; if we are cancelled meanwhile, ``release`` what it returns."""
    task = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:

        def cleanup(done: asyncio.Future[T]) -> None:
            if not done.cancelled() and done.exception() is None:
                release(done.result())

        task.add_done_callback(cleanup)
        raise


def _settle(future: asyncio.Future[Any] | None) -> None:
    """Forget a worker call we no longer wait for, without 'exception never retrieved' noise."""
    if future is None:
        return
    if future.done():
        if not future.cancelled():
            future.exception()
    else:
        future.cancel()


def _take(iterator: Iterator[ObjectInfo], n: int) -> list[ObjectInfo]:
    out: list[ObjectInfo] = []
    for item in iterator:
        out.append(item)
        if len(out) >= n:
            break
    return out


class AsyncLocalStorage(LocalBase, AsyncObjectStorage):
    """The async twin of :class:`~storeroom_local.LocalStorage`, over the same files."""

    async def _write(
        self, key: str, source: AsyncByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        segments = key_segments(key)
        files = self._files
        if not overwrite:
            await asyncio.to_thread(files.fail_if_exists, key, segments)
        pending = await _owned(files.begin_write, key, segments, release=lambda p: p.abort())
        # One block is written in a worker while the next is gathered from the source.
        inflight: asyncio.Future[None] | None = None
        try:
            buffer = bytearray()
            async for chunk in source:  # the caller's own errors pass through unchanged
                block: bytes | bytearray = chunk
                if buffer or len(chunk) < BLOCK:  # coalesce small chunks; pass big ones as they are
                    buffer += chunk
                    if len(buffer) < BLOCK:
                        continue
                    block, buffer = buffer, bytearray()
                if inflight is not None:
                    await inflight
                inflight = asyncio.ensure_future(asyncio.to_thread(pending.write, block))
            if inflight is not None:
                await inflight
            if buffer:
                await asyncio.to_thread(pending.write, buffer)
            return await asyncio.to_thread(
                files.commit, pending, content_type=content_type, metadata=metadata, overwrite=overwrite
            )
        except BaseException:
            _settle(inflight)
            pending.abort()  # waits for a write still running in a worker, then removes the temp file
            raise

    async def _read(self, key: str) -> bytes:
        return await asyncio.to_thread(self._files.read_all, key)

    async def _read_stream(self, key: str, chunk_size: int) -> AsyncIterator[bytes]:
        reader = await _owned(self._files.open_reader, key, release=lambda r: r.close())
        block = max(chunk_size, BLOCK)
        # Read-ahead: the next block is read in a worker while the caller consumes this one.
        ahead: asyncio.Future[bytes] | None = asyncio.ensure_future(asyncio.to_thread(reader.read, block))
        try:
            while ahead is not None:
                data = await ahead
                ahead = asyncio.ensure_future(asyncio.to_thread(reader.read, block)) if data else None
                if len(data) <= chunk_size:
                    if data:
                        yield data
                    continue
                view = memoryview(data)
                for start in range(0, len(view), chunk_size):
                    yield bytes(view[start : start + chunk_size])
        finally:
            _settle(ahead)
            reader.close()  # waits for a read still running in a worker

    async def _read_range(self, key: str, start: int, end: int) -> bytes:
        return await asyncio.to_thread(self._files.read_range, key, start, end)

    async def _stat(self, key: str) -> ObjectInfo:
        return await asyncio.to_thread(self._files.stat, key)

    async def _exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._files.exists, key)

    async def _delete(self, key: str) -> bool:
        return await asyncio.to_thread(self._files.delete, key)

    async def _delete_many(self, keys: list[str]) -> int:
        return await asyncio.to_thread(self._files.delete_many, keys)

    async def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return await asyncio.to_thread(self._files.copy, src, dst, overwrite=overwrite)

    async def _move(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return await asyncio.to_thread(self._files.move, src, dst, overwrite=overwrite)

    async def _list(self, prefix: str, start_after: str | None) -> AsyncIterator[ObjectInfo]:
        walker = self._files.iter_objects(prefix, start_after)
        batch_size = 16  # small first batch: the first item comes quickly
        try:
            while True:
                batch = await asyncio.to_thread(_take, walker, batch_size)
                for info in batch:
                    yield info
                if len(batch) < batch_size:
                    return
                batch_size = _LIST_BATCH
        finally:
            try:
                walker.close()  # closes the folder descriptors it holds
            except ValueError:
                pass  # still running in a cancelled worker; it closes them when it finishes

    async def _health_probe(self) -> dict[str, Any]:
        return await asyncio.to_thread(self._files.probe)

    async def close(self) -> None:
        self._files.close()
