"""``AsyncAzureBlobStorage``: the native async ``azure`` backend, on ``azure.storage.blob.aio``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobBlock
from azure.storage.blob.aio import BlobServiceClient, ExponentialRetry

from storeroom.errors import ObjectExistsError, PreconditionFailedError, StorageError
from storeroom.objects import ObjectInfo
from storeroom.storage import AsyncObjectStorage
from storeroom.streams import AsyncByteSource
from storeroom_azure._base import AzureBase
from storeroom_azure._blocks import BlockIds
from storeroom_azure._clients import retry_policy
from storeroom_azure._copy import COPY_POLL_MAX, COPY_TIMEOUT, copy_state
from storeroom_azure._errors import error_code, status_of
from storeroom_azure._order import Close, Emit, Next, Open
from storeroom_azure._reading import ablocks
from storeroom_azure.settings import AzureBlobStorageSettings

__all__ = ["AsyncAzureBlobStorage"]


class AsyncAzureBlobStorage(AzureBase, AsyncObjectStorage):
    """The async twin of :class:`~storeroom_azure.AzureBlobStorage` (aiohttp transport).

    Same layout, limits and guarantees; blocks are staged by up to
    ``max_concurrency`` tasks, and a cancelled write cancels its staging tasks and
    commits nothing.
    """

    _AIO = True

    def _client_class(self) -> Any:
        return BlobServiceClient

    def _transport_options(self, settings: AzureBlobStorageSettings) -> dict[str, Any]:
        return {"retry_policy": retry_policy(ExponentialRetry, settings)}

    async def _ready(self) -> None:
        if self._container_ready:
            return
        with self._ctx.errors("create the container"):
            try:
                await self._container.create_container()
            except ResourceExistsError:
                pass
        self._container_ready = True

    # -- writing ---------------------------------------------------------------------------

    async def _write(
        self, key: str, source: AsyncByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        blob = self._container.get_blob_client(self._blob_name(key))
        options = self._write_options(content_type, metadata)
        await self._ready()
        block_size = self.settings.block_size
        first = await source.read(block_size)
        second = await source.read(block_size) if len(first) == block_size else b""
        if not second:
            with self._ctx.errors("write", key, create_only=not overwrite):
                response = await blob.upload_blob(
                    first, length=len(first), overwrite=overwrite, max_concurrency=1, **options
                )
            return self._written(key, len(first), content_type, metadata, response)
        if not overwrite and await self._exists(key):
            raise ObjectExistsError(f"an object already exists under key {key!r}", key=key)
        head = [first, second]
        del first, second
        ids = BlockIds(self.settings.block_size)
        try:
            size = await self._stage_all(blob, key, ids, ablocks(head, source, block_size))
            response = await self._commit(blob, key, ids.ids, options, overwrite)
        except BaseException as exc:
            self._note_uncommitted(exc, key, ids)
            raise
        return self._written(key, size, content_type, metadata, response)

    async def _stage_all(self, blob: Any, key: str, ids: BlockIds, body: AsyncIterator[bytes]) -> int:
        size = 0
        limit = self.settings.max_concurrency
        running: set[asyncio.Task[None]] = set()
        done: set[asyncio.Task[None]] = set()
        try:
            async for block in body:
                running.add(asyncio.create_task(self._stage(blob, key, ids.next(), block)))
                size += len(block)
                del block
                if len(running) >= limit:
                    done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()
            if running:
                done, running = await asyncio.wait(running)
                for task in done:
                    task.result()
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
            for task in done:  # blocks that failed besides the one re-raised: not "never retrieved"
                if not task.cancelled():
                    task.exception()
        return size

    async def _stage(self, blob: Any, key: str, block_id: str, data: bytes) -> None:
        with self._ctx.errors("write", key):
            await blob.stage_block(block_id, data, length=len(data))

    async def _commit(self, blob: Any, key: str, ids: list[str], options: dict[str, Any], overwrite: bool) -> Any:
        try:
            with self._ctx.errors("write", key, create_only=not overwrite):
                return await blob.commit_block_list(
                    [BlobBlock(block_id=i) for i in ids], **options, **self._conditions(overwrite)
                )
        except StorageError as exc:
            cause = exc.__cause__
            if cause is None or error_code(cause) != "InvalidBlockList":
                raise
            if not overwrite and await self._exists(key):
                raise ObjectExistsError(f"an object already exists under key {key!r}", key=key) from None
            raise PreconditionFailedError(
                f"could not write {key!r}: a concurrent write to the same key committed first and discarded this "
                "upload's staged blocks; nothing of this upload was stored, try again",
                key=key,
            ) from cause

    # -- reading ---------------------------------------------------------------------------

    async def _read(self, key: str) -> bytes:
        blob = self._container.get_blob_client(self._blob_name(key))
        with self._ctx.errors("read", key):
            downloader = await blob.download_blob(max_concurrency=self.settings.max_concurrency)
            data: bytes = await downloader.readall()
        return data

    async def _read_stream(self, key: str, chunk_size: int) -> AsyncIterator[bytes]:
        blob = self._container.get_blob_client(self._blob_name(key))
        with self._ctx.errors("read", key):
            downloader = await blob.download_blob(max_concurrency=1)
        chunks = downloader.chunks()
        while True:
            with self._ctx.errors("read", key):
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return
            for start in range(0, len(chunk), chunk_size):
                yield chunk[start : start + chunk_size]

    async def _read_range(self, key: str, start: int, end: int) -> bytes:
        if start == end:
            if not await self._exists(key):
                raise self._missing(key)
            return b""
        blob = self._container.get_blob_client(self._blob_name(key))
        reply = self._range_reply(key, start, end)
        with self._ctx.errors("read", key):
            try:
                downloader = await blob.download_blob(
                    max_concurrency=self.settings.max_concurrency, **self._range_options(reply)
                )
                data: bytes = await downloader.readall()
            except HttpResponseError as exc:
                if status_of(exc) == 416:
                    return b""
                raise
        return reply.check_data(data)

    async def _stat(self, key: str) -> ObjectInfo:
        blob = self._container.get_blob_client(self._blob_name(key))
        with self._ctx.errors("stat", key):
            props = await blob.get_blob_properties()
        return self._info(key, props)

    async def _exists(self, key: str) -> bool:
        blob = self._container.get_blob_client(self._blob_name(key))
        with self._ctx.errors("stat", key):
            return bool(await blob.exists())

    # -- deleting --------------------------------------------------------------------------

    async def _delete(self, key: str) -> bool:
        blob = self._container.get_blob_client(self._blob_name(key))
        await self._ready()
        with self._ctx.errors("delete", key):
            try:
                await blob.delete_blob(delete_snapshots="include")
            except ResourceNotFoundError as exc:
                if error_code(exc) == "ContainerNotFound":
                    raise
                return False
        return True

    async def _delete_many(self, keys: list[str]) -> int:
        for key in keys:  # Azure's own name limits, for every key before any is deleted
            self._blob_name(key)
        gate = asyncio.Semaphore(self.settings.max_concurrency)

        async def one(key: str) -> bool:
            async with gate:
                return await self._delete(key)

        return sum(await asyncio.gather(*(one(k) for k in keys)))

    # -- listing ---------------------------------------------------------------------------

    async def _list(self, prefix: str, start_after: str | None) -> AsyncIterator[ObjectInfo]:
        await self._ready()
        walk, keep = self._listing_walk(prefix), self._listing_filter(start_after)
        reply: Any = None
        while True:
            try:
                command = walk.send(reply)
            except StopIteration:
                return
            reply = None
            if isinstance(command, Emit):
                if keep(command.item):
                    yield command.item
            elif isinstance(command, Next):
                with self._ctx.errors("list"):
                    reply = await anext(command.stream, None)
            elif isinstance(command, Open):
                reply = self._blobs(command.prefix)
            elif isinstance(command, Close):
                await command.stream.aclose()

    async def _blobs(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """The service's own listing of ``prefix``, in its order."""
        async for props in self._container.list_blobs(
            name_starts_with=self._layout.search_prefix(prefix),
            include=["metadata"],
            results_per_page=self.settings.list_page_size,
        ):
            yield self._info(self._layout.key_of(props.name), props)

    # -- copy ------------------------------------------------------------------------------

    async def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        if src == dst:
            info = await self._stat(src)
            if not overwrite:
                raise ObjectExistsError(f"an object already exists under key {dst!r}", key=dst)
            return info
        source = self._container.get_blob_client(self._blob_name(src))
        target = self._container.get_blob_client(self._blob_name(dst))
        await self._ready()
        conditions = self._conditions(overwrite)
        with self._ctx.errors("copy", src, create_only=not overwrite, target=dst):
            started = await target.start_copy_from_url(source.url, **conditions)
        status = started.get("copy_status")
        deadline, pause = time.monotonic() + COPY_TIMEOUT, 0.05
        while status == "pending":
            if time.monotonic() > deadline:
                with self._ctx.errors("copy", dst):
                    await target.abort_copy(started["copy_id"])
                raise StorageError(f"copying {src!r} to {dst!r} did not finish in {COPY_TIMEOUT:.0f}s", key=dst)
            await asyncio.sleep(pause)
            pause = min(pause * 2, COPY_POLL_MAX)
            with self._ctx.errors("copy", dst):
                status = copy_state(await target.get_blob_properties())
        if status not in ("success", None):
            raise StorageError(f"copying {src!r} to {dst!r} ended as {status!r}", key=dst)
        return await self._stat(dst)

    # -- presigned URLs, health, lifecycle -------------------------------------------------

    async def _presigned_url(self, key: str, *, expires_in: int, method: str) -> str:
        return self._presign(key, expires_in=expires_in, method=method)

    async def _health_probe(self) -> dict[str, Any]:
        await self._ready()
        with self._ctx.errors("check the container"):
            props = await self._container.get_container_properties()
        return self._health_details(props)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._service.close()
        if self._owned_credential is not None:
            await self._owned_credential.close()
