"""Checking that no secret shows in an error, anything it chains, or its formatted traceback."""

from __future__ import annotations

import traceback
from collections.abc import Iterator

__all__ = ["assert_hidden", "chain"]


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it chains as ``__cause__`` or ``__context__`` (suppressed ones too)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__]


def assert_hidden(exc: BaseException, *secrets: str) -> None:
    """No secret in ``traceback.format_exception(exc)``, nor in ``str``/``repr`` of anything it chains."""
    formatted = "".join(traceback.format_exception(exc))
    for secret in secrets:
        assert secret not in formatted, f"{secret!r} shows in the formatted traceback:\n{formatted}"
        shown = [f"{type(e).__name__}: {e!s} {e!r}" for e in chain(exc) if secret in f"{e!s} {e!r}"]
        assert not shown, f"{secret!r} shows in the chain: {shown}"
