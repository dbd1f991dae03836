"""``StoredFile``: a field holding a :class:`storeroom.StoredObjectRef`, stored as JSON.

``file: StoredFile | None = Field(None, policy="avatars")`` keeps the reference returned by
``policy.put()`` in the row. The policy name is recorded on the column (``ModelInfo.files``)
so attaching, detaching and garbage collection can find every stored-file column.
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from storeroom.refs import StoredObjectRef

__all__ = ["StoredFile", "is_stored_file"]


class _StoredFileMarker:
    """Marks an ``Annotated`` type as a stored-file field (pydantic ignores it)."""

    def __repr__(self) -> str:
        return "StoredFile"


STORED_FILE = _StoredFileMarker()

#: the field type: validates as ``StoredObjectRef`` (an instance, or its dict/JSON form)
StoredFile = Annotated[StoredObjectRef, STORED_FILE]


def is_stored_file(annotation: Any, metadata: list[Any]) -> bool:
    """Whether a field (its annotation without ``None``, and pydantic's metadata) is a StoredFile."""
    if any(item is STORED_FILE for item in metadata):
        return True
    if get_origin(annotation) is Annotated:
        return any(item is STORED_FILE for item in get_args(annotation)[1:])
    if get_origin(annotation) in (Union, UnionType):  # StoredFile | None
        return any(is_stored_file(arg, []) for arg in get_args(annotation))
    return False
