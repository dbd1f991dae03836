"""``AzureBlobStorage``: the synchronous ``azure`` backend, on ``azure.storage.blob``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobServiceClient, ExponentialRetry

from storeroom.errors import ObjectExistsError, PreconditionFailedError, StorageError
from storeroom.logs import get_logger
from storeroom.objects import ObjectInfo
from storeroom.storage import ObjectStorage
from storeroom.streams import ByteSource
from storeroom_azure._base import AzureBase
from storeroom_azure._blocks import BlockIds
from storeroom_azure._clients import retry_policy
from storeroom_azure._copy import COPY_POLL_MAX, COPY_TIMEOUT, copy_state
from storeroom_azure._errors import error_code, status_of
from storeroom_azure._order import Close, Emit, Next, Open
from storeroom_azure._reading import blocks
from storeroom_azure.settings import AzureBlobStorageSettings

__all__ = ["AzureBlobStorage"]

_log = get_logger("storeroom_azure")


class AzureBlobStorage(AzureBase, ObjectStorage):
    """Objects as block blobs in one Azure container (optionally under a folder ``prefix``).

    Bodies up to ``block_size`` go up in one request; larger ones are staged as
    blocks (``max_concurrency`` at a time, so memory stays near
    ``max_concurrency * block_size``) and become visible only when the block list
    is committed. A failed upload commits nothing; its staged blocks stay
    uncommitted until the service discards them, and the error says so.
    """

    _AIO = False

    def _client_class(self) -> Any:
        return BlobServiceClient

    def _transport_options(self, settings: AzureBlobStorageSettings) -> dict[str, Any]:
        import requests
        from azure.core.pipeline.transport import RequestsTransport

        session = requests.Session()
        pool = max(16, 4 * settings.max_concurrency)  # several threads, each with parallel blocks
        adapter = requests.adapters.HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return {
            "retry_policy": retry_policy(ExponentialRetry, settings),
            "transport": RequestsTransport(
                session=session,
                session_owner=True,
                connection_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout,
            ),
        }

    def _ready(self) -> None:
        """Create the container on first use when ``create_container`` is set."""
        if self._container_ready:
            return
        with self._ctx.errors("create the container"):
            try:
                self._container.create_container()
            except ResourceExistsError:
                pass
        self._container_ready = True

    # -- writing ---------------------------------------------------------------------------

    def _write(
        self, key: str, source: ByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        blob = self._container.get_blob_client(self._blob_name(key))
        options = self._write_options(content_type, metadata)  # validated before any I/O
        self._ready()
        block_size = self.settings.block_size
        first = source.read(block_size)  # the caller's own errors pass through unchanged
        second = source.read(block_size) if len(first) == block_size else b""
        if not second:
            with self._ctx.errors("write", key, create_only=not overwrite):
                response = blob.upload_blob(first, length=len(first), overwrite=overwrite, max_concurrency=1, **options)
            return self._written(key, len(first), content_type, metadata, response)
        if not overwrite and self._exists(key):  # fail fast; the commit re-checks atomically
            raise ObjectExistsError(f"an object already exists under key {key!r}", key=key)
        head = [first, second]
        del first, second
        ids = BlockIds(self.settings.block_size)
        try:
            size = self._stage_all(blob, key, ids, blocks(head, source, block_size))
            response = self._commit(blob, key, ids.ids, options, overwrite)
        except BaseException as exc:
            self._note_uncommitted(exc, key, ids)
            raise
        return self._written(key, size, content_type, metadata, response)

    def _stage_all(self, blob: Any, key: str, ids: BlockIds, body: Iterator[bytes]) -> int:
        """Stage every block, at most ``max_concurrency`` in flight; on any error stage no more."""
        size = 0
        limit = self.settings.max_concurrency
        running: set[Future[None]] = set()
        pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="storeroom-azure-upload")
        try:
            for block in body:
                running.add(pool.submit(self._stage, blob, key, ids.next(), block))
                size += len(block)
                del block
                if len(running) >= limit:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
            done, running = wait(running)
            for future in done:
                future.result()
        finally:
            for future in running:
                future.cancel()
            pool.shutdown(wait=True)
        return size

    def _stage(self, blob: Any, key: str, block_id: str, data: bytes) -> None:
        with self._ctx.errors("write", key):
            blob.stage_block(block_id, data, length=len(data))

    def _commit(self, blob: Any, key: str, ids: list[str], options: dict[str, Any], overwrite: bool) -> Any:
        try:
            with self._ctx.errors("write", key, create_only=not overwrite):
                return blob.commit_block_list(
                    [BlobBlock(block_id=i) for i in ids], **options, **self._conditions(overwrite)
                )
        except StorageError as exc:
            cause = exc.__cause__
            if cause is None or error_code(cause) != "InvalidBlockList":
                raise
            # Another writer committed this blob first, which discards our staged blocks.
            if not overwrite and self._exists(key):
                raise ObjectExistsError(f"an object already exists under key {key!r}", key=key) from None
            raise PreconditionFailedError(
                f"could not write {key!r}: a concurrent write to the same key committed first and discarded this "
                "upload's staged blocks; nothing of this upload was stored, try again",
                key=key,
            ) from cause

    # -- reading ---------------------------------------------------------------------------

    def _read(self, key: str) -> bytes:
        blob = self._container.get_blob_client(self._blob_name(key))
        with self._ctx.errors("read", key):
            data: bytes = blob.download_blob(max_concurrency=self.settings.max_concurrency).readall()
        return data

    def _read_stream(self, key: str, chunk_size: int) -> Iterator[bytes]:
        blob = self._container.get_blob_client(self._blob_name(key))
        with self._ctx.errors("read", key):
            chunks = blob.download_blob(max_concurrency=1).chunks()
        while True:
            with self._ctx.errors("read", key):
                chunk = next(chunks, None)
            if chunk is None:
                return
            for start in range(0, len(chunk), chunk_size):
                yield chunk[start : start + chunk_size]

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        if start == end:
            if not self._exists(key):
                raise self._missing(key)
            return b""
        blob = self._container.get_blob_client(self._blob_name(key))
        reply = self._range_reply(key, start, end)
        with self._ctx.errors("read", key):
            try:
                data: bytes = blob.download_blob(
                    max_concurrency=self.settings.max_concurrency, **self._range_options(reply)
                ).readall()
            except HttpResponseError as exc:
                if status_of(exc) == 416:  # starts at or past the end: an empty slice
                    return b""
                raise
        return reply.check_data(data)

    def _stat(self, key: str) -> ObjectInfo:
        blob = self._container.get_blob_client(self._blob_name(key))
        with self._ctx.errors("stat", key):
            props = blob.get_blob_properties()
        return self._info(key, props)

    def _exists(self, key: str) -> bool:
        blob = self._container.get_blob_client(self._blob_name(key))
        with self._ctx.errors("stat", key):
            return bool(blob.exists())

    # -- deleting --------------------------------------------------------------------------

    def _delete(self, key: str) -> bool:
        blob = self._container.get_blob_client(self._blob_name(key))
        self._ready()
        with self._ctx.errors("delete", key):
            try:
                blob.delete_blob(delete_snapshots="include")
            except ResourceNotFoundError as exc:
                if error_code(exc) == "ContainerNotFound":
                    raise
                return False
        return True

    def _delete_many(self, keys: list[str]) -> int:
        for key in keys:  # Azure's own name limits, for every key before any is deleted
            self._blob_name(key)
        if len(keys) == 1 or self.settings.max_concurrency == 1:
            return sum(1 for key in keys if self._delete(key))
        with ThreadPoolExecutor(self.settings.max_concurrency, thread_name_prefix="storeroom-azure-delete") as pool:
            return sum(pool.map(self._delete, keys))

    # -- listing ---------------------------------------------------------------------------

    def _list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        self._ready()
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
                    reply = next(command.stream, None)
            elif isinstance(command, Open):
                reply = self._blobs(command.prefix)
            elif isinstance(command, Close):
                command.stream.close()

    def _blobs(self, prefix: str) -> Iterator[ObjectInfo]:
        """The service's own listing of ``prefix``, in its order."""
        for props in self._container.list_blobs(
            name_starts_with=self._layout.search_prefix(prefix),
            include=["metadata"],
            results_per_page=self.settings.list_page_size,
        ):
            yield self._info(self._layout.key_of(props.name), props)

    # -- copy ------------------------------------------------------------------------------

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        if src == dst:
            info = self._stat(src)
            if not overwrite:
                raise ObjectExistsError(f"an object already exists under key {dst!r}", key=dst)
            return info
        source = self._container.get_blob_client(self._blob_name(src))
        target = self._container.get_blob_client(self._blob_name(dst))
        self._ready()
        conditions = self._conditions(overwrite)
        with self._ctx.errors("copy", src, create_only=not overwrite, target=dst):
            started = target.start_copy_from_url(source.url, **conditions)
        status = started.get("copy_status")
        deadline, pause = time.monotonic() + COPY_TIMEOUT, 0.05
        while status == "pending":
            if time.monotonic() > deadline:
                with self._ctx.errors("copy", dst):
                    target.abort_copy(started["copy_id"])
                raise StorageError(f"copying {src!r} to {dst!r} did not finish in {COPY_TIMEOUT:.0f}s", key=dst)
            time.sleep(pause)
            pause = min(pause * 2, COPY_POLL_MAX)
            with self._ctx.errors("copy", dst):
                status = copy_state(target.get_blob_properties())
        if status not in ("success", None):
            raise StorageError(f"copying {src!r} to {dst!r} ended as {status!r}", key=dst)
        return self._stat(dst)

    # -- presigned URLs, health, lifecycle -------------------------------------------------

    def _presigned_url(self, key: str, *, expires_in: int, method: str) -> str:
        return self._presign(key, expires_in=expires_in, method=method)

    def _health_probe(self) -> dict[str, Any]:
        self._ready()
        with self._ctx.errors("check the container"):
            props = self._container.get_container_properties()
        return self._health_details(props)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._service.close()
        if self._owned_credential is not None:
            self._owned_credential.close()
