"""Lazy listing of the key tree in UTF-8 byte order of the full key.

A depth-first walk gives key order if each folder's entries are sorted with
folders compared as ``name + "/"``: every key below ``a/`` sorts after ``a-c``
and before ``a0``. Python compares ``str`` by code point, which for valid Unicode
is exactly UTF-8 byte order. Only one folder's names are held at a time; stats
happen as items are consumed, so a huge tree costs nothing until iterated.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from storeroom.errors import InvalidKeyError
from storeroom.keys import validate_key
from storeroom_local._paths import MISSING_ERRNOS, RESERVED, DirTree

__all__ = ["walk"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def walk(tree: DirTree, prefix: str, start_after: str | None) -> Iterator[tuple[str, os.stat_result]]:
    """``(key, stat)`` for each object whose key starts with ``prefix`` and is > ``start_after``."""
    folder, _, name_prefix = prefix.rpartition("/")
    segments = folder.split("/") if folder else []
    if any(seg.startswith(RESERVED) for seg in segments):
        return
    try:
        fd = tree.open_dir([seg.encode() for seg in segments], create=False)
    except OSError as exc:
        if exc.errno in MISSING_ERRNOS:
            return
        raise
    try:
        yield from _walk_dir(fd, folder + "/" if folder else "", name_prefix, start_after)
    finally:
        os.close(fd)


def _entries(fd: int) -> list[tuple[str, str, bool]]:
    """``(sort_name, name, is_dir)`` for the entries that can be keys, sorted for key order."""
    out: list[tuple[str, str, bool]] = []
    with os.scandir(fd) as it:
        for entry in it:
            try:
                name = os.fsencode(entry.name).decode("utf-8")
                validate_key(name)
            except (UnicodeDecodeError, InvalidKeyError):
                continue  # not something a key can name (foreign file): invisible
            if name.startswith(RESERVED):
                continue  # sidecars, temp files
            try:
                if entry.is_dir(follow_symlinks=False):
                    out.append((name + "/", name, True))
                elif entry.is_file(follow_symlinks=False):
                    out.append((name, name, False))
            except OSError:
                continue  # vanished meanwhile
    out.sort()
    return out


def _walk_dir(fd: int, base: str, name_prefix: str, start_after: str | None) -> Iterator[tuple[str, os.stat_result]]:
    for _, name, is_dir in _entries(fd):
        if name_prefix and not name.startswith(name_prefix):
            continue
        key = base + name
        if is_dir:
            sub = key + "/"
            # everything below ``sub`` sorts between ``sub`` and the next sibling
            if start_after is not None and start_after > sub and not start_after.startswith(sub):
                continue
            try:
                child = os.open(name.encode(), _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in MISSING_ERRNOS:
                    continue  # removed or swapped for a link since we listed the folder
                raise
            try:
                yield from _walk_dir(child, sub, "", start_after)
            finally:
                os.close(child)
            continue
        if start_after is not None and key <= start_after:
            continue
        try:
            validate_key(key)
            st = os.stat(name.encode(), dir_fd=fd, follow_symlinks=False)
        except InvalidKeyError:
            continue  # longer than a key may be
        except OSError as exc:
            if exc.errno in MISSING_ERRNOS:
                continue  # deleted since we listed the folder
            raise
        if stat.S_ISREG(st.st_mode):
            yield key, st
