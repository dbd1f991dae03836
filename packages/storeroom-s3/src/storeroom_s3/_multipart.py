"""Bookkeeping shared by the sync and async multipart uploads and copies."""

from __future__ import annotations

import io
from typing import Any

from storeroom.errors import StorageError
from storeroom.logs import get_logger
from storeroom.streams import AsyncByteSource, ByteSource
from storeroom_s3._parts import MAX_PARTS, PartPlan

__all__ = [
    "COMPLETE_CONFLICT_RETRIES",
    "SUB_READ",
    "CompletedParts",
    "PartBody",
    "aread_part",
    "async_body",
    "log",
    "read_part",
]

#: a part is filled in reads of this size, so reading never holds more than ~one part plus this
SUB_READ = 1024 * 1024

log = get_logger("storeroom_s3")

#: a concurrent conditional write makes S3 answer 409 ConditionalRequestConflict; retrying resolves it
COMPLETE_CONFLICT_RETRIES = 3


class CompletedParts:
    """ETags of uploaded parts, in part-number order for CompleteMultipartUpload."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._etags: dict[int, str] = {}
        self.size = 0

    def check(self, number: int) -> None:
        """Raise when the body has data for a part past S3's last one."""
        if number > MAX_PARTS:
            raise StorageError(
                f"upload of {self.key!r} needs more than {MAX_PARTS} parts; raise part_size", key=self.key
            )

    @staticmethod
    def read_size(plan: PartPlan, number: int) -> int:
        """Bytes to read for part ``number``; past the last part, one byte shows whether the body goes on."""
        return plan.size(number) if number <= MAX_PARTS else 1

    def count(self, size: int) -> None:
        """Called by the one reader as parts are handed out (never from the senders)."""
        self.size += size

    def add(self, number: int, etag: str) -> None:
        self._etags[number] = etag  # one dict store: safe from worker threads

    def request(self) -> dict[str, Any]:
        return {"Parts": [{"ETag": self._etags[n], "PartNumber": n} for n in sorted(self._etags)]}


# A part is one preallocated buffer filled in SUB_READ steps and sent as is (botocore takes a
# bytearray body), instead of ``source.read(part_size)``, whose join-and-copy would briefly
# need three times the part size: with several parts in flight that is most of the memory.


def read_part(source: ByteSource, size: int) -> bytearray:
    """Up to ``size`` bytes of ``source``; shorter only at its end (empty when exhausted)."""
    piece = source.read(min(SUB_READ, size))
    if len(piece) < min(SUB_READ, size) or len(piece) == size:
        return bytearray(piece)  # a small body: no part-sized buffer (``read`` is short only at the end)
    buffer = bytearray(size)
    filled = 0
    with memoryview(buffer) as view:
        while piece:
            view[filled : filled + len(piece)] = piece
            filled += len(piece)
            piece = source.read(min(SUB_READ, size - filled)) if filled < size else b""
    del buffer[filled:]
    return buffer


async def aread_part(source: AsyncByteSource, size: int) -> bytearray:
    """The async twin of :func:`read_part`."""
    piece = await source.read(min(SUB_READ, size))
    if len(piece) < min(SUB_READ, size) or len(piece) == size:
        return bytearray(piece)
    buffer = bytearray(size)
    filled = 0
    with memoryview(buffer) as view:
        while piece:
            view[filled : filled + len(piece)] = piece
            filled += len(piece)
            piece = await source.read(min(SUB_READ, size - filled)) if filled < size else b""
    del buffer[filled:]
    return buffer


class PartBody(io.RawIOBase):
    """A seekable, read-only file over a part's buffer, without copying it.

    aiohttp writes a bytes body to the socket in one call, and asyncio's transport then
    copies whatever the socket did not take at once - most of a part - into its own
    buffer, doubling the memory of every part in flight. A file body is streamed in
    small reads with back-pressure instead. botocore seeks it back for retries.
    """

    def __init__(self, data: bytearray) -> None:
        super().__init__()
        self._view = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, min(base + offset, len(self._view)))
        return self._pos

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), len(self._view) - self._pos))
        buffer[:count] = self._view[self._pos : self._pos + count]
        self._pos += count
        return count

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(self._pos + size, len(self._view))
        out = bytes(self._view[self._pos : end])
        self._pos = max(self._pos, end)
        return out

    def __len__(self) -> int:
        return len(self._view)

    def close(self) -> None:
        """Kept readable: the HTTP layer closes bodies it sent, and a retry must resend."""


#: below this a body is sent as bytes: one socket write, no thread-pool reads
SMALL_BODY = 256 * 1024


def async_body(data: bytearray) -> bytes | PartBody:
    """The body to hand aiobotocore for ``data`` (see :class:`PartBody`)."""
    return bytes(data) if len(data) <= SMALL_BODY else PartBody(data)
