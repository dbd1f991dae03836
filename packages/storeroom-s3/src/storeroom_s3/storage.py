"""``S3Storage``: the synchronous ``s3`` backend, on boto3/botocore."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from storeroom.errors import InvalidRangeError, ObjectExistsError, ObjectNotFoundError
from storeroom.logs import redact_loggers
from storeroom.objects import ObjectInfo
from storeroom.replies import note_leftover
from storeroom.storage import ObjectStorage
from storeroom.streams import ByteSource
from storeroom_s3._base import SDK_LOGGERS, S3Base, delete_failure
from storeroom_s3._client import client_kwargs, config_kwargs
from storeroom_s3._errors import error_code, s3_errors
from storeroom_s3._gate import KeyedLocks
from storeroom_s3._multipart import COMPLETE_CONFLICT_RETRIES, CompletedParts, read_part
from storeroom_s3._parts import PartPlan, split_ranges
from storeroom_s3._probe import Reply, Steps

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = ["S3Storage"]


class S3Storage(S3Base, ObjectStorage):
    """Objects in an S3 bucket (AWS or any S3-compatible server), under an optional prefix.

    Bodies smaller than ``part_size`` go in one PutObject; larger ones stream as a
    multipart upload with ``max_concurrency`` parts in flight, and any failure,
    interruption included, aborts the upload so nothing partial is ever visible.
    Create-only writes use ``If-None-Match: *``, which S3 enforces atomically; on a server
    that ignores it (probed once, see ``_probe``) they raise NotSupportedError instead.
    """

    def __init__(self, bucket: str | None = None, *, name: str = "default", **options: Any) -> None:
        super().__init__(bucket, name=name, **options)
        self._s3: BaseClient | None = None
        self._lock = threading.Lock()
        self._commits: KeyedLocks[threading.Lock] = KeyedLocks(threading.Lock)
        self._probe_lock = threading.Lock()

    # -- client -----------------------------------------------------------------------------

    @property
    def client(self) -> BaseClient:
        """The botocore S3 client (made on first use; the bucket is created then if asked)."""
        client = self._s3
        if client is None:
            with self._lock:
                if self._s3 is None:
                    self._s3 = self._make_client()
                client = self._s3
        return client

    def _make_client(self) -> BaseClient:
        import botocore.session
        from botocore.config import Config

        session = botocore.session.get_session()
        client = session.create_client(
            "s3", config=Config(**config_kwargs(self.settings)), **client_kwargs(self.settings)
        )
        redact_loggers(*SDK_LOGGERS)  # the loggers of the modules the SDK imported to make it
        if self.settings.create_bucket:
            self._ensure_bucket(client)
        return client

    def _ensure_bucket(self, client: BaseClient) -> None:
        from botocore.exceptions import ClientError

        with s3_errors("check the bucket", None, self.target):
            try:
                client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                    raise
            request: dict[str, Any] = {"Bucket": self.bucket}
            region = client.meta.region_name
            if region and region != "us-east-1":
                request["CreateBucketConfiguration"] = {"LocationConstraint": region}
            try:
                client.create_bucket(**request)
            except ClientError as exc:
                if error_code(exc) not in {"BucketAlreadyOwnedByYou"}:
                    raise

    @contextlib.contextmanager
    def _commit_gate(self, s3_key: str, overwrite: bool) -> Iterator[None]:
        """Serialise this store's create-only commits per key (see ``_gate``); overwrites pass."""
        if overwrite:
            yield
            return
        with self._commits.slot(s3_key) as lock, lock:
            yield

    def _drive(self, steps: Steps) -> Any:
        """Run a step machine's SDK calls; the service's refusals go back to it as replies."""
        from botocore.exceptions import ClientError

        try:
            call = next(steps)
            while True:
                try:
                    reply = Reply(dict(getattr(self.client, call.operation)(**call.kwargs)))
                except ClientError as exc:
                    reply = Reply(error=exc)
                call = steps.send(reply)
        except StopIteration as done:
            return done.value

    def _check_create_only(self, key: str) -> None:
        """Probe once whether the server enforces create-only writes; refuse them if not."""
        if self._conditional is None:
            with self._probe_lock:
                if self._conditional is None:
                    with s3_errors("check that the server enforces create-only writes", None, self.target):
                        self._probed(self._drive(self._probe_steps()))
        self._refuse_create_only(key)

    def close(self) -> None:
        with self._lock:
            client, self._s3 = self._s3, None
        if client is not None:
            client.close()

    # -- writes -----------------------------------------------------------------------------

    def _write(
        self, key: str, source: ByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        s3_key = self.keys.to_s3(key)  # S3's own limits, before any I/O
        args = self._object_args(s3_key, content_type, metadata)
        if not overwrite:
            self._check_create_only(key)
        plan = self._plan(source.length)
        first = read_part(source, plan.first)
        second = read_part(source, plan.size(2)) if len(first) == plan.first else bytearray()
        if not second:
            with self._commit_gate(s3_key, overwrite), s3_errors("write", key, self.target, create_only=not overwrite):
                response = self.client.put_object(Body=first, **args, **self._create_only(overwrite))
            return self._info_written(key, len(first), response, content_type, metadata)
        if not overwrite and self._exists(key):  # fail fast; the commit re-checks atomically
            raise ObjectExistsError(f"an object already exists under key {key!r} (create-only write)", key=key)
        with s3_errors("start an upload of", key, self.target):
            upload_id = self.client.create_multipart_upload(**args)["UploadId"]
        parts = CompletedParts(key)
        ahead = [first, second]  # handed over: this frame must not keep parts alive
        del first, second
        try:
            self._upload_parts(key, s3_key, upload_id, parts, plan, source, ahead)
            response = self._complete(key, s3_key, upload_id, parts, overwrite)
        except BaseException as exc:
            self._abort(exc, s3_key, upload_id)
            raise
        return self._info_written(key, parts.size, response, content_type, metadata)

    def _upload_parts(
        self,
        key: str,
        s3_key: str,
        upload_id: str,
        parts: CompletedParts,
        plan: PartPlan,
        source: ByteSource,
        ahead: list[bytearray],
    ) -> None:
        """Read parts in this thread (the caller's errors surface here) and send them from a pool."""
        limit = self.settings.max_concurrency
        pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="storeroom-s3-part")
        inflight: set[Future[None]] = set()

        def send(number: int, data: bytearray) -> None:
            with s3_errors("upload a part of", key, self.target):
                response = self.client.upload_part(
                    Body=data, PartNumber=number, UploadId=upload_id, **self._loc(s3_key)
                )
            parts.add(number, response["ETag"])

        def settle(which: set[Future[None]]) -> None:
            for future in which:
                inflight.discard(future)
                future.result()  # re-raises a failed part

        try:
            number, data = 1, ahead.pop(0)
            while data:
                parts.check(number)
                parts.count(len(data))
                if len(inflight) >= limit:
                    settle(wait(inflight, return_when=FIRST_COMPLETED).done)
                inflight.add(pool.submit(send, number, data))
                data = bytearray()  # drop our reference: the pool holds the part now
                number += 1
                data = ahead.pop(0) if ahead else read_part(source, parts.read_size(plan, number))
            settle(wait(inflight).done)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _complete(self, key: str, s3_key: str, upload_id: str, parts: CompletedParts, overwrite: bool) -> Any:
        from botocore.exceptions import ClientError

        for attempt in range(COMPLETE_CONFLICT_RETRIES + 1):
            with (
                self._commit_gate(s3_key, overwrite),
                s3_errors("finish the upload of", key, self.target, create_only=not overwrite),
            ):
                try:
                    return self.client.complete_multipart_upload(
                        UploadId=upload_id,
                        MultipartUpload=parts.request(),
                        **self._loc(s3_key),
                        **self._create_only(overwrite),
                    )
                except ClientError as exc:
                    if error_code(exc) != "ConditionalRequestConflict" or attempt == COMPLETE_CONFLICT_RETRIES:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _abort(self, failure: BaseException, s3_key: str, upload_id: str) -> None:
        """Abort after ``failure``; if that fails too, ``failure`` says what was left."""
        try:
            self.client.abort_multipart_upload(UploadId=upload_id, **self._loc(s3_key))
        except Exception as exc:  # noqa: BLE001 - the original failure is the one to raise
            leftover = self._abort_failed(s3_key, upload_id, exc)
            if leftover is not None:
                note_leftover(failure, leftover)

    # -- reads ------------------------------------------------------------------------------

    def _head(self, key: str) -> dict[str, Any]:
        with s3_errors("stat", key, self.target):
            return dict(self.client.head_object(**self._loc(self.keys.to_s3(key))))

    def _stat(self, key: str) -> ObjectInfo:
        return self._info_from_head(key, self._head(key))

    def _exists(self, key: str) -> bool:
        try:
            self._head(key)
        except ObjectNotFoundError:
            return False
        return True

    def _read_stream(self, key: str, chunk_size: int) -> Iterator[bytes]:
        s3_key = self.keys.to_s3(key)
        with s3_errors("read", key, self.target):
            body = self.client.get_object(**self._loc(s3_key))["Body"]
        try:
            while True:
                with s3_errors("read", key, self.target):
                    chunk = body.read(chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    def _read(self, key: str) -> bytes:
        s3_key = self.keys.to_s3(key)
        with s3_errors("read", key, self.target):
            body = self.client.get_object(**self._loc(s3_key))["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        if start == end:
            self._head(key)  # an empty slice of a missing object is still missing
            return b""
        s3_key = self.keys.to_s3(key)
        reply = self._range_reply(key, start, end)
        try:
            with s3_errors("read", key, self.target):
                response = self.client.get_object(Range=reply.header, **self._loc(s3_key))
                body = response["Body"]
                try:  # the headers are checked first: a server ignoring the range sends the whole object
                    due = reply.check(response.get("ContentRange"), response.get("ContentLength"))
                    return reply.check_data(bytes(body.read()) if due else b"")
                finally:
                    body.close()
        except InvalidRangeError:
            return b""  # 416: start at or past the end, an empty slice like bytes[start:end]

    # -- deletes ----------------------------------------------------------------------------

    def _delete(self, key: str) -> bool:
        existed = self._exists(key)
        if existed:
            with s3_errors("delete", key, self.target):
                self.client.delete_object(**self._loc(self.keys.to_s3(key)))
        return existed

    def _delete_many(self, keys: list[str]) -> int:
        unique = list(dict.fromkeys(keys))
        s3_keys = [self.keys.to_s3(k) for k in unique]
        with ThreadPoolExecutor(self.settings.max_concurrency, thread_name_prefix="storeroom-s3-head") as pool:
            existing = sum(pool.map(self._exists, unique))
        errors: list[tuple[str, str, str]] = []
        for batch in self._delete_batches(s3_keys):
            with s3_errors("delete objects", None, self.target):
                response = self.client.delete_objects(**self._delete_request(batch))
            errors += self._delete_errors(response)
        if errors:
            raise delete_failure(errors, existing)
        return existing

    # -- listing ----------------------------------------------------------------------------

    def _list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        request = self._list_request(prefix, start_after)
        order = self._listing_order()
        while True:
            with s3_errors("list", None, self.target):
                page = self.client.list_objects_v2(**request)
            yield from self._listed(page, order)
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            request["ContinuationToken"] = token

    # -- copies -----------------------------------------------------------------------------

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        src_s3, dst_s3 = self.keys.to_s3(src), self.keys.to_s3(dst)  # S3's own limits, before any I/O
        if not overwrite:
            self._check_create_only(dst)
        head = self._head(src)
        if src == dst and overwrite:
            return self._info_from_head(dst, head)
        if not overwrite and self._exists(dst):
            raise ObjectExistsError(f"an object already exists under key {dst!r} (create-only copy)", key=dst)
        size = int(head.get("ContentLength", 0))
        content_type, raw_meta = head.get("ContentType"), head.get("Metadata", {})
        info = self._info_from_head(dst, head)
        args = self._object_args(dst_s3, content_type, raw_meta, encoded=True)
        if overwrite and size <= self.settings.multipart_copy_threshold:
            with s3_errors("copy to", dst, self.target):
                response = self.client.copy_object(
                    CopySource=self._copy_source(src_s3),
                    CopySourceIfMatch=head["ETag"],
                    MetadataDirective="COPY",
                    **self._loc(dst_s3),
                )
            return self._info_written(dst, size, response.get("CopyObjectResult", {}), content_type, info.metadata)
        if size == 0:
            with (
                self._commit_gate(dst_s3, overwrite),
                s3_errors("copy to", dst, self.target, create_only=not overwrite),
            ):
                response = self.client.put_object(Body=b"", **args, **self._create_only(overwrite))
            return self._info_written(dst, 0, response, content_type, info.metadata)
        with s3_errors("start a copy to", dst, self.target):
            upload_id = self.client.create_multipart_upload(**args)["UploadId"]
        parts = CompletedParts(dst)
        try:
            self._copy_parts(dst, dst_s3, upload_id, parts, src_s3, head["ETag"], size)
            response = self._complete(dst, dst_s3, upload_id, parts, overwrite)
        except BaseException as exc:
            self._abort(exc, dst_s3, upload_id)
            raise
        return self._info_written(dst, size, response, content_type, info.metadata)

    def _copy_parts(
        self, key: str, s3_key: str, upload_id: str, parts: CompletedParts, src_s3: str, etag: str, size: int
    ) -> None:
        def send(number: int, first: int, last: int) -> None:
            with s3_errors("copy a part to", key, self.target):
                response = self.client.upload_part_copy(
                    CopySource=self._copy_source(src_s3),
                    CopySourceRange=f"bytes={first}-{last}",
                    CopySourceIfMatch=etag,
                    PartNumber=number,
                    UploadId=upload_id,
                    **self._loc(s3_key),
                )
            parts.add(number, response["CopyPartResult"]["ETag"])

        ranges = split_ranges(size, self._copy_part_size(size))
        with ThreadPoolExecutor(self.settings.max_concurrency, thread_name_prefix="storeroom-s3-copy") as pool:
            futures = [pool.submit(send, n, first, last) for n, (first, last) in enumerate(ranges, 1)]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    # -- the rest ---------------------------------------------------------------------------

    def _presigned_url(self, key: str, *, expires_in: int, method: str) -> str:
        operation = "get_object" if method == "GET" else "put_object"
        with s3_errors("presign", key, self.target):
            url = self.client.generate_presigned_url(
                operation, Params=self._loc(self.keys.to_s3(key)), ExpiresIn=expires_in
            )
        return str(url)

    def _health_probe(self) -> dict[str, Any]:
        with s3_errors("reach the bucket", None, self.target):
            self.client.head_bucket(Bucket=self.bucket)
        return {"bucket": self.bucket, "prefix": self.prefix, "endpoint": self.target.endpoint}
