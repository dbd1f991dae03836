"""What history reads return, and user-field values as JSON and back.

Audit rows keep old and new values as JSON, whatever the field's type: ``Decimal`` as its
exact text, ``UUID`` and ``datetime`` as strings, bytes as base64, a ``StoredFile`` as its
reference (so garbage collection can still find the object an old value named). Reading
them validates the JSON against the field's type again, so ``old`` and ``new`` come back as
the values the model held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import pydantic
from pydantic import ConfigDict, TypeAdapter
from pydantic_core import to_json

__all__ = ["FieldChange", "FieldDiff", "FieldValues", "Operation"]

Operation = Literal["create", "update", "delete", "restore"]

_BYTES_AS_BASE64 = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One change of one field: ``old`` -> ``new`` (None where the record did not exist).

    ``transaction_id`` groups the changes made together (by one repository call, or by
    every call inside one database transaction); scd2 versions carry none, so it is None.
    """

    field: str
    old: Any
    new: Any
    operation: Operation
    changed_at: dt.datetime
    changed_by: str | None
    transaction_id: UUID | None


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """A field in two versions (``compare_versions``)."""

    old: Any
    new: Any
    changed: bool


class FieldValues:
    """User-field values to JSON (for audit rows) and back, per field of one model."""

    def __init__(self, model: type[pydantic.BaseModel]) -> None:
        self.model = model
        self._adapters: dict[str, TypeAdapter[Any]] = {}

    def _adapter(self, name: str) -> TypeAdapter[Any]:
        adapter = self._adapters.get(name)
        if adapter is None:
            # the bare annotation: an old value stays readable after a constraint is tightened
            annotation: Any = self.model.model_fields[name].annotation
            try:
                adapter = TypeAdapter(annotation, config=_BYTES_AS_BASE64)
            except pydantic.PydanticUserError:  # a model type carries its own config
                adapter = TypeAdapter(annotation)
            self._adapters[name] = adapter
        return adapter

    def dump(self, name: str, value: Any) -> Any:
        """``value`` as JSON-ready data (None stays None: SQL NULL)."""
        return None if value is None else self._adapter(name).dump_python(value, mode="json")

    def load(self, name: str, value: Any) -> Any:
        """JSON data back to the field's type; data the type no longer accepts comes back as it is."""
        if value is None:
            return None
        try:
            return self._adapter(name).validate_json(to_json(value))
        except pydantic.ValidationError:
            return value
