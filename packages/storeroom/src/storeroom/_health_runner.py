"""Run a blocking probe under a deadline without blocking the caller past it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_with_timeout"]

T = TypeVar("T")


def run_with_timeout(func: Callable[[], T], timeout: float) -> T:
    """Call ``func`` in a daemon thread; raise TimeoutError if it has not returned in time.

    A hung probe (a server that accepts TCP but never answers) keeps its thread, but
    the health report is not held hostage by it.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(func())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            error.append(exc)

    thread = threading.Thread(target=target, name="storeroom-health", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout:g}s")
    if error:
        raise error[0]
    return result[0]
