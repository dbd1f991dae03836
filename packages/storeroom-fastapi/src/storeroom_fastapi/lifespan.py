"""One :class:`~storeroom.Storeroom` per application: built at startup, closed at shutdown.

Building it loads and validates the settings, so a bad configuration stops the application
from starting instead of failing its first request. Leaving the ``async with`` closes every
pool and client the room opened, sync and async. The room is kept in the lifespan state
(``request.state.storeroom``, which reaches mounted sub-applications too) and on
``app.state.storeroom``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp

from storeroom import Storeroom

__all__ = ["STATE_KEY", "get_storeroom", "open_storeroom", "storeroom_lifespan"]

STATE_KEY = "storeroom"

RoomSource = Storeroom | Callable[[], Storeroom] | None
"""A room, a function building one at startup, or None for ``storeroom.from_config()``."""


def _build(
    room: RoomSource, settings_files: Sequence[str | os.PathLike[str]] | None, environment: str | None
) -> Storeroom:
    if isinstance(room, Storeroom):
        if settings_files is not None or environment is not None:
            raise TypeError("pass a Storeroom or settings_files/environment, not both")
        return room
    if room is not None:
        return room()
    return Storeroom.from_config(settings_files, environment=environment)


@asynccontextmanager
async def open_storeroom(
    app: ASGIApp,
    room: RoomSource = None,
    *,
    settings_files: Sequence[str | os.PathLike[str]] | None = None,
    environment: str | None = None,
) -> AsyncIterator[Storeroom]:
    """The room for ``app`` while the block runs; for composing with an application's own lifespan.

    ``room``: a :class:`~storeroom.Storeroom` (closed at the end: build a new one per start),
    a function returning one, or None to load the configuration (``settings_files``,
    ``environment``, ``STOREROOM_*`` variables) as :func:`storeroom.from_config` does.
    """
    built = _build(room, settings_files, environment)
    async with built:
        state = getattr(app, "state", None)
        if state is not None:
            setattr(state, STATE_KEY, built)
        try:
            yield built
        finally:
            if state is not None and getattr(state, STATE_KEY, None) is built:
                delattr(state, STATE_KEY)


def storeroom_lifespan(
    room: RoomSource = None,
    *,
    settings_files: Sequence[str | os.PathLike[str]] | None = None,
    environment: str | None = None,
) -> Callable[[Any], AbstractAsyncContextManager[dict[str, Any]]]:
    """A lifespan for ``FastAPI(lifespan=storeroom_lifespan())``; see :func:`open_storeroom`."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        async with open_storeroom(app, room, settings_files=settings_files, environment=environment) as opened:
            yield {STATE_KEY: opened}

    return lifespan


async def get_storeroom(connection: HTTPConnection) -> Storeroom:
    """The application's room (a dependency: ``Depends(get_storeroom)``, or the ``RoomDep`` alias)."""
    room = getattr(connection.state, STATE_KEY, None) or getattr(connection.app.state, STATE_KEY, None)
    if not isinstance(room, Storeroom):
        raise RuntimeError(
            "this application has no Storeroom: create it with FastAPI(lifespan=storeroom_lifespan()), "
            "or enter open_storeroom(app) in its own lifespan"
        )
    return room
