"""Keyset-pagination cursors: opaque to callers, checked on the way back in.

A cursor carries the ordering it was made for and the last row's sort values and id.
Nothing in it is trusted: it must decode, name the same ordering, and its values must
validate as the fields' types, or the call fails with a ``QueryError`` before any SQL. It
needs no secret: every page query is tenant-filtered like any other, so a cursor from
another tenant (or a forged one) can only move the starting point within rows the caller
may already read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic_core import to_jsonable_python

from storeroom.errors import QueryError
from storeroom_orm.filters import OrderBy

__all__ = ["Page", "decode_cursor", "encode_cursor"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset listing; ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(order: Sequence[OrderBy], values: Sequence[Any], last_id: Any) -> str:
    payload = [[str(o) for o in order], to_jsonable_python(list(values)), str(last_id)]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: Sequence[OrderBy]) -> tuple[list[Any], str]:
    """The raw sort values and id in ``cursor`` (the caller validates their types)."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > 8192:
        raise QueryError("invalid page cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        spec, values, last_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise QueryError("invalid page cursor") from None
    if spec != [str(o) for o in order]:
        raise QueryError("this page cursor was made for another order_by")
    if not isinstance(values, list) or len(values) != len(order) or not isinstance(last_id, str):
        raise QueryError("invalid page cursor")
    return values, last_id
