"""``LocalStorage``: the synchronous ``local`` backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from storeroom.objects import ObjectInfo
from storeroom.storage import ObjectStorage
from storeroom.streams import ByteSource
from storeroom_local._base import LocalBase
from storeroom_local._paths import key_segments

__all__ = ["LocalStorage"]


class LocalStorage(LocalBase, ObjectStorage):
    """Objects as plain files under ``root``; metadata in ``root/.storeroom/``.

    Writes are atomic and durable (temp file, fsync, rename, folder fsync), reads
    and writes stream in bounded memory, and no key can reach outside ``root``,
    not even through a symbolic link. Keys may not have a segment starting with
    ``.storeroom``, segments are at most 255 bytes, and a key cannot also be a
    folder of other keys (``a`` and ``a/b``), as on any filesystem.
    """

    def _write(
        self, key: str, source: ByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        segments = key_segments(key)  # backend-specific key rules, before any I/O
        if not overwrite:
            self._files.fail_if_exists(key, segments)  # fail fast; the commit re-checks atomically
        pending = self._files.begin_write(key, segments)
        try:
            for chunk in source:  # the caller's own errors pass through unchanged
                pending.write(chunk)
            return self._files.commit(pending, content_type=content_type, metadata=metadata, overwrite=overwrite)
        except BaseException:
            pending.abort()
            raise

    def _read(self, key: str) -> bytes:
        return self._files.read_all(key)

    def _read_stream(self, key: str, chunk_size: int) -> Iterator[bytes]:
        reader = self._files.open_reader(key)
        try:
            while chunk := reader.read(chunk_size):
                yield chunk
        finally:
            reader.close()

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        return self._files.read_range(key, start, end)

    def _stat(self, key: str) -> ObjectInfo:
        return self._files.stat(key)

    def _exists(self, key: str) -> bool:
        return self._files.exists(key)

    def _delete(self, key: str) -> bool:
        return self._files.delete(key)

    def _delete_many(self, keys: list[str]) -> int:
        return self._files.delete_many(keys)

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return self._files.copy(src, dst, overwrite=overwrite)

    def _move(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        return self._files.move(src, dst, overwrite=overwrite)

    def _list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        return self._files.iter_objects(prefix, start_after)

    def _health_probe(self) -> dict[str, Any]:
        return self._files.probe()

    def close(self) -> None:
        self._files.close()
