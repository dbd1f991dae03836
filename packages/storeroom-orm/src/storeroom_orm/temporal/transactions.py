"""The transaction id of audit rows: one per database transaction, shared by its changes.

A change that runs in a transaction of its own gets a fresh id; changes made inside one
``db.transaction()`` (or unit of work) share the id of that transaction, so its audit rows
can be found together. The id is remembered per context (thread or task) against the
transaction object itself (weakly), never against an id that could be reused.
"""

from __future__ import annotations

import weakref
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from storeroom.database import ambient_transaction
from storeroom_orm.ids import uuid7

__all__ = ["transaction_id"]

_current: ContextVar[tuple[weakref.ref[Any], UUID] | None] = ContextVar("storeroom_orm_transaction_id", default=None)


def transaction_id() -> UUID:
    """The id of the transaction the calling step machine runs in (called from inside its steps)."""
    ambient = ambient_transaction()
    if ambient is None:
        return uuid7()
    transaction = ambient.transaction
    known = _current.get()
    if known is not None and known[0]() is transaction:
        return known[1]
    value = uuid7()
    try:
        _current.set((weakref.ref(transaction), value))
    except TypeError:  # not weakly referenceable: an id per change
        pass
    return value
