"""Keys to file names, reached only through directory descriptors that never follow links.

Every path operation is relative to a directory file descriptor opened with
``O_NOFOLLOW``, starting from the root's descriptor: a key can name nothing outside
the root, not even through a symbolic link swapped in while we work (no
check-then-use race as with ``realpath`` checks).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Sequence

from storeroom.errors import InvalidKeyError, StorageError

__all__ = [
    "META_DIR",
    "MISSING_ERRNOS",
    "NAME_MAX",
    "RESERVED",
    "TEMP_PREFIX",
    "DirTree",
    "KeyConflictError",
    "key_segments",
    "remove_empty_tree",
    "temp_name",
]

#: names starting with this are the backend's own (sidecars, temp files); keys may not use it
RESERVED = ".storeroom"
TEMP_PREFIX = b".storeroom-tmp-"
#: where sidecars live, mirroring the key tree
META_DIR: tuple[bytes, ...] = (b".storeroom", b"meta")
#: POSIX NAME_MAX on every common filesystem
NAME_MAX = 255
#: a path component is missing, a file where a folder was expected, or a link we will not follow
MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class KeyConflictError(StorageError):
    """The key needs a folder where a file is stored, or a file where a folder is (``a`` vs ``a/b``)."""

    key: str | None = None


def key_segments(key: str) -> list[bytes]:
    """The key's path components as bytes; rejects what only a filesystem forbids."""
    parts = key.split("/")
    out: list[bytes] = []
    for part in parts:
        if part.startswith(RESERVED):
            raise InvalidKeyError(
                f"key {key!r} has a segment starting with {RESERVED!r}, which the local backend reserves",
                key=key,
            )
        encoded = part.encode("utf-8")
        if len(encoded) > NAME_MAX:
            raise InvalidKeyError(
                f"key segment {part[:40]!r}... is {len(encoded)} bytes; the local backend allows {NAME_MAX} per segment",
                key=key,
            )
        out.append(encoded)
    return out


def temp_name() -> bytes:
    return TEMP_PREFIX + os.urandom(8).hex().encode()


def remove_empty_tree(parent_fd: int, name: bytes) -> bool:
    """Remove folder ``name`` if it holds nothing but empty folders (crash or race leftovers)."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError:
        return False
    try:
        with os.scandir(fd) as it:
            children = [(os.fsencode(e.name), e.is_dir(follow_symlinks=False)) for e in it]
        if not all(is_dir and remove_empty_tree(fd, child) for child, is_dir in children):
            return False
    finally:
        os.close(fd)
    try:
        os.rmdir(name, dir_fd=parent_fd)
    except OSError:
        return False
    return True


class DirTree:
    """Opens directories below a root descriptor, one ``O_NOFOLLOW`` component at a time."""

    def __init__(self, root_fd: int, *, fsync: bool) -> None:
        self.root_fd = root_fd
        self.fsync = fsync

    def _root(self) -> int:
        if self.root_fd < 0:
            raise StorageError("the local storage is closed")
        # A new open file description, not os.dup: flock() locks belong to the description,
        # so dups would all share one lock and never exclude each other.
        return os.open(".", _DIR_FLAGS, dir_fd=self.root_fd)

    def open_dir(self, segments: Sequence[bytes], *, create: bool, key: str | None = None) -> int:
        """A new descriptor for the folder ``segments`` (the caller closes it).

        Without ``create`` a missing component raises the ``OSError`` (see MISSING_ERRNOS).
        With ``create`` missing folders are made; a file or link in the way raises
        :class:`KeyConflictError`.
        """
        fd = self._root()
        for i, seg in enumerate(segments):
            fd = self._step(fd, seg, create=create, key=key, depth=segments[: i + 1])
        return fd

    def _step(self, fd: int, seg: bytes, *, create: bool, key: str | None, depth: Sequence[bytes]) -> int:
        """Open ``seg`` below ``fd``; always consumes (closes) ``fd``."""
        try:
            try:
                child = os.open(seg, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(seg, 0o777, dir_fd=fd)
                    if self.fsync:
                        os.fsync(fd)
                except FileExistsError:
                    pass  # a concurrent writer made it
                child = os.open(seg, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            if create and exc.errno in (errno.ENOTDIR, errno.ELOOP):
                raise self._conflict(fd, seg, key, depth) from exc
            raise
        finally:
            os.close(fd)
        return child

    @staticmethod
    def _conflict(fd: int, seg: bytes, key: str | None, depth: Sequence[bytes]) -> KeyConflictError:
        where = b"/".join(depth).decode("utf-8", "replace")
        try:
            is_link = stat.S_ISLNK(os.stat(seg, dir_fd=fd, follow_symlinks=False).st_mode)
        except OSError:
            is_link = False
        if is_link:
            why = f"{where!r} is a symbolic link, and the local backend never follows links"
        else:
            why = f"an object is stored under {where!r}, so it cannot also be a folder of keys"
        return KeyConflictError(f"cannot store key {key!r}: {why}", key=key)

    def walk_fds(self, segments: Sequence[bytes]) -> list[int]:
        """Descriptors of the root and each existing folder along ``segments`` (caller closes all)."""
        fds = [self._root()]
        try:
            for seg in segments:
                fds.append(os.open(seg, _DIR_FLAGS, dir_fd=fds[-1]))
        except OSError as exc:
            if exc.errno not in MISSING_ERRNOS:
                for fd in fds:
                    os.close(fd)
                raise
        return fds

    def prune(self, segments: Sequence[bytes], *, keep: int = 0) -> None:
        """Remove empty folders at the end of ``segments``, deepest first, never the first ``keep``.

        Best effort: a folder a concurrent writer is filling is not empty, and one it
        has opened but not yet filled makes its temp-file creation fail with ENOENT,
        which the writer retries.
        """
        if len(segments) <= keep:
            return
        fds = self.walk_fds(segments)
        try:
            for depth in range(len(fds) - 1, keep, -1):
                try:
                    os.rmdir(segments[depth - 1], dir_fd=fds[depth - 1])
                except OSError:
                    break
                if self.fsync:
                    with contextlib.suppress(OSError):
                        os.fsync(fds[depth - 1])
        finally:
            for fd in fds:
                os.close(fd)

    @contextlib.contextmanager
    def opened(self, segments: Sequence[bytes], *, create: bool, key: str | None = None) -> Iterator[int]:
        fd = self.open_dir(segments, create=create, key=key)
        try:
            yield fd
        finally:
            os.close(fd)
