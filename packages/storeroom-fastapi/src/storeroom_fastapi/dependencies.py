"""Dependencies for the room's named resources, and ``Annotated`` aliases for the defaults.

Each factory returns a plain ``Depends(...)``; the same arguments give the same dependency, so
FastAPI resolves it once per request however many endpoints' parameters ask for it::

    Replica = Annotated[DatabaseInterface, database("replica")]


    @app.get("/report")
    async def report(db: Replica, files: AsyncStorageDep) -> ...: ...

The dependency functions are coroutines that do no I/O: they run on the event loop, not in
the thread pool, and the resources they return are built lazily and cached by the room.
"""

import functools
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends
from storeroom import AsyncObjectStorage, ObjectStorage, Storeroom
from storeroom.database import AsyncDatabaseInterface, DatabaseInterface
from storeroom_fastapi.lifespan import get_storeroom

__all__ = [
    "AsyncDatabaseDep",
    "AsyncStorageDep",
    "DatabaseDep",
    "RoomDep",
    "StorageDep",
    "async_database",
    "async_storage",
    "database",
    "policy",
    "storage",
]

RoomDep = Annotated[Storeroom, Depends(get_storeroom)]


def _named(kind: str, getter: Callable[[Storeroom, Any], Any], name: str | None) -> Any:
    async def dependency(room: RoomDep) -> Any:
        return getter(room, name)

    dependency.__name__ = f"storeroom_{kind}" + (f"_{name}" if name else "")
    dependency.__qualname__ = dependency.__name__
    return Depends(dependency)


@functools.cache
def database(name: str | None = None) -> Any:
    """``Depends`` giving ``room.database(name)``: a sync :class:`~storeroom.DatabaseInterface`."""
    return _named("database", Storeroom.database, name)


@functools.cache
def async_database(name: str | None = None) -> Any:
    """``Depends`` giving ``room.async_database(name)``."""
    return _named("async_database", Storeroom.async_database, name)


@functools.cache
def storage(name: str | None = None) -> Any:
    """``Depends`` giving ``room.storage(name)``: a sync :class:`~storeroom.ObjectStorage`."""
    return _named("storage", Storeroom.storage, name)


@functools.cache
def async_storage(name: str | None = None) -> Any:
    """``Depends`` giving ``room.async_storage(name)``."""
    return _named("async_storage", Storeroom.async_storage, name)


@functools.cache
def policy(name: str) -> Any:
    """``Depends`` giving the upload policy ``room.policy(name)``."""
    return _named("policy", Storeroom.policy, name)


DatabaseDep = Annotated[DatabaseInterface, database()]
AsyncDatabaseDep = Annotated[AsyncDatabaseInterface, async_database()]
StorageDep = Annotated[ObjectStorage, storage()]
AsyncStorageDep = Annotated[AsyncObjectStorage, async_storage()]
