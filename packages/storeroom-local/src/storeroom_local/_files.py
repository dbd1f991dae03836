"""The blocking filesystem engine shared by the sync and async local storages.

Writes go to a temp file in the key's own folder, are fsynced, then renamed into
place (``os.replace``) or hard-linked for create-only writes (``os.link`` fails
atomically with EEXIST, so exactly one racing writer wins); the folder is fsynced
after. Nothing is ever visible under a key until it is complete, and a failed
write removes its temp file. The commit step of writers in one folder is
serialised with ``flock`` on the folder so data and sidecar always agree.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from storeroom.errors import NotSupportedError, ObjectExistsError, ObjectNotFoundError, StorageError
from storeroom.objects import ObjectInfo
from storeroom_local._errors import missing, os_errors
from storeroom_local._listing import walk
from storeroom_local._paths import (
    MISSING_ERRNOS,
    DirTree,
    KeyConflictError,
    key_segments,
    remove_empty_tree,
    temp_name,
)
from storeroom_local._sidecar import NO_SIDECAR, Meta, Sidecars, stamp_of

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LocalFiles", "PendingWrite", "Reader", "info_from_stat"]

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | getattr(os, "O_NONBLOCK", 0)
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
_RETRIES = 8


def info_from_stat(key: str, st: os.stat_result, meta: Meta = NO_SIDECAR) -> ObjectInfo:
    return ObjectInfo(
        key=key,
        size=st.st_size,
        etag=f"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}",
        content_type=meta[0],
        metadata=meta[1],
        last_modified=datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC),
    )


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


@contextlib.contextmanager
def _locked(*fds: int) -> Iterator[None]:
    """Exclusive ``flock`` on folders; advisory, so a filesystem without locks just runs unlocked."""
    held: list[int] = []
    try:
        for fd in fds:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    held.append(fd)
                except OSError as exc:
                    if exc.errno not in (errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                        raise
        yield
    finally:
        for fd in reversed(held):
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)


class PendingWrite:
    """A temp file being filled. Thread-safe: ``abort`` waits for an in-flight ``write``."""

    def __init__(self, key: str, segments: list[bytes], dir_fd: int, tmp: bytes, fd: int) -> None:
        self.key = key
        self.segments = segments
        self.dir_fd = dir_fd
        self.tmp = tmp
        self.fd = fd
        self.lock = threading.Lock()
        self.done = False
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        with self.lock, os_errors("write", self.key):
            if self.done:
                raise StorageError(f"the write to {self.key!r} was already finished or aborted", key=self.key)
            _write_all(self.fd, data)
            self.size += len(data)

    def finish(self) -> None:
        """Close both descriptors; the temp file must already be gone or committed."""
        self.done = True
        for fd in (self.fd, self.dir_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def abort(self) -> None:
        """Remove the temp file. Idempotent; a no-op after a successful commit."""
        with self.lock:
            if self.done:
                return
            with contextlib.suppress(OSError):
                os.unlink(self.tmp, dir_fd=self.dir_fd)
            self.finish()


class Reader:
    """An open object. Thread-safe: ``close`` waits for an in-flight read (no fd reuse races)."""

    def __init__(self, fd: int, st: os.stat_result, key: str) -> None:
        self.fd = fd
        self.stat = st
        self.key = key
        self.lock = threading.Lock()

    def read(self, size: int) -> bytes:
        with self.lock, os_errors("read", self.key):
            if self.fd < 0:
                return b""
            return os.read(self.fd, size)

    def pread(self, size: int, offset: int) -> bytes:
        with self.lock, os_errors("read", self.key):
            parts: list[bytes] = []
            while size > 0:
                chunk = os.pread(self.fd, size, offset)
                if not chunk:
                    break
                parts.append(chunk)
                size -= len(chunk)
                offset += len(chunk)
            return b"".join(parts)

    def close(self) -> None:
        with self.lock:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1


def _refuse_file_in_root_path(root: str, setting: str) -> None:
    """A file where the root (or a folder above it) should be: say which, and which setting.

    ``makedirs`` alone reports only ``File exists (errno 17)`` / ``Not a directory (errno 20)``.
    """
    path = root
    while True:
        if os.path.lexists(path):
            if not os.path.isdir(path) and not os.path.islink(path):  # a dangling link: makedirs says so
                what = "is a file" if path == root else f"cannot be made: {path!r} is a file"
                raise StorageError(
                    f"local storage root {root!r} ({setting}) {what}, not a folder; "
                    f"point {setting} at a folder or move the file away",
                    key=root,
                )
            return
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


class LocalFiles:
    """Objects as plain files under ``root``; every method is blocking and thread-safe."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True, setting: str = "root") -> None:
        if not _O_NOFOLLOW or os.open not in os.supports_dir_fd or os.scandir not in os.supports_fd:
            raise NotSupportedError("storeroom-local needs a POSIX system (Linux, macOS, BSD) with *at() calls")
        self.root = os.path.abspath(os.fspath(root))
        self.fsync = fsync
        _refuse_file_in_root_path(self.root, setting)
        with os_errors("open the root folder", self.root):
            os.makedirs(self.root, exist_ok=True)
            root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | _O_CLOEXEC)
        self.tree = DirTree(root_fd, fsync=fsync)
        self.sidecars = Sidecars(self.tree)
        self._close_lock = threading.Lock()

    def close(self) -> None:
        with self._close_lock:
            if self.tree.root_fd >= 0:
                os.close(self.tree.root_fd)
                self.tree.root_fd = -1

    # -- writing --------------------------------------------------------------------------

    def begin_write(self, key: str, segments: list[bytes] | None = None) -> PendingWrite:
        """Create the temp file in the key's folder (making folders as needed)."""
        segments = segments if segments is not None else key_segments(key)
        with os_errors("write", key):
            for attempt in range(_RETRIES):
                dir_fd = self.tree.open_dir(segments[:-1], create=True, key=key)
                tmp = temp_name()
                try:
                    fd = os.open(tmp, _NEW_FLAGS, 0o666, dir_fd=dir_fd)
                except FileNotFoundError:
                    os.close(dir_fd)  # the folder was pruned by a concurrent delete: make it again
                    if attempt == _RETRIES - 1:
                        raise
                    continue
                except BaseException:
                    os.close(dir_fd)
                    raise
                return PendingWrite(key, segments, dir_fd, tmp, fd)
        raise AssertionError("unreachable")

    def commit(
        self, pending: PendingWrite, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        """Make the temp file the object under its key, with its sidecar; abort on any error."""
        key, segments, dir_fd, name = pending.key, pending.segments, pending.dir_fd, pending.segments[-1]
        with pending.lock:
            try:
                with os_errors("write", key):
                    if self.fsync:
                        os.fsync(pending.fd)
                    st = os.fstat(pending.fd)
                    meta: Meta | None = (content_type, metadata) if content_type or metadata else None
                    with _locked(dir_fd):
                        current = self._entry_stat(dir_fd, name, key)
                        if current is not None and not overwrite:
                            raise ObjectExistsError(f"an object already exists under key {key!r}", key=key)
                        if meta is not None:
                            keep = stamp_of(current) if current is not None else None
                            self.sidecars.store(segments, stamp_of(st), meta, keep=keep)
                        if overwrite:
                            os.replace(pending.tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                        else:
                            self._link_new(dir_fd, pending.tmp, name, key)
                            os.unlink(pending.tmp, dir_fd=dir_fd)
                        if meta is None:
                            self.sidecars.drop(segments)
                        if self.fsync:
                            os.fsync(dir_fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(pending.tmp, dir_fd=dir_fd)
                pending.finish()
                raise
            pending.finish()
        return info_from_stat(key, st, meta or NO_SIDECAR)

    def _entry_stat(self, dir_fd: int, name: bytes, key: str) -> os.stat_result | None:
        """The regular file now under ``name`` (None if none); a folder in the way is a conflict."""
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if stat.S_ISDIR(st.st_mode):
            if not remove_empty_tree(dir_fd, name):  # empty leftover folders are no obstacle
                raise KeyConflictError(
                    f"cannot store key {key!r}: other keys are stored below {key + '/'!r}, "
                    "and the local backend cannot hold a key that is also a folder",
                    key=key,
                )
            return None
        return st if stat.S_ISREG(st.st_mode) else None

    @staticmethod
    def _link_new(dir_fd: int, src: bytes, name: bytes, key: str, src_dir_fd: int | None = None) -> None:
        try:
            os.link(
                src,
                name,
                src_dir_fd=dir_fd if src_dir_fd is None else src_dir_fd,
                dst_dir_fd=dir_fd,
                follow_symlinks=False,
            )
        except FileExistsError:
            raise ObjectExistsError(f"an object already exists under key {key!r}", key=key) from None

    def fail_if_exists(self, key: str, segments: Sequence[bytes]) -> None:
        """Raise ObjectExistsError now, before a create-only write streams its body."""
        with os_errors("stat", key):
            try:
                self._lstat(segments, key)
            except ObjectNotFoundError:
                return
        raise ObjectExistsError(f"an object already exists under key {key!r}", key=key)

    # -- reading --------------------------------------------------------------------------

    def _lstat(self, segments: Sequence[bytes], key: str) -> os.stat_result:
        try:
            with self.tree.opened(segments[:-1], create=False) as dir_fd:
                st = os.stat(segments[-1], dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in MISSING_ERRNOS:
                raise missing(key) from None
            raise
        if not stat.S_ISREG(st.st_mode):
            raise missing(key)
        return st

    def open_reader(self, key: str) -> Reader:
        """Open the object for reading; links and non-files are treated as missing."""
        segments = key_segments(key)
        with os_errors("read", key):
            try:
                with self.tree.opened(segments[:-1], create=False) as dir_fd:
                    fd = os.open(segments[-1], _READ_FLAGS, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno in MISSING_ERRNOS:
                    raise missing(key) from None
                raise
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    raise missing(key)
            except BaseException:
                os.close(fd)
                raise
        return Reader(fd, st, key)

    def read_all(self, key: str) -> bytes:
        reader = self.open_reader(key)
        try:
            return reader.pread(reader.stat.st_size, 0)
        finally:
            reader.close()

    def read_range(self, key: str, start: int, end: int) -> bytes:
        reader = self.open_reader(key)
        try:
            end = min(end, reader.stat.st_size)
            return reader.pread(end - start, start) if end > start else b""
        finally:
            reader.close()

    def exists(self, key: str) -> bool:
        segments = key_segments(key)
        with os_errors("stat", key):
            try:
                self._lstat(segments, key)
            except ObjectNotFoundError:
                return False
        return True

    def stat(self, key: str) -> ObjectInfo:
        segments = key_segments(key)
        with os_errors("stat", key):
            st = self._lstat(segments, key)
            for _ in range(_RETRIES):
                meta = self.sidecars.lookup(segments, stamp_of(st))
                if meta is not None:
                    return info_from_stat(key, st, meta)
                again = self._lstat(segments, key)
                if stamp_of(again) == stamp_of(st):
                    break  # every entry is stale: the object has no metadata
                st = again  # replaced while we looked: look again
            return info_from_stat(key, st)

    def _meta_for(self, segments: Sequence[bytes], st: os.stat_result) -> Meta:
        return self.sidecars.lookup(segments, stamp_of(st)) or NO_SIDECAR

    # -- deleting -------------------------------------------------------------------------

    def delete(self, key: str) -> bool:
        segments = key_segments(key)
        with os_errors("delete", key):
            try:
                dir_fd = self.tree.open_dir(segments[:-1], create=False)
            except OSError as exc:
                if exc.errno in MISSING_ERRNOS:
                    return False
                raise
            try:
                with _locked(dir_fd):
                    try:
                        st = os.stat(segments[-1], dir_fd=dir_fd, follow_symlinks=False)
                    except FileNotFoundError:
                        return False
                    if not stat.S_ISREG(st.st_mode):
                        return False
                    os.unlink(segments[-1], dir_fd=dir_fd)
                    self.sidecars.drop(segments)
                    if self.fsync:
                        os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            self._prune(segments)
        return True

    def delete_many(self, keys: Sequence[str]) -> int:
        for key in keys:
            key_segments(key)  # every key is checked before the first delete
        return sum(1 for key in keys if self.delete(key))

    def _prune(self, segments: Sequence[bytes]) -> None:
        with contextlib.suppress(OSError):
            self.tree.prune(segments[:-1])
        self.sidecars.prune(segments)

    # -- copy and move --------------------------------------------------------------------

    def copy(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        dst_segments = key_segments(dst)
        src_segments = key_segments(src)
        reader = self.open_reader(src)
        try:
            meta = self._meta_for(src_segments, reader.stat)
            if not overwrite and self.exists(dst):
                raise ObjectExistsError(f"an object already exists under key {dst!r}", key=dst)
            pending = self.begin_write(dst, dst_segments)
            try:
                with os_errors("copy to", dst):
                    _copy_fd(reader.fd, pending.fd, reader.stat.st_size)
                return self.commit(pending, content_type=meta[0], metadata=meta[1], overwrite=overwrite)
            except BaseException:
                pending.abort()
                raise
        finally:
            reader.close()

    def move(self, src: str, dst: str, *, overwrite: bool) -> ObjectInfo:
        src_segments, dst_segments = key_segments(src), key_segments(dst)
        with os_errors("move to", dst):
            for attempt in range(_RETRIES):
                try:
                    return self._move_once(src, dst, src_segments, dst_segments, overwrite=overwrite)
                except StorageError:
                    raise
                except FileNotFoundError:
                    if attempt == _RETRIES - 1:
                        raise
                    # a folder was pruned between opening and renaming: start over
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
                    break  # a mount point inside the root: copy, then delete
        info = self.copy(src, dst, overwrite=overwrite)
        self.delete(src)
        return info

    def _move_once(
        self, src: str, dst: str, src_segments: list[bytes], dst_segments: list[bytes], *, overwrite: bool
    ) -> ObjectInfo:
        try:
            src_dir = self.tree.open_dir(src_segments[:-1], create=False)
        except OSError as exc:
            if exc.errno in MISSING_ERRNOS:
                raise missing(src) from None
            raise
        try:
            dst_dir = self.tree.open_dir(dst_segments[:-1], create=True, key=dst)
        except BaseException:
            os.close(src_dir)
            raise
        same_dir = src_segments[:-1] == dst_segments[:-1]
        # one lock per folder, always taken in the same order: no deadlock between two moves
        order = [src_dir] if same_dir else [src_dir, dst_dir]
        if not same_dir and dst_segments[:-1] < src_segments[:-1]:
            order.reverse()
        src_name, dst_name = src_segments[-1], dst_segments[-1]
        try:
            with _locked(*order):
                try:
                    st = os.stat(src_name, dir_fd=src_dir, follow_symlinks=False)
                except FileNotFoundError:
                    raise missing(src) from None
                if not stat.S_ISREG(st.st_mode):
                    raise missing(src)
                meta = self._meta_for(src_segments, st)
                current = self._entry_stat(dst_dir, dst_name, dst)
                if current is not None and not overwrite:
                    raise ObjectExistsError(f"an object already exists under key {dst!r}", key=dst)
                has_meta = bool(meta[0] or meta[1])
                if has_meta:
                    keep = stamp_of(current) if current is not None else None
                    self.sidecars.store(dst_segments, stamp_of(st), meta, keep=keep)
                if overwrite:
                    os.replace(src_name, dst_name, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
                else:
                    self._link_new(dst_dir, src_name, dst_name, dst, src_dir_fd=src_dir)
                    os.unlink(src_name, dir_fd=src_dir)
                if not has_meta:
                    self.sidecars.drop(dst_segments)
                self.sidecars.drop(src_segments)
                if self.fsync:
                    os.fsync(dst_dir)
                    if not same_dir:
                        os.fsync(src_dir)
        finally:
            os.close(src_dir)
            os.close(dst_dir)
        self._prune(src_segments)
        return info_from_stat(dst, st, meta)

    # -- listing and health ---------------------------------------------------------------

    def iter_objects(self, prefix: str, start_after: str | None) -> Generator[ObjectInfo, None, None]:
        for key, st in walk(self.tree, prefix, start_after):
            yield info_from_stat(key, st)

    def probe(self) -> dict[str, Any]:
        """Root still there (not deleted or replaced since we opened it) and writable."""
        with os_errors("check the root folder", self.root):
            if self.tree.root_fd < 0:
                raise StorageError("the local storage is closed")
            opened = os.fstat(self.tree.root_fd)
            now = os.stat(self.root)
            if (opened.st_dev, opened.st_ino) != (now.st_dev, now.st_ino) or opened.st_nlink == 0:
                raise StorageError(f"the root folder {self.root!r} was removed or replaced")
            if not os.access(self.root, os.W_OK):
                raise StorageError(f"the root folder {self.root!r} is not writable")
        return {"root": self.root}


def _copy_fd(src: int, dst: int, size: int) -> None:
    """Kernel-side copy where possible (reflinks on btrfs/XFS), else a bounded read/write loop."""
    offset = 0
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is not None:
        try:
            while offset < size:
                copied = copy_range(src, dst, size - offset, offset)
                if copied == 0:
                    break
                offset += copied
            return
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            os.lseek(dst, offset, os.SEEK_SET)
    while True:
        chunk = os.pread(src, 1024 * 1024, offset)
        if not chunk:
            return
        _write_all(dst, chunk)
        offset += len(chunk)
