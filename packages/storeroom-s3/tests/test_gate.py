"""The per-key commit gate serialises one key and forgets keys nobody uses."""

from __future__ import annotations

import threading
import time

from storeroom_s3._gate import KeyedLocks


def test_same_key_is_serialised_other_keys_are_not() -> None:
    locks: KeyedLocks[threading.Lock] = KeyedLocks(threading.Lock)
    inside: list[str] = []
    overlap: list[bool] = []

    def hold(key: str) -> None:
        with locks.slot(key) as lock, lock:
            inside.append(key)
            overlap.append(inside.count(key) > 1)
            time.sleep(0.02)
            inside.remove(key)

    threads = [threading.Thread(target=hold, args=(k,)) for k in ["a"] * 5 + ["b"] * 5]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlap == [False] * 10
    assert len(locks) == 0


def test_lock_is_shared_while_in_use() -> None:
    locks: KeyedLocks[threading.Lock] = KeyedLocks(threading.Lock)
    with locks.slot("k") as first, locks.slot("k") as second:
        assert first is second
        assert len(locks) == 1
    assert len(locks) == 0
