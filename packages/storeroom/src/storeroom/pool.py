"""Connection pool figures reported by database backends."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PoolInfo"]


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """A snapshot of one pool. ``available`` counts connections that can be handed out now
    without waiting (idle ones plus unused overflow)."""

    size: int
    checked_out: int
    overflow: int
    available: int

    @property
    def capacity(self) -> int:
        return self.checked_out + self.available

    @property
    def usage(self) -> float:
        """Fraction of capacity in use (0.0 - 1.0); health checks degrade above 0.9."""
        cap = self.capacity
        return self.checked_out / cap if cap else 0.0
