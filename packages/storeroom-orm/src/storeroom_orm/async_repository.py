"""``AsyncRepository``: the same operations as :class:`~storeroom_orm.Repository`, awaited.

Only the loop that runs a plan differs (:func:`storeroom_orm.steps.arun`); every method
body, check and statement is the shared :class:`~storeroom_orm.repository.RepositoryCore`'s.
"""

from __future__ import annotations

from typing import TypeVar

from storeroom.database import AsyncDatabaseInterface
from storeroom_orm.model import Model
from storeroom_orm.repository import RepositoryCore
from storeroom_orm.steps import arun

__all__ = ["AsyncRepository"]

M = TypeVar("M", bound=Model)


class AsyncRepository(RepositoryCore[M]):
    """``await repo.get(id)`` ... through an ``AsyncDatabaseInterface``, joining its transaction."""

    database: AsyncDatabaseInterface
    _run = staticmethod(arun)
