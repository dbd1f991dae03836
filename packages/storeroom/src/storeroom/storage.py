"""Object storage interfaces.

Public methods are concrete and final in spirit: they validate keys, metadata,
ranges and sizes for every backend, then call the ``_``-prefixed primitives a
backend implements. A backend therefore never sees invalid input, and users get
the same errors everywhere.
"""

from __future__ import annotations

import abc
import builtins
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Self

from storeroom.errors import InvalidRangeError, NotSupportedError, ObjectNotFoundError, StorageError
from storeroom.health import HealthResult, HealthStatus
from storeroom.keys import validate_key, validate_metadata, validate_prefix
from storeroom.objects import ObjectInfo
from storeroom.streams import DEFAULT_CHUNK_SIZE, AsyncByteSource, ByteSource

__all__ = ["AsyncObjectStorage", "ObjectStorage", "validate_range"]

_PRESIGN_METHODS = frozenset({"GET", "PUT"})


def validate_range(start: int, end: int) -> None:
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise InvalidRangeError(f"range bounds must be integers, got {start!r}, {end!r}")
    if start < 0 or end < start:
        raise InvalidRangeError(f"invalid range [{start}, {end}): need 0 <= start <= end (end is exclusive)")


def _validate_content_type(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    if not isinstance(content_type, str) or not content_type.isascii() or "/" not in content_type:
        raise StorageError(f"content_type {content_type!r} is not a MIME type like 'image/png'")
    if any(ord(c) < 32 or c == "\x7f" for c in content_type):
        raise StorageError("content_type contains control characters")
    return content_type


def _validate_presign(expires_in: int, method: str) -> str:
    method = method.upper()
    if method not in _PRESIGN_METHODS:
        raise NotSupportedError(f"presigned URLs support GET and PUT, not {method!r}")
    if not isinstance(expires_in, int) or not 1 <= expires_in <= 7 * 24 * 3600:
        raise StorageError(f"expires_in must be 1..604800 seconds, got {expires_in!r}")
    return method


class _Base:
    PLUGIN_NAME: ClassVar[str]
    #: pydantic model validating this backend's settings (see storeroom.config.models)
    settings_model: ClassVar[type[Any] | None] = None

    name: str = "default"

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        """Build from a validated ``settings_model`` instance. Backends override this."""
        raise NotImplementedError(f"{cls.__name__} does not support construction from settings")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class ObjectStorage(_Base, abc.ABC):
    """Synchronous object storage. Subclasses implement the ``_`` primitives."""

    # -- primitives a backend implements ------------------------------------------------

    @abc.abstractmethod
    def _write(
        self, key: str, source: ByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        """Store ``source`` atomically under ``key``; on any exception leave nothing behind."""

    @abc.abstractmethod
    def _read_stream(self, key: str, chunk_size: int) -> Iterator[bytes]:
        """Raise ObjectNotFoundError *before* yielding if the key is missing."""

    @abc.abstractmethod
    def _read_range(self, key: str, start: int, end: int) -> bytes: ...

    @abc.abstractmethod
    def _stat(self, key: str) -> ObjectInfo: ...

    @abc.abstractmethod
    def _delete(self, key: str) -> bool: ...

    @abc.abstractmethod
    def _list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        """Lexicographic (UTF-8 byte order), lazy; keys strictly after ``start_after``."""

    def _read(self, key: str) -> bytes:
        return b"".join(self._read_stream(key, DEFAULT_CHUNK_SIZE))

    def _exists(self, key: str) -> bool:
        try:
            self._stat(key)
        except ObjectNotFoundError:
            return False
        return True

    def _delete_many(self, keys: builtins.list[str]) -> int:
        return sum(1 for key in keys if self._delete(key))

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        info = self._stat(src)
        return self._write(
            dst,
            ByteSource(self._read_stream(src, DEFAULT_CHUNK_SIZE)),
            content_type=info.content_type,
            metadata=dict(info.metadata),
            overwrite=overwrite,
        )

    def _move(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        info = self._copy(src, dst, overwrite=overwrite)
        self._delete(src)
        return info

    def _presigned_url(self, key: str, *, expires_in: int, method: str) -> str:
        raise NotSupportedError(f"{type(self).__name__} ({self.PLUGIN_NAME}) has no presigned URLs")

    def _health_probe(self) -> dict[str, Any]:
        """Touch the service cheaply; return details for the report. Raise on failure."""
        next(iter(self._list("", None)), None)
        return {}

    # -- public API ---------------------------------------------------------------------

    def write(
        self,
        key: str,
        data: Any,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        max_size: int | None = None,
    ) -> ObjectInfo:
        """Store ``data`` (bytes, binary file or iterable of bytes) under ``key``, atomically."""
        validate_key(key)
        meta = validate_metadata(metadata)
        ctype = _validate_content_type(content_type)
        source = ByteSource(data, max_size=max_size)
        return self._write(key, source, content_type=ctype, metadata=meta, overwrite=overwrite)

    def read(self, key: str) -> bytes:
        return self._read(validate_key(key))

    def read_stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Chunks of the object; the key is checked (and a missing one raises) on the first ``next``."""
        if chunk_size <= 0:
            raise InvalidRangeError(f"chunk_size must be positive, got {chunk_size}")
        return self._read_stream(validate_key(key), chunk_size)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the object, clipped to its size like a slice."""
        validate_key(key)
        validate_range(start, end)
        return self._read_range(key, start, end)

    def exists(self, key: str) -> bool:
        return self._exists(validate_key(key))

    def stat(self, key: str) -> ObjectInfo:
        return self._stat(validate_key(key))

    def get_metadata(self, key: str) -> dict[str, str]:
        return dict(self.stat(key).metadata)

    def delete(self, key: str) -> bool:
        """Remove the object; ``False`` if there was none (deleting twice is fine)."""
        return self._delete(validate_key(key))

    def delete_many(self, keys: Iterable[str]) -> int:
        """Delete every key (all validated first); returns how many existed."""
        checked = [validate_key(k) for k in keys]
        return self._delete_many(checked) if checked else 0

    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        if start_after is not None:
            validate_key(start_after)
        return self._list(prefix, start_after)

    def list_keys(self, prefix: str = "") -> builtins.list[str]:
        return [info.key for info in self.list(prefix)]

    def copy(self, src: str, dst: str, *, overwrite: bool = True) -> ObjectInfo:
        validate_key(src)
        validate_key(dst)
        return self._copy(src, dst, overwrite=overwrite)

    def move(self, src: str, dst: str, *, overwrite: bool = True) -> ObjectInfo:
        validate_key(src)
        validate_key(dst)
        if src == dst:
            return self._stat(src)
        return self._move(src, dst, overwrite=overwrite)

    def presigned_url(self, key: str, *, expires_in: int = 3600, method: str = "GET") -> str:
        validate_key(key)
        return self._presigned_url(key, expires_in=expires_in, method=_validate_presign(expires_in, method))

    def health_check(self, timeout: float = 5.0) -> HealthResult:
        """Never raises: an unreachable store is reported UNHEALTHY."""
        from storeroom._health_runner import run_with_timeout

        started = time.perf_counter()
        component = f"storages.{self.name}"
        try:
            details = run_with_timeout(self._health_probe, timeout)
        except Exception as exc:  # noqa: BLE001 - health checks report, never raise
            return HealthResult(
                component,
                HealthStatus.UNHEALTHY,
                f"{type(exc).__name__}: {exc}",
                (time.perf_counter() - started) * 1000,
                {"backend": self.PLUGIN_NAME},
            )
        latency = (time.perf_counter() - started) * 1000
        return HealthResult(component, HealthStatus.HEALTHY, "ok", latency, {"backend": self.PLUGIN_NAME, **details})

    def close(self) -> None:
        """Release clients and connections. Safe to call twice."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncObjectStorage(_Base, abc.ABC):
    """The async twin of :class:`ObjectStorage`, with the same rules and errors."""

    @abc.abstractmethod
    async def _write(
        self, key: str, source: AsyncByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo: ...

    @abc.abstractmethod
    def _read_stream(self, key: str, chunk_size: int) -> AsyncIterator[bytes]:
        """An async generator; raise ObjectNotFoundError before yielding if missing."""

    @abc.abstractmethod
    async def _read_range(self, key: str, start: int, end: int) -> bytes: ...

    @abc.abstractmethod
    async def _stat(self, key: str) -> ObjectInfo: ...

    @abc.abstractmethod
    async def _delete(self, key: str) -> bool: ...

    @abc.abstractmethod
    def _list(self, prefix: str, start_after: str | None) -> AsyncIterator[ObjectInfo]: ...

    async def _read(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self._read_stream(key, DEFAULT_CHUNK_SIZE)])

    async def _exists(self, key: str) -> bool:
        try:
            await self._stat(key)
        except ObjectNotFoundError:
            return False
        return True

    async def _delete_many(self, keys: builtins.list[str]) -> int:
        count = 0
        for key in keys:
            count += bool(await self._delete(key))
        return count

    async def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        info = await self._stat(src)
        return await self._write(
            dst,
            AsyncByteSource(self._read_stream(src, DEFAULT_CHUNK_SIZE)),
            content_type=info.content_type,
            metadata=dict(info.metadata),
            overwrite=overwrite,
        )

    async def _move(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        info = await self._copy(src, dst, overwrite=overwrite)
        await self._delete(src)
        return info

    async def _presigned_url(self, key: str, *, expires_in: int, method: str) -> str:
        raise NotSupportedError(f"{type(self).__name__} ({self.PLUGIN_NAME}) has no presigned URLs")

    async def _health_probe(self) -> dict[str, Any]:
        async for _ in self._list("", None):
            break
        return {}

    async def write(
        self,
        key: str,
        data: Any,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        max_size: int | None = None,
    ) -> ObjectInfo:
        validate_key(key)
        meta = validate_metadata(metadata)
        ctype = _validate_content_type(content_type)
        source = AsyncByteSource(data, max_size=max_size)
        return await self._write(key, source, content_type=ctype, metadata=meta, overwrite=overwrite)

    async def read(self, key: str) -> bytes:
        return await self._read(validate_key(key))

    def read_stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        if chunk_size <= 0:
            raise InvalidRangeError(f"chunk_size must be positive, got {chunk_size}")
        return self._read_stream(validate_key(key), chunk_size)

    async def read_range(self, key: str, start: int, end: int) -> bytes:
        validate_key(key)
        validate_range(start, end)
        return await self._read_range(key, start, end)

    async def exists(self, key: str) -> bool:
        return await self._exists(validate_key(key))

    async def stat(self, key: str) -> ObjectInfo:
        return await self._stat(validate_key(key))

    async def get_metadata(self, key: str) -> dict[str, str]:
        return dict((await self.stat(key)).metadata)

    async def delete(self, key: str) -> bool:
        return await self._delete(validate_key(key))

    async def delete_many(self, keys: Iterable[str]) -> int:
        checked = [validate_key(k) for k in keys]
        return await self._delete_many(checked) if checked else 0

    def list(self, prefix: str = "", *, start_after: str | None = None) -> AsyncIterator[ObjectInfo]:
        validate_prefix(prefix)
        if start_after is not None:
            validate_key(start_after)
        return self._list(prefix, start_after)

    async def list_keys(self, prefix: str = "") -> builtins.list[str]:
        return [info.key async for info in self.list(prefix)]

    async def copy(self, src: str, dst: str, *, overwrite: bool = True) -> ObjectInfo:
        validate_key(src)
        validate_key(dst)
        return await self._copy(src, dst, overwrite=overwrite)

    async def move(self, src: str, dst: str, *, overwrite: bool = True) -> ObjectInfo:
        validate_key(src)
        validate_key(dst)
        if src == dst:
            return await self._stat(src)
        return await self._move(src, dst, overwrite=overwrite)

    async def presigned_url(self, key: str, *, expires_in: int = 3600, method: str = "GET") -> str:
        validate_key(key)
        return await self._presigned_url(key, expires_in=expires_in, method=_validate_presign(expires_in, method))

    async def health_check(self, timeout: float = 5.0) -> HealthResult:
        import asyncio

        started = time.perf_counter()
        component = f"storages.{self.name}"
        try:
            details = await asyncio.wait_for(self._health_probe(), timeout)
        except Exception as exc:  # noqa: BLE001
            return HealthResult(
                component,
                HealthStatus.UNHEALTHY,
                f"{type(exc).__name__}: {exc}",
                (time.perf_counter() - started) * 1000,
                {"backend": self.PLUGIN_NAME},
            )
        latency = (time.perf_counter() - started) * 1000
        return HealthResult(component, HealthStatus.HEALTHY, "ok", latency, {"backend": self.PLUGIN_NAME, **details})

    async def close(self) -> None:
        """Release clients and connections. Safe to call twice."""

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
