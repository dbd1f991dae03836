"""``AsyncS3Storage``: the native async ``s3`` backend, on aiobotocore."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from storeroom.errors import InvalidRangeError, ObjectExistsError, ObjectNotFoundError
from storeroom.logs import redact_loggers
from storeroom.objects import ObjectInfo
from storeroom.replies import note_leftover
from storeroom.storage import AsyncObjectStorage
from storeroom.streams import AsyncByteSource
from storeroom_s3._base import SDK_LOGGERS, S3Base, delete_failure
from storeroom_s3._client import client_kwargs, config_kwargs
from storeroom_s3._errors import error_code, s3_errors
from storeroom_s3._gate import KeyedLocks
from storeroom_s3._multipart import COMPLETE_CONFLICT_RETRIES, CompletedParts, aread_part, async_body
from storeroom_s3._parts import PartPlan, split_ranges
from storeroom_s3._probe import Reply, Steps

if TYPE_CHECKING:
    from aiobotocore.client import AioBaseClient

__all__ = ["AsyncS3Storage"]


class AsyncS3Storage(S3Base, AsyncObjectStorage):
    """The async twin of :class:`~storeroom_s3.S3Storage`, with the same rules and errors.

    Parts of a multipart upload are sent as tasks (``max_concurrency`` at a time);
    cancelling the writing task cancels them and aborts the upload. The client
    belongs to the event loop that first used the store.
    """

    def __init__(self, bucket: str | None = None, *, name: str = "default", **options: Any) -> None:
        super().__init__(bucket, name=name, **options)
        self._s3: AioBaseClient | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        self._commits: KeyedLocks[asyncio.Lock] = KeyedLocks(asyncio.Lock)
        self._probe_lock = asyncio.Lock()

    # -- client -----------------------------------------------------------------------------

    async def get_client(self) -> AioBaseClient:
        """The aiobotocore S3 client (made on first use; the bucket is created then if asked)."""
        if self._s3 is not None:
            return self._s3
        async with self._lock:
            if self._s3 is None:
                from aiobotocore.config import AioConfig
                from aiobotocore.session import get_session

                stack = contextlib.AsyncExitStack()
                maker = get_session().create_client(
                    "s3", config=AioConfig(**config_kwargs(self.settings)), **client_kwargs(self.settings)
                )
                client = await stack.enter_async_context(maker)
                redact_loggers(*SDK_LOGGERS)  # the loggers of the modules the SDK imported to make it
                try:
                    if self.settings.create_bucket:
                        await self._ensure_bucket(client)
                except BaseException:
                    await stack.aclose()
                    raise
                self._s3, self._stack = client, stack
            return self._s3

    async def _ensure_bucket(self, client: AioBaseClient) -> None:
        from botocore.exceptions import ClientError

        with s3_errors("check the bucket", None, self.target):
            try:
                await client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                    raise
            request: dict[str, Any] = {"Bucket": self.bucket}
            region = client.meta.region_name
            if region and region != "us-east-1":
                request["CreateBucketConfiguration"] = {"LocationConstraint": region}
            try:
                await client.create_bucket(**request)
            except ClientError as exc:
                if error_code(exc) not in {"BucketAlreadyOwnedByYou"}:
                    raise

    @contextlib.asynccontextmanager
    async def _commit_gate(self, s3_key: str, overwrite: bool) -> AsyncIterator[None]:
        """Serialise this store's create-only commits per key (see ``_gate``); overwrites pass."""
        if overwrite:
            yield
            return
        with self._commits.slot(s3_key) as lock:
            async with lock:
                yield

    async def _drive(self, steps: Steps) -> Any:
        """Run a step machine's SDK calls; the service's refusals go back to it as replies."""
        from botocore.exceptions import ClientError

        client = await self.get_client()
        try:
            call = next(steps)
            while True:
                try:
                    reply = Reply(dict(await getattr(client, call.operation)(**call.kwargs)))
                except ClientError as exc:
                    reply = Reply(error=exc)
                call = steps.send(reply)
        except StopIteration as done:
            return done.value

    async def _check_create_only(self, key: str) -> None:
        """Probe once whether the server enforces create-only writes; refuse them if not."""
        if self._conditional is None:
            async with self._probe_lock:
                if self._conditional is None:
                    with s3_errors("check that the server enforces create-only writes", None, self.target):
                        self._probed(await self._drive(self._probe_steps()))
        self._refuse_create_only(key)

    async def close(self) -> None:
        stack, self._stack, self._s3 = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    # -- writes -----------------------------------------------------------------------------

    async def _write(
        self, key: str, source: AsyncByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        s3_key = self.keys.to_s3(key)  # S3's own limits, before any I/O
        args = self._object_args(s3_key, content_type, metadata)
        if not overwrite:
            await self._check_create_only(key)
        plan = self._plan(source.length)
        first = await aread_part(source, plan.first)
        second = await aread_part(source, plan.size(2)) if len(first) == plan.first else bytearray()
        client = await self.get_client()
        if not second:
            async with self._commit_gate(s3_key, overwrite):
                with s3_errors("write", key, self.target, create_only=not overwrite):
                    response = await client.put_object(Body=async_body(first), **args, **self._create_only(overwrite))
            return self._info_written(key, len(first), response, content_type, metadata)
        if not overwrite and await self._exists(key):  # fail fast; the commit re-checks atomically
            raise ObjectExistsError(f"an object already exists under key {key!r} (create-only write)", key=key)
        with s3_errors("start an upload of", key, self.target):
            upload_id = (await client.create_multipart_upload(**args))["UploadId"]
        parts = CompletedParts(key)
        ahead = [first, second]  # handed over: this frame must not keep parts alive
        del first, second
        try:
            await self._upload_parts(client, key, s3_key, upload_id, parts, plan, source, ahead)
            response = await self._complete(client, key, s3_key, upload_id, parts, overwrite)
        except BaseException as exc:
            await self._abort_shielded(client, exc, s3_key, upload_id)
            raise
        return self._info_written(key, parts.size, response, content_type, metadata)

    async def _upload_parts(
        self,
        client: AioBaseClient,
        key: str,
        s3_key: str,
        upload_id: str,
        parts: CompletedParts,
        plan: PartPlan,
        source: AsyncByteSource,
        ahead: list[bytearray],
    ) -> None:
        """Read parts in this task (the caller's errors surface here); send them as tasks."""
        limit = self.settings.max_concurrency
        inflight: set[asyncio.Task[None]] = set()

        async def send(number: int, data: bytearray) -> None:
            with s3_errors("upload a part of", key, self.target):
                response = await client.upload_part(
                    Body=async_body(data), PartNumber=number, UploadId=upload_id, **self._loc(s3_key)
                )
            parts.add(number, response["ETag"])

        async def settle(return_when: str) -> None:
            done, _ = await asyncio.wait(inflight, return_when=return_when)
            for task in done:
                inflight.discard(task)
                task.result()  # re-raises a failed part

        try:
            number, data = 1, ahead.pop(0)
            while data:
                parts.check(number)
                parts.count(len(data))
                inflight.add(asyncio.ensure_future(send(number, data)))
                data = bytearray()  # drop our reference: the task holds the part now
                number += 1
                if len(inflight) >= limit:  # a free slot before reading on: at most `limit` parts in memory
                    await settle(asyncio.FIRST_COMPLETED)
                data = ahead.pop(0) if ahead else await aread_part(source, parts.read_size(plan, number))
            if inflight:
                await settle(asyncio.ALL_COMPLETED)
        finally:
            await _cancel_all(inflight)

    async def _complete(
        self, client: AioBaseClient, key: str, s3_key: str, upload_id: str, parts: CompletedParts, overwrite: bool
    ) -> Any:
        from botocore.exceptions import ClientError

        for attempt in range(COMPLETE_CONFLICT_RETRIES + 1):
            async with self._commit_gate(s3_key, overwrite):
                with s3_errors("finish the upload of", key, self.target, create_only=not overwrite):
                    try:
                        return await client.complete_multipart_upload(
                            UploadId=upload_id,
                            MultipartUpload=parts.request(),
                            **self._loc(s3_key),
                            **self._create_only(overwrite),
                        )
                    except ClientError as exc:
                        if error_code(exc) != "ConditionalRequestConflict" or attempt == COMPLETE_CONFLICT_RETRIES:
                            raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _abort(self, client: AioBaseClient, failure: BaseException, s3_key: str, upload_id: str) -> None:
        """Abort after ``failure``; if that fails too, ``failure`` says what was left."""
        try:
            await client.abort_multipart_upload(UploadId=upload_id, **self._loc(s3_key))
        except Exception as exc:  # noqa: BLE001 - the original failure is the one to raise
            leftover = self._abort_failed(s3_key, upload_id, exc)
            if leftover is not None:
                note_leftover(failure, leftover)

    async def _abort_shielded(self, client: AioBaseClient, failure: BaseException, s3_key: str, upload_id: str) -> None:
        """Abort even while being cancelled: a second cancel leaves the abort running to the end."""
        task = asyncio.ensure_future(self._abort(client, failure, s3_key, upload_id))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)
            raise

    # -- reads ------------------------------------------------------------------------------

    async def _head(self, key: str) -> dict[str, Any]:
        s3_key = self.keys.to_s3(key)
        client = await self.get_client()
        with s3_errors("stat", key, self.target):
            return dict(await client.head_object(**self._loc(s3_key)))

    async def _stat(self, key: str) -> ObjectInfo:
        return self._info_from_head(key, await self._head(key))

    async def _exists(self, key: str) -> bool:
        try:
            await self._head(key)
        except ObjectNotFoundError:
            return False
        return True

    async def _read_stream(self, key: str, chunk_size: int) -> AsyncIterator[bytes]:
        s3_key = self.keys.to_s3(key)
        client = await self.get_client()
        with s3_errors("read", key, self.target):
            body = (await client.get_object(**self._loc(s3_key)))["Body"]
        async with body:
            while True:
                with s3_errors("read", key, self.target):
                    chunk = await body.read(chunk_size)
                if not chunk:
                    return
                yield chunk

    async def _read(self, key: str) -> bytes:
        s3_key = self.keys.to_s3(key)
        client = await self.get_client()
        with s3_errors("read", key, self.target):
            body = (await client.get_object(**self._loc(s3_key)))["Body"]
            async with body:
                return bytes(await body.read())

    async def _read_range(self, key: str, start: int, end: int) -> bytes:
        if start == end:
            await self._head(key)  # an empty slice of a missing object is still missing
            return b""
        s3_key = self.keys.to_s3(key)
        reply = self._range_reply(key, start, end)
        client = await self.get_client()
        try:
            with s3_errors("read", key, self.target):
                response = await client.get_object(Range=reply.header, **self._loc(s3_key))
                body = response["Body"]
                async with body:  # the headers first: a server ignoring the range sends the whole object
                    due = reply.check(response.get("ContentRange"), response.get("ContentLength"))
                    return reply.check_data(bytes(await body.read()) if due else b"")
        except InvalidRangeError:
            return b""  # 416: start at or past the end, an empty slice like bytes[start:end]

    # -- deletes ----------------------------------------------------------------------------

    async def _delete(self, key: str) -> bool:
        existed = await self._exists(key)
        if existed:
            client = await self.get_client()
            with s3_errors("delete", key, self.target):
                await client.delete_object(**self._loc(self.keys.to_s3(key)))
        return existed

    async def _delete_many(self, keys: list[str]) -> int:
        unique = list(dict.fromkeys(keys))
        s3_keys = [self.keys.to_s3(k) for k in unique]
        gate = asyncio.Semaphore(self.settings.max_concurrency)

        async def exists(key: str) -> bool:
            async with gate:
                return await self._exists(key)

        existing = sum(await asyncio.gather(*(exists(k) for k in unique)))
        client = await self.get_client()
        errors: list[tuple[str, str, str]] = []
        for batch in self._delete_batches(s3_keys):
            with s3_errors("delete objects", None, self.target):
                response = await client.delete_objects(**self._delete_request(batch))
            errors += self._delete_errors(response)
        if errors:
            raise delete_failure(errors, existing)
        return existing

    # -- listing ----------------------------------------------------------------------------

    async def _list(self, prefix: str, start_after: str | None) -> AsyncIterator[ObjectInfo]:
        request = self._list_request(prefix, start_after)
        client = await self.get_client()
        order = self._listing_order()
        while True:
            with s3_errors("list", None, self.target):
                page = await client.list_objects_v2(**request)
            for info in self._listed(page, order):
                yield info
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            request["ContinuationToken"] = token

    # -- copies -----------------------------------------------------------------------------

    async def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        src_s3, dst_s3 = self.keys.to_s3(src), self.keys.to_s3(dst)  # S3's own limits, before any I/O
        if not overwrite:
            await self._check_create_only(dst)
        head = await self._head(src)
        if src == dst and overwrite:
            return self._info_from_head(dst, head)
        if not overwrite and await self._exists(dst):
            raise ObjectExistsError(f"an object already exists under key {dst!r} (create-only copy)", key=dst)
        client = await self.get_client()
        size = int(head.get("ContentLength", 0))
        content_type, raw_meta = head.get("ContentType"), head.get("Metadata", {})
        info = self._info_from_head(dst, head)
        args = self._object_args(dst_s3, content_type, raw_meta, encoded=True)
        if overwrite and size <= self.settings.multipart_copy_threshold:
            with s3_errors("copy to", dst, self.target):
                response = await client.copy_object(
                    CopySource=self._copy_source(src_s3),
                    CopySourceIfMatch=head["ETag"],
                    MetadataDirective="COPY",
                    **self._loc(dst_s3),
                )
            return self._info_written(dst, size, response.get("CopyObjectResult", {}), content_type, info.metadata)
        if size == 0:
            async with self._commit_gate(dst_s3, overwrite):
                with s3_errors("copy to", dst, self.target, create_only=not overwrite):
                    response = await client.put_object(Body=b"", **args, **self._create_only(overwrite))
            return self._info_written(dst, 0, response, content_type, info.metadata)
        with s3_errors("start a copy to", dst, self.target):
            upload_id = (await client.create_multipart_upload(**args))["UploadId"]
        parts = CompletedParts(dst)
        try:
            await self._copy_parts(client, dst, dst_s3, upload_id, parts, src_s3, head["ETag"], size)
            response = await self._complete(client, dst, dst_s3, upload_id, parts, overwrite)
        except BaseException as exc:
            await self._abort_shielded(client, exc, dst_s3, upload_id)
            raise
        return self._info_written(dst, size, response, content_type, info.metadata)

    async def _copy_parts(
        self,
        client: AioBaseClient,
        key: str,
        s3_key: str,
        upload_id: str,
        parts: CompletedParts,
        src_s3: str,
        etag: str,
        size: int,
    ) -> None:
        gate = asyncio.Semaphore(self.settings.max_concurrency)

        async def send(number: int, first: int, last: int) -> None:
            async with gate:
                with s3_errors("copy a part to", key, self.target):
                    response = await client.upload_part_copy(
                        CopySource=self._copy_source(src_s3),
                        CopySourceRange=f"bytes={first}-{last}",
                        CopySourceIfMatch=etag,
                        PartNumber=number,
                        UploadId=upload_id,
                        **self._loc(s3_key),
                    )
            parts.add(number, response["CopyPartResult"]["ETag"])

        ranges = split_ranges(size, self._copy_part_size(size))
        tasks = {asyncio.ensure_future(send(n, first, last)) for n, (first, last) in enumerate(ranges, 1)}
        try:
            for task in asyncio.as_completed(tasks):
                await task
        finally:
            await _cancel_all(tasks)

    # -- the rest ---------------------------------------------------------------------------

    async def _presigned_url(self, key: str, *, expires_in: int, method: str) -> str:
        operation = "get_object" if method == "GET" else "put_object"
        client = await self.get_client()
        with s3_errors("presign", key, self.target):
            url = await client.generate_presigned_url(
                operation, Params=self._loc(self.keys.to_s3(key)), ExpiresIn=expires_in
            )
        return str(url)

    async def _health_probe(self) -> dict[str, Any]:
        client = await self.get_client()
        with s3_errors("reach the bucket", None, self.target):
            await client.head_bucket(Bucket=self.bucket)
        return {"bucket": self.bucket, "prefix": self.prefix, "endpoint": self.target.endpoint}


#: aborts still running after their writer was cancelled twice (kept referenced until done)
_BACKGROUND: set[asyncio.Future[None]] = set()


async def _cancel_all(tasks: set[asyncio.Task[None]] | set[asyncio.Future[None]]) -> None:
    """Cancel what is still running and wait for it, so no part lands after an abort."""
    pending = [t for t in tasks if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:  # parts that failed besides the one re-raised: not "never retrieved"
        if not task.cancelled():
            task.exception()
