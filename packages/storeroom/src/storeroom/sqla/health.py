"""Turning a probe's outcome and the pool figures into a :class:`HealthResult`.

Shared by the sync and async databases, which differ only in how they run the probe
under the deadline (a watchdog thread vs ``asyncio.wait_for``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storeroom.errors import StoreroomError
from storeroom.health import HealthResult, HealthStatus
from storeroom.pool import PoolInfo

__all__ = ["DEGRADED_USAGE", "exhausted_result", "failed_result", "pool_details", "probe_result"]

#: pool usage above which a reachable database is reported DEGRADED
DEGRADED_USAGE = 0.9


def pool_details(info: PoolInfo) -> dict[str, Any]:
    return {
        "size": info.size,
        "checked_out": info.checked_out,
        "overflow": info.overflow,
        "available": info.available,
        "usage": round(info.usage, 3),
    }


def _details(base: Mapping[str, Any], info: PoolInfo) -> dict[str, Any]:
    return {**base, "pool": pool_details(info)}


def probe_result(
    component: str, latency_ms: float, info: PoolInfo, *, bounded: bool, details: Mapping[str, Any]
) -> HealthResult:
    """The probe answered: HEALTHY, or DEGRADED when a bounded pool is over 90 % used."""
    if bounded and info.usage > DEGRADED_USAGE:
        return HealthResult(
            component,
            HealthStatus.DEGRADED,
            f"reachable, but {info.checked_out} of {info.capacity} pooled connections are in use",
            latency_ms,
            _details(details, info),
        )
    return HealthResult(component, HealthStatus.HEALTHY, "reachable", latency_ms, _details(details, info))


def exhausted_result(component: str, info: PoolInfo, details: Mapping[str, Any]) -> HealthResult:
    """Every pooled connection is busy: serving (slowly), so DEGRADED without waiting for one."""
    return HealthResult(
        component,
        HealthStatus.DEGRADED,
        f"pool exhausted: all {info.checked_out} connections are in use; not probed",
        None,
        _details(details, info),
    )


def failed_result(
    component: str, error: BaseException, latency_ms: float | None, info: PoolInfo, details: Mapping[str, Any]
) -> HealthResult:
    """Unreachable, failing or too slow: UNHEALTHY with a redacted reason (never raised)."""
    if isinstance(error, TimeoutError) and not isinstance(error, StoreroomError):
        message = f"no answer in time: {error}" if str(error) else "no answer in time"
    else:
        message = f"{type(error).__name__}: {error}"
    return HealthResult(component, HealthStatus.UNHEALTHY, message, latency_ms, _details(details, info))
