"""Storage adapters that give a one-sided storage plugin the other side.

``AsyncStorageFromSync`` offloads each call of a sync backend to a worker thread;
``SyncStorageFromAsync`` runs an async backend on a private event loop thread (a
blocking portal). First-party plugins implement both sides natively; these exist
so a third-party plugin only has to write one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from storeroom.adapters.portal import DONE, BlockingPortal, PortalBacked, anext_or_done
from storeroom.objects import ObjectInfo
from storeroom.storage import AsyncObjectStorage, ObjectStorage
from storeroom.streams import AsyncByteSource, ByteSource

__all__ = ["AsyncStorageFromSync", "SyncStorageFromAsync"]


class AsyncStorageFromSync(AsyncObjectStorage):
    """An :class:`AsyncObjectStorage` over a sync backend (thread offload)."""

    def __init__(self, inner: ObjectStorage) -> None:
        self.inner = inner
        self.name = inner.name
        self.PLUGIN_NAME = inner.PLUGIN_NAME  # type: ignore[misc]

    async def _write(
        self, key: str, source: AsyncByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        loop = asyncio.get_running_loop()
        agen = aiter(source)
        cancelled = threading.Event()

        def pull() -> Iterator[bytes]:
            # Runs in the worker thread; each chunk is fetched on the event loop.
            while True:
                if cancelled.is_set():
                    raise asyncio.CancelledError("write cancelled by the caller")
                chunk = asyncio.run_coroutine_threadsafe(anext_or_done(agen), loop).result()
                if chunk is DONE:
                    return
                yield chunk

        job = asyncio.ensure_future(
            asyncio.to_thread(
                self.inner._write,
                key,
                ByteSource(pull()),
                content_type=content_type,
                metadata=metadata,
                overwrite=overwrite,
            )
        )
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            # Stop the worker at its next chunk and wait for its cleanup, so nothing is
            # stored after the caller has seen the cancellation (unless it had already committed).
            cancelled.set()
            with contextlib.suppress(BaseException):
                await job
            raise

    async def _read_stream(self, key: str, chunk_size: int) -> AsyncIterator[bytes]:
        iterator = await asyncio.to_thread(lambda: _primed(self.inner._read_stream(key, chunk_size)))
        try:
            while (chunk := await asyncio.to_thread(next, iterator, None)) is not None:
                yield chunk
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    async def _read_range(self, key: str, start: int, end: int) -> bytes:
        return await asyncio.to_thread(self.inner._read_range, key, start, end)

    async def _read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.inner._read, key)

    async def _stat(self, key: str) -> ObjectInfo:
        return await asyncio.to_thread(self.inner._stat, key)

    async def _exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.inner._exists, key)

    async def _delete(self, key: str) -> bool:
        return await asyncio.to_thread(self.inner._delete, key)

    async def _delete_many(self, keys: list[str]) -> int:
        return await asyncio.to_thread(self.inner._delete_many, keys)

    async def _list(self, prefix: str, start_after: str | None) -> AsyncIterator[ObjectInfo]:
        iterator = self.inner._list(prefix, start_after)
        while (info := await asyncio.to_thread(next, iterator, None)) is not None:
            yield info

    async def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return await asyncio.to_thread(self.inner._copy, src, dst, overwrite=overwrite)

    async def _move(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return await asyncio.to_thread(self.inner._move, src, dst, overwrite=overwrite)

    async def _presigned_url(self, key: str, *, expires_in: int, method: str) -> str:
        return await asyncio.to_thread(self.inner._presigned_url, key, expires_in=expires_in, method=method)

    async def _health_probe(self) -> dict[str, Any]:
        return await asyncio.to_thread(self.inner._health_probe)

    async def close(self) -> None:
        await asyncio.to_thread(self.inner.close)


def _primed(iterator: Iterator[bytes]) -> Iterator[bytes]:
    """Start a generator so a missing key raises now, not at the first chunk."""
    first = next(iterator, None)

    def chain() -> Iterator[bytes]:
        if first is not None:
            yield first
        yield from iterator

    return chain()


class SyncStorageFromAsync(PortalBacked, ObjectStorage):
    """An :class:`ObjectStorage` over an async backend, via a :class:`BlockingPortal`."""

    inner: AsyncObjectStorage

    def __init__(self, inner: AsyncObjectStorage, portal: BlockingPortal | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.PLUGIN_NAME = inner.PLUGIN_NAME  # type: ignore[misc]
        self._use_portal(portal)

    def _write(
        self, key: str, source: ByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        return self.portal.call(
            self.inner._write,
            key,
            AsyncByteSource(iter(source)),
            content_type=content_type,
            metadata=metadata,
            overwrite=overwrite,
        )

    def _read_stream(self, key: str, chunk_size: int) -> Iterator[bytes]:
        return self.portal.iterate(self.inner._read_stream(key, chunk_size))

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        return self.portal.call(self.inner._read_range, key, start, end)

    def _read(self, key: str) -> bytes:
        return self.portal.call(self.inner._read, key)

    def _stat(self, key: str) -> ObjectInfo:
        return self.portal.call(self.inner._stat, key)

    def _exists(self, key: str) -> bool:
        return self.portal.call(self.inner._exists, key)

    def _delete(self, key: str) -> bool:
        return self.portal.call(self.inner._delete, key)

    def _delete_many(self, keys: list[str]) -> int:
        return self.portal.call(self.inner._delete_many, keys)

    def _list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        return self.portal.iterate(self.inner._list(prefix, start_after))

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return self.portal.call(self.inner._copy, src, dst, overwrite=overwrite)

    def _move(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return self.portal.call(self.inner._move, src, dst, overwrite=overwrite)

    def _presigned_url(self, key: str, *, expires_in: int, method: str) -> str:
        return self.portal.call(self.inner._presigned_url, key, expires_in=expires_in, method=method)

    def _health_probe(self) -> dict[str, Any]:
        return self.portal.call(self.inner._health_probe)
