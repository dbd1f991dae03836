"""Waiting for server-side copies (``start_copy_from_url``), shared by both flavours.

Copies within one account usually finish inside the request; a ``pending`` one is
polled with back-off until it succeeds, fails, or ``COPY_TIMEOUT`` passes (then it
is aborted, so no half-copied blob is left to surprise anyone).
"""

from __future__ import annotations

from typing import Any

__all__ = ["COPY_POLL_MAX", "COPY_TIMEOUT", "copy_state"]

COPY_TIMEOUT = 3600.0
COPY_POLL_MAX = 2.0


def copy_state(props: Any) -> str | None:
    copy = getattr(props, "copy", None)
    status = getattr(copy, "status", None)
    return str(status) if status is not None else None
