"""Write bodies normalised to chunk streams, with ``max_size`` enforced while streaming.

Backends never see the many shapes users pass (bytes, files, generators, async
iterables): they get a :class:`ByteSource` / :class:`AsyncByteSource` that yields
non-empty ``bytes`` chunks and raises :class:`ContentTooLargeError` the moment the
limit is crossed, so a backend only has to clean up on any exception. An exception
raised by the caller's own data source propagates unchanged.
"""

from __future__ import annotations

import inspect
import io
import os
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from storeroom.errors import ContentTooLargeError

__all__ = ["DEFAULT_CHUNK_SIZE", "AsyncByteSource", "ByteSource", "WriteData"]

DEFAULT_CHUNK_SIZE = 1024 * 1024

WriteData = bytes | bytearray | memoryview | io.IOBase | Iterable[bytes] | AsyncIterable[bytes] | Any
_BYTES_LIKE = (bytes, bytearray, memoryview)


def _too_large(max_size: int, seen: int | None = None) -> ContentTooLargeError:
    got = f" ({seen} bytes or more)" if seen is not None else ""
    return ContentTooLargeError(
        f"content exceeds max_size of {max_size} bytes{got}; nothing was stored", max_size=max_size
    )


def _known_length(data: Any) -> int | None:
    if isinstance(data, _BYTES_LIKE):
        return memoryview(data).nbytes
    try:
        if data.seekable():
            pos = int(data.tell())
            try:
                return int(os.fstat(data.fileno()).st_size) - pos
            except (AttributeError, OSError, io.UnsupportedOperation):
                end = data.seek(0, os.SEEK_END)
                data.seek(pos)
                return int(end) - int(pos)
    except (AttributeError, OSError, ValueError):
        pass
    return None


def _check_type(data: Any, *, allow_async: bool) -> None:
    if isinstance(data, str):
        raise TypeError("write() takes bytes, a binary file or an iterable of bytes, not str; encode it first")
    ok = isinstance(data, _BYTES_LIKE) or hasattr(data, "read") or isinstance(data, Iterable)
    if allow_async:
        ok = ok or isinstance(data, AsyncIterable)
    if not ok:
        raise TypeError(f"cannot write {type(data).__name__}: pass bytes, a binary file or an iterable of bytes")


class _Limit:
    def __init__(self, max_size: int | None, length: int | None) -> None:
        self.max_size = max_size
        self.bytes_read = 0
        if max_size is not None and length is not None and length > max_size:
            raise _too_large(max_size, length)

    def count(self, chunk: Any) -> bytes:
        if not isinstance(chunk, _BYTES_LIKE):
            raise TypeError(f"data source yielded {type(chunk).__name__}; it must yield bytes")
        data = chunk if isinstance(chunk, bytes) else bytes(chunk)  # len() of a memoryview counts items
        self.bytes_read += len(data)
        if self.max_size is not None and self.bytes_read > self.max_size:
            raise _too_large(self.max_size, self.bytes_read)
        return data


class _Source:
    """What the sync and async sources share: length, limit, buffer for ``read(n)``."""

    def __init__(self, data: Any, max_size: int | None, chunk_size: int) -> None:
        self.length = _known_length(data)
        self._limit = _Limit(max_size, self.length)
        self._data = data
        self._chunk_size = chunk_size
        self._pending: deque[bytes] = deque()  # chunks read ahead by read(n), oldest first
        self._offset = 0  # bytes of the oldest pending chunk already handed out
        self._pending_size = 0  # bytes pending, not counting those

    @property
    def bytes_read(self) -> int:
        return self._limit.bytes_read

    def _split(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        view = memoryview(data)
        for start in range(0, len(view), self._chunk_size):
            yield bytes(view[start : start + self._chunk_size])

    def _drain(self) -> bytes | None:
        """Bytes left over from ``read(n)``, handed out before iteration continues."""
        if not self._pending:
            return None
        return self._take(self._pending_size)

    def _keep(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)

    def _take(self, size: int) -> bytes:
        """``size`` bytes (fewer at the end) with each byte copied once: whole chunks are
        joined as they are, a chunk straddling the boundary is sliced through a view and
        stays pending (never copied again) with an offset."""
        pending = self._pending
        parts: list[bytes | memoryview] = []
        need = size
        while need > 0 and pending:
            chunk, offset = pending[0], self._offset
            available = len(chunk) - offset
            if available <= need:
                parts.append(memoryview(chunk)[offset:] if offset else chunk)
                pending.popleft()
                self._offset = 0
                need -= available
            else:
                parts.append(memoryview(chunk)[offset : offset + need])
                self._offset += need
                need = 0
        self._pending_size -= size - need
        if len(parts) == 1 and isinstance(parts[0], bytes):
            return parts[0]
        return b"".join(parts)


class ByteSource(_Source):
    """A synchronous write body. Iterate it for chunks, or ``read(n)`` for fixed-size parts."""

    def __init__(self, data: Any, *, max_size: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        _check_type(data, allow_async=False)
        if isinstance(data, AsyncIterable) and not isinstance(data, Iterable):
            raise TypeError("an async iterable needs the async API (AsyncObjectStorage.write)")
        super().__init__(data, max_size, chunk_size)
        self._iter: Iterator[bytes] | None = None

    def _raw_chunks(self) -> Iterator[bytes]:
        data = self._data
        if isinstance(data, _BYTES_LIKE):
            yield from self._split(data)
            return
        if hasattr(data, "read"):
            while chunk := data.read(self._chunk_size):
                yield chunk
            return
        yield from data

    def __iter__(self) -> Iterator[bytes]:
        if (buffered := self._drain()) is not None:
            yield buffered
        if self._iter is None:
            self._iter = self._raw_chunks()
        count = self._limit.count
        for chunk in self._iter:
            if chunk:
                yield count(chunk)

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; ``b""`` only at the end. Used by part-based uploads."""
        if self._iter is None:
            self._iter = self._raw_chunks()
        while self._pending_size < size:
            try:
                chunk = next(self._iter)
            except StopIteration:
                break
            if chunk:
                self._keep(self._limit.count(chunk))
        return self._take(size)


class AsyncByteSource(_Source):
    """The async twin of :class:`ByteSource`; also accepts async iterables and async files."""

    def __init__(self, data: Any, *, max_size: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        _check_type(data, allow_async=True)
        super().__init__(data, max_size, chunk_size)
        self._iter: AsyncIterator[bytes] | None = None

    async def _raw_chunks(self) -> AsyncIterator[bytes]:
        data = self._data
        if isinstance(data, _BYTES_LIKE):
            for part in self._split(data):
                yield part
            return
        if hasattr(data, "read"):
            while True:
                chunk = data.read(self._chunk_size)
                if inspect.isawaitable(chunk):
                    chunk = await chunk
                if not chunk:
                    return
                yield chunk
        if isinstance(data, AsyncIterable):
            async for chunk in data:
                yield chunk
            return
        for chunk in data:
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if (buffered := self._drain()) is not None:
            yield buffered
        if self._iter is None:
            self._iter = self._raw_chunks()
        count = self._limit.count
        async for chunk in self._iter:
            if chunk:
                yield count(chunk)

    async def read(self, size: int) -> bytes:
        if self._iter is None:
            self._iter = self._raw_chunks()
        while self._pending_size < size:
            try:
                chunk = await self._iter.__anext__()
            except StopAsyncIteration:
                break
            if chunk:
                self._keep(self._limit.count(chunk))
        return self._take(size)
