"""Does the server honour ``If-None-Match: *``? Asked once per store, before a create-only write.

S3 enforces the condition atomically on PutObject and CompleteMultipartUpload. Many
S3-compatible servers (s3rver, older MinIO and Ceph RGW) ignore the header and
overwrite, so ``overwrite=False`` would report success after replacing someone's
object. The probe writes a reserved key (``.storeroom/probes/<random>``), repeats
both kinds of write create-only over it, and removes it again. The steps are written
once, as a generator of SDK calls: the sync and async stores only drive it.
"""

from __future__ import annotations

import secrets
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from storeroom.errors import NotSupportedError
from storeroom_s3._errors import error_code
from storeroom_s3._multipart import log

__all__ = ["PROBE_PREFIX", "Call", "Reply", "Steps", "conditional_write_probe", "probe_key", "unconditional"]

#: under the reserved ``.storeroom`` prefix, so a probe never touches a user's key
PROBE_PREFIX = ".storeroom/probes/"

#: the answers that show the server evaluated the condition (412; 409 while racing a writer)
_HONOURED = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
_UNIMPLEMENTED = frozenset({"NotImplemented", "501"})


@dataclass(frozen=True)
class Call:
    """One SDK call: ``client.<operation>(**kwargs)``."""

    operation: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """What a :class:`Call` came back with: the response, or the service's refusal."""

    response: dict[str, Any] | None = None
    error: ClientError | None = None

    def unwrap(self) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return self.response or {}


#: a step machine: yields calls, is sent their replies, returns its verdict
Steps = Generator[Call, Reply, Any]


def probe_key() -> str:
    return PROBE_PREFIX + "conditional-write-" + secrets.token_hex(8)


def _ignored(reply: Reply, request: str) -> str | None:
    """None when the create-only ``request`` was refused as it should be, else what the server did."""
    if reply.error is None:
        return f"it overwrote an existing object on a {request} with If-None-Match: *"
    code = error_code(reply.error)
    status = str(reply.error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    if code in _HONOURED or status in _HONOURED:
        return None
    if code in _UNIMPLEMENTED or status in _UNIMPLEMENTED:
        return f"it does not implement If-None-Match on {request}"
    raise reply.error


def conditional_write_probe(bucket: str, s3_key: str) -> Generator[Call, Reply, str | None]:
    """The probe's calls; returns None when create-only writes are safe, else why they are not."""
    loc = {"Bucket": bucket, "Key": s3_key}
    (yield Call("put_object", {**loc, "Body": b""})).unwrap()
    verdict = _ignored((yield Call("put_object", {**loc, "Body": b"", "IfNoneMatch": "*"})), "PutObject")
    if verdict is None:
        upload = (yield Call("create_multipart_upload", loc)).unwrap()["UploadId"]
        part = (yield Call("upload_part", {**loc, "UploadId": upload, "PartNumber": 1, "Body": b"x"})).unwrap()
        parts = {"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]}
        complete = {**loc, "UploadId": upload, "MultipartUpload": parts, "IfNoneMatch": "*"}
        verdict = _ignored((yield Call("complete_multipart_upload", complete)), "CompleteMultipartUpload")
        if verdict is None:  # refused, so the upload is still there
            _cleaned((yield Call("abort_multipart_upload", {**loc, "UploadId": upload})), f"upload {upload!r} of")
    _cleaned((yield Call("delete_object", loc)), "object")
    return verdict


def _cleaned(reply: Reply, what: str) -> None:
    """The verdict stands whether or not the probe's own leftovers could be removed."""
    if reply.error is not None:
        log.warning("could not remove the conditional-write probe's %s its key (%s)", what, error_code(reply.error))


def unconditional(key: str, service: str, why: str) -> NotSupportedError:
    """The refusal of a create-only write where the server does not enforce it (raised before any I/O)."""
    return NotSupportedError(
        f"cannot write {key!r} create-only (overwrite=False): {service} does not enforce If-None-Match ({why}), "
        "so the write could silently replace an object; nothing was written. Set conditional_writes = true only "
        "for a server that enforces it.",
        key=key,
    )
