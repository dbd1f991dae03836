"""Pool figures from a SQLAlchemy pool, whatever its class.

QueuePool (and its asyncio twin) reports its own numbers. Other pools do not count
checkouts, so :class:`CheckoutCounter` follows the pool's checkout/checkin events.
Pools without a hard limit (NullPool opens a connection per checkout, StaticPool
shares one) are *unbounded*: they report one available connection and never make a
health check DEGRADED.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import NullPool, Pool, QueuePool, SingletonThreadPool, StaticPool

from storeroom.pool import PoolInfo

__all__ = ["CheckoutCounter", "is_bounded", "pool_info"]


class CheckoutCounter:
    """Counts connections handed out by a pool that keeps no count itself."""

    def __init__(self, target: Any) -> None:
        """``target``: a sync Engine (listeners survive ``dispose()``) or a Pool."""
        self._lock = threading.Lock()
        self.checked_out = 0
        event.listen(target, "checkout", self._checkout)
        event.listen(target, "checkin", self._checkin)

    def _checkout(self, *_: Any) -> None:
        with self._lock:
            self.checked_out += 1

    def _checkin(self, *_: Any) -> None:
        with self._lock:
            self.checked_out = max(0, self.checked_out - 1)


def is_bounded(pool: Pool) -> bool:
    """Whether checkouts can run out (and so whether pool usage can degrade health)."""
    if isinstance(pool, QueuePool):
        return int(getattr(pool, "_max_overflow", -1)) >= 0  # -1: unlimited overflow
    return isinstance(pool, SingletonThreadPool)


def pool_info(pool: Pool, counter: CheckoutCounter | None = None, *, max_overflow: int | None = None) -> PoolInfo:
    """A :class:`PoolInfo` snapshot; ``max_overflow`` is a fallback when the pool hides its own."""
    if isinstance(pool, QueuePool):
        size = pool.size()
        checked_out = pool.checkedout()
        overflow = max(0, pool.overflow())
        limit = int(getattr(pool, "_max_overflow", -1 if max_overflow is None else max_overflow))
        if limit < 0:
            available = max(1, pool.checkedin())
        else:
            available = max(0, size + limit - checked_out)
        return PoolInfo(size=size, checked_out=checked_out, overflow=overflow, available=available)
    checked_out = counter.checked_out if counter is not None else 0
    if isinstance(pool, SingletonThreadPool):
        size = pool.size
        return PoolInfo(size=size, checked_out=checked_out, overflow=0, available=max(0, size - checked_out))
    if isinstance(pool, StaticPool):
        return PoolInfo(size=1, checked_out=checked_out, overflow=0, available=1)
    if isinstance(pool, NullPool):
        return PoolInfo(size=0, checked_out=checked_out, overflow=checked_out, available=1)
    return PoolInfo(size=0, checked_out=checked_out, overflow=0, available=1)
