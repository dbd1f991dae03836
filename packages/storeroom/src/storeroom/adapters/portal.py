"""A blocking portal: run coroutines on a private event loop from sync code."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["DONE", "BlockingPortal", "anext_or_done"]

T = TypeVar("T")
#: sentinel for an exhausted iterator (StopIteration cannot cross threads or futures)
DONE: Any = object()


class BlockingPortal:
    """A private event loop in a daemon thread; ``call`` runs a coroutine there and waits."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="storeroom-portal", daemon=True)
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def spawn(self, coro: Any) -> Future[Any]:
        """Start ``coro`` as a task on the portal loop without waiting for it."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def call(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(_as_coro(func(*args, **kwargs)), self._loop)
        return future.result()

    def iterate(self, aiter: AsyncIterator[T]) -> Iterator[T]:
        try:
            while True:
                item = self.call(anext_or_done, aiter)
                if item is DONE:
                    return
                yield item
        finally:
            aclose = getattr(aiter, "aclose", None)
            if aclose is not None and self._loop.is_running():
                self.call(aclose)

    def stop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._loop.is_running():
            self._loop.close()


async def _as_coro(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def anext_or_done(aiter: AsyncIterator[Any]) -> Any:
    """The next item, or :data:`DONE` (StopAsyncIteration cannot cross a Future)."""
    try:
        return await aiter.__anext__()
    except StopAsyncIteration:
        return DONE
