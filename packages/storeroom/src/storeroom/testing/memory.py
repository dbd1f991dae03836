"""An in-memory object storage for users' tests: fast, thread-safe, and conformant.

It behaves like a real backend (same validation, errors, ordering and create-only
semantics) so code tested against it keeps working on local files or the cloud.
It is deliberately not registered as a plugin: build it directly in a fixture.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from storeroom.errors import ObjectExistsError, ObjectNotFoundError
from storeroom.objects import ObjectInfo
from storeroom.storage import ObjectStorage
from storeroom.streams import ByteSource

__all__ = ["MemoryObjectStorage"]


@dataclass(frozen=True, slots=True)
class _Stored:
    data: bytes
    info: ObjectInfo


class MemoryObjectStorage(ObjectStorage):
    """Objects kept in a dict guarded by a lock; every commit is a single dict assignment."""

    PLUGIN_NAME: ClassVar[str] = "memory"

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self._objects: dict[str, _Stored] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> MemoryObjectStorage:
        return cls(name)

    def _missing(self, key: str) -> ObjectNotFoundError:
        return ObjectNotFoundError(f"no object under key {key!r} in storage {self.name!r}", key=key)

    def _get(self, key: str) -> _Stored:
        with self._lock:
            stored = self._objects.get(key)
        if stored is None:
            raise self._missing(key)
        return stored

    # -- primitives ---------------------------------------------------------------------

    def _write(
        self, key: str, source: ByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        # Consume the whole source first: a failing or oversized source never touches the dict.
        data = b"".join(source)
        info = ObjectInfo(
            key=key,
            size=len(data),
            etag=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            content_type=content_type,
            metadata=dict(metadata),
            last_modified=datetime.now(UTC),
        )
        with self._lock:
            if not overwrite and key in self._objects:
                raise ObjectExistsError(f"an object already exists under key {key!r}", key=key)
            self._objects[key] = _Stored(data, info)
        return info

    def _read(self, key: str) -> bytes:
        return self._get(key).data

    def _read_stream(self, key: str, chunk_size: int) -> Iterator[bytes]:
        data = self._get(key).data
        view = memoryview(data)
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        return self._get(key).data[start:end]

    def _stat(self, key: str) -> ObjectInfo:
        return self._get(key).info

    def _exists(self, key: str) -> bool:
        with self._lock:
            return key in self._objects

    def _delete(self, key: str) -> bool:
        with self._lock:
            return self._objects.pop(key, None) is not None

    def _relocate(self, src: str, dst: str, *, overwrite: bool, keep_source: bool) -> ObjectInfo:
        """Copy (``keep_source``) or move under one lock; a move keeps ``last_modified``."""
        with self._lock:
            stored = self._objects.get(src)
            if stored is None:
                raise self._missing(src)
            if not overwrite and dst in self._objects:
                raise ObjectExistsError(f"an object already exists under key {dst!r}", key=dst)
            old = stored.info
            modified = datetime.now(UTC) if keep_source else old.last_modified
            info = ObjectInfo(dst, old.size, old.etag, old.content_type, old.metadata, modified)
            self._objects[dst] = _Stored(stored.data, info)
            if not keep_source and src != dst:
                del self._objects[src]
        return info

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return self._relocate(src, dst, overwrite=overwrite, keep_source=True)

    def _move(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return self._relocate(src, dst, overwrite=overwrite, keep_source=False)

    def _list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        # Snapshot the matching keys on the first ``next``; objects deleted meanwhile are skipped.
        with self._lock:
            keys = sorted(k for k in self._objects if k.startswith(prefix) and (start_after is None or k > start_after))
        for key in keys:
            with self._lock:
                stored = self._objects.get(key)
            if stored is not None:
                yield stored.info

    def _health_probe(self) -> dict[str, Any]:
        with self._lock:
            return {"objects": len(self._objects)}

    def clear(self) -> None:
        """Drop every object (handy between tests sharing one instance)."""
        with self._lock:
            self._objects.clear()
