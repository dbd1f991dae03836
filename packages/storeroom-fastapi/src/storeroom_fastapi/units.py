"""A unit of work per request, finished before the response is sent.

FastAPI runs the code after a dependency's ``yield`` when the response has been *sent* for
the default scope (``"request"``), so a commit that then failed, or an undo, would follow a
200 the client already has. These dependencies are declared with ``scope="function"``: the
unit commits as soon as the endpoint returns (its return value serialised), or is undone
when it raises - ``HTTPException`` included - and only then is the response sent. A commit
that fails is answered with its error (``install_error_handlers``: 503 for a database that
went away), never with the endpoint's 200.

Async only: FastAPI runs a ``def`` endpoint and a sync dependency's two halves in worker
threads of its pool, and a sync unit belongs to the one thread that opened it. A ``def``
endpoint opens its own: ``with room.unit_of_work("main") as uow: ...``.
"""

import functools
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends
from storeroom import AsyncUnitOfWork
from storeroom_fastapi.dependencies import RoomDep

__all__ = ["UnitOfWorkDep", "async_unit_of_work"]


@functools.cache
def async_unit_of_work(
    database: str | None = None,
    *,
    attach_database: bool = True,
    journal: str | bool = True,
    isolation_level: str | None = None,
) -> Any:
    """``Depends`` giving an :class:`~storeroom.AsyncUnitOfWork` for the request.

    ``database``: the named database whose transaction the unit owns (None: the default one);
    ``attach_database=False`` for a unit over storages only. ``journal`` and
    ``isolation_level`` are those of ``room.async_unit_of_work``. Repositories and queries
    on the same database object (``room.async_database(name)``, the ``async_repository``
    dependency) join the unit's transaction: the request's rows and objects are kept or undone
    together.
    """

    async def unit_of_work(room: RoomDep) -> AsyncIterator[AsyncUnitOfWork]:
        name = room.async_database(database).name if attach_database else None
        async with room.async_unit_of_work(name, journal=journal, isolation_level=isolation_level) as uow:
            yield uow

    return Depends(unit_of_work, scope="function")


UnitOfWorkDep = Annotated[AsyncUnitOfWork, async_unit_of_work()]
