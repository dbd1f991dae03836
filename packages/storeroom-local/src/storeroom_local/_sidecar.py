"""Content type and metadata, kept beside the data where listings never look.

A sidecar lives at ``.storeroom/meta/<key>`` (a tree mirroring the keys, so it has
no name clashes the data tree does not have). It holds entries stamped with the
identity of the data file they describe: inode, size and mtime. A data file is
always a fresh inode (temp file + rename), so an entry whose stamp does not match
the file under the key is stale and ignored.

A write commits the new sidecar *before* renaming the data into place, keeping the
entry of the file currently there: a crash between the two renames leaves the old
object with its own metadata, and afterwards the new one with its own. Writers to
one folder serialise their commit step with a lock (see ``LocalFiles``), so
read-modify-write of a sidecar never loses an entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
from collections.abc import Sequence
from typing import Any

from storeroom_local._paths import META_DIR, MISSING_ERRNOS, DirTree, KeyConflictError, temp_name

__all__ = ["NO_SIDECAR", "Meta", "Sidecars", "Stamp", "stamp_of"]

Stamp = tuple[int, int, int]
#: (content_type, metadata)
Meta = tuple[str | None, dict[str, str]]

#: ``lookup`` result when there is no sidecar file at all (so nothing can be stale)
NO_SIDECAR: Meta = (None, {})
_MAX_SIDECAR = 64 * 1024
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class Sidecars:
    def __init__(self, tree: DirTree) -> None:
        self.tree = tree

    @staticmethod
    def _where(segments: Sequence[bytes]) -> tuple[list[bytes], bytes]:
        return [*META_DIR, *segments[:-1]], segments[-1]

    def _entries(self, segments: Sequence[bytes]) -> list[dict[str, Any]] | None:
        """The sidecar's entries, or None when there is no (readable) sidecar."""
        folder, name = self._where(segments)
        try:
            with self.tree.opened(folder, create=False) as dir_fd:
                fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in MISSING_ERRNOS:
                return None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            raw = os.read(fd, _MAX_SIDECAR)
        finally:
            os.close(fd)
        try:
            doc = json.loads(raw)
            entries = doc["entries"]
        except (ValueError, KeyError, TypeError):
            return []  # torn or foreign file: treat as stale, the next write replaces it
        return [e for e in entries if isinstance(e, dict)]

    def lookup(self, segments: Sequence[bytes], stamp: Stamp) -> Meta | None:
        """The entry for the data file with ``stamp``; NO_SIDECAR if none exists; None if all are stale."""
        entries = self._entries(segments)
        if entries is None:
            return NO_SIDECAR
        for entry in entries:
            if tuple(entry.get("stamp", ())) == stamp:
                meta = entry.get("metadata") or {}
                return entry.get("content_type"), {str(k): str(v) for k, v in meta.items()}
        return None

    def store(self, segments: Sequence[bytes], stamp: Stamp, meta: Meta, *, keep: Stamp | None) -> None:
        """Write the sidecar with the new entry plus the one for ``keep`` (the file still in place)."""
        entries = [e for e in (self._entries(segments) or []) if keep is not None and tuple(e.get("stamp", ())) == keep]
        content_type, metadata = meta
        entries.append({"stamp": list(stamp), "content_type": content_type, "metadata": metadata})
        body = json.dumps({"v": 1, "entries": entries}, ensure_ascii=False, separators=(",", ":")).encode()
        folder, name = self._where(segments)
        for attempt in range(8):
            try:
                dir_fd = self.tree.open_dir(folder, create=True)
            except KeyConflictError:
                if attempt == 7:
                    raise
                self._clear_path(folder)  # a stale sidecar file sits where a folder must go
                continue
            with contextlib.closing(_Fd(dir_fd)):
                tmp = temp_name()
                try:
                    fd = os.open(tmp, _NEW_FLAGS, 0o666, dir_fd=dir_fd)
                except FileNotFoundError:
                    if attempt == 7:
                        raise
                    continue  # the folder was pruned under us; make it again
                try:
                    try:
                        _write_all(fd, body)
                        if self.tree.fsync:
                            os.fsync(fd)
                    finally:
                        os.close(fd)
                    try:
                        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                    except IsADirectoryError:
                        # stale sidecars of keys below a name that is now an object: drop them
                        shutil.rmtree(name, dir_fd=dir_fd)
                        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp, dir_fd=dir_fd)
                    raise
                if self.tree.fsync:
                    os.fsync(dir_fd)
                return

    def _clear_path(self, folder: Sequence[bytes]) -> None:
        """Unlink non-folders along ``folder`` inside the sidecar tree (they can only be stale)."""
        fds = self.tree.walk_fds(folder)
        try:
            depth = len(fds) - 1
            if len(META_DIR) <= depth < len(folder):
                with contextlib.suppress(OSError):
                    os.unlink(folder[depth], dir_fd=fds[-1])
        finally:
            for fd in fds:
                os.close(fd)

    def drop(self, segments: Sequence[bytes]) -> None:
        """Remove the sidecar if there is one (a leftover one would only be stale, so errors are ignored)."""
        folder, name = self._where(segments)
        try:
            with self.tree.opened(folder, create=False) as dir_fd:
                os.unlink(name, dir_fd=dir_fd)
        except OSError:
            pass

    def prune(self, segments: Sequence[bytes]) -> None:
        folder, _ = self._where(segments)
        with contextlib.suppress(OSError):
            self.tree.prune(folder, keep=len(META_DIR))


class _Fd:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def close(self) -> None:
        os.close(self.fd)


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
