"""Translate the filesystem's ``OSError``s into storeroom errors, cause chained.

Only the backend's own system calls are wrapped: an exception raised by the
caller's data source passes through untouched, even when it is an ``OSError``.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from storeroom.errors import ObjectNotFoundError, StorageError
from storeroom_local._paths import MISSING_ERRNOS

__all__ = ["missing", "os_errors", "translate"]

_HINTS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the filesystem is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EMFILE: "too many open files",
    errno.ENAMETOOLONG: "the path is too long for this filesystem",
}


def missing(key: str) -> ObjectNotFoundError:
    return ObjectNotFoundError(f"no object under key {key!r}", key=key)


def translate(exc: OSError, action: str, key: str | None) -> StorageError:
    if exc.errno in MISSING_ERRNOS and key is not None and action in {"read", "stat"}:
        return missing(key)
    reason = _HINTS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    what = f" {key!r}" if key is not None else ""
    return StorageError(f"local storage could not {action}{what}: {reason} (errno {exc.errno})", key=key)


@contextlib.contextmanager
def os_errors(action: str, key: str | None = None) -> Iterator[None]:
    """Re-raise any ``OSError`` from the body as a :class:`StorageError` (storeroom errors pass)."""
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        raise translate(exc, action, key) from exc
