"""A blocking portal: run coroutines on a private event loop from sync code."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

__all__ = ["DONE", "BlockingPortal", "PortalBacked", "anext_or_done"]

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


class _AsyncClosable(Protocol):
    async def close(self) -> None: ...


class PortalBacked:
    """A sync wrapper around an async object, driven through a (possibly shared) portal.

    ``close()`` closes the inner object on the portal, then stops the portal if this
    wrapper created it; a second call does nothing (the loop is gone by then).
    """

    inner: _AsyncClosable

    def _use_portal(self, portal: BlockingPortal | None) -> None:
        self._own_portal = portal is None
        self.portal = portal or BlockingPortal()
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.portal.call(self.inner.close)
        finally:
            if self._own_portal:
                self.portal.stop()
