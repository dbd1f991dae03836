"""Health reporting shared by databases, storages and the CLI."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["HealthResult", "HealthStatus", "worst_status"]


class HealthStatus(enum.StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


_SEVERITY = {HealthStatus.HEALTHY: 0, HealthStatus.DEGRADED: 1, HealthStatus.UNHEALTHY: 2}


def worst_status(statuses: list[HealthStatus] | tuple[HealthStatus, ...]) -> HealthStatus:
    """The most severe status; HEALTHY for an empty report."""
    return max(statuses, key=_SEVERITY.__getitem__, default=HealthStatus.HEALTHY)


@dataclass(frozen=True, slots=True)
class HealthResult:
    """One component's health. Never carries secrets: messages are redacted on creation."""

    component: str
    status: HealthStatus
    message: str = ""
    latency_ms: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        from storeroom.redaction import redact

        object.__setattr__(self, "status", HealthStatus(self.status))
        object.__setattr__(self, "message", redact(self.message))

    @property
    def ok(self) -> bool:
        """True unless UNHEALTHY: a degraded component still serves requests."""
        return self.status is not HealthStatus.UNHEALTHY

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "status": str(self.status),
            "message": self.message,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "details": dict(self.details),
            "checked_at": self.checked_at.isoformat(),
        }
