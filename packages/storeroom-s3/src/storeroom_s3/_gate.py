"""One create-only commit per key at a time within a process.

S3 enforces ``If-None-Match: *`` atomically, across clients. Some S3-compatible
servers implement it as a check followed by the write (moto does, and there the
check-to-commit window of CompleteMultipartUpload is wide enough for several of 32
racing writers to "win"). Serialising this process's own create-only commits to a
key closes that window for writers sharing a store, at no cost to writes of
different keys; across processes the server's guarantee is what counts.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["KeyedLocks"]

L = TypeVar("L")


class KeyedLocks(Generic[L]):
    """Locks made on demand per key and dropped when nobody holds or waits for them."""

    def __init__(self, factory: Callable[[], L]) -> None:
        self._factory = factory
        self._mutex = threading.Lock()
        self._locks: dict[str, tuple[L, int]] = {}

    @contextlib.contextmanager
    def slot(self, key: str) -> Iterator[L]:
        """The lock for ``key`` (acquire it yourself: ``with`` or ``async with``)."""
        with self._mutex:
            lock, users = self._locks.get(key) or (self._factory(), 0)
            self._locks[key] = (lock, users + 1)
        try:
            yield lock
        finally:
            with self._mutex:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
