"""Checking that no secret shows in an error, anything it chains, or its formatted traceback."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

__all__ = ["assert_hidden", "chain", "error_of"]


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


def error_of(flavour: str, make: Callable[[], Any], call: Callable[[Any], Any]) -> BaseException:
    """What ``call(resource)`` raises on the resource ``make()`` opens: ``with`` and a plain call when
    ``flavour`` is ``"sync"``, else ``async with`` and ``await`` (``make`` picks the class)."""
    if flavour == "sync":
        with pytest.raises(Exception) as info, make() as resource:  # noqa: PT011 - the caller checks the type
            call(resource)
        return info.value

    async def run() -> None:
        async with make() as resource:
            await call(resource)

    with pytest.raises(Exception) as caught:  # noqa: PT011
        asyncio.run(run())
    return caught.value
