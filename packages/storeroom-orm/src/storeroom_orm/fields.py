"""``Field()``: pydantic's field plus the column facts the table is built from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["ON_DELETE", "ColumnSpec", "Field", "Index", "column_spec"]

ON_DELETE = frozenset({"CASCADE", "SET NULL", "RESTRICT", "NO ACTION", "SET DEFAULT"})


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """Database facts of one field, kept in the pydantic ``FieldInfo.metadata`` (pydantic ignores it)."""

    max_length: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None
    primary_key: bool = False
    index: bool = False
    unique: bool = False
    foreign_key: str | None = None
    on_delete: str | None = None
    check: str | None = None
    server_default: Any = None
    comment: str | None = None
    sa_type: Any = None
    policy: str | None = None


@dataclass(frozen=True, slots=True)
class Index:
    """A table index: composite (several columns), partial (``where=``), expression
    (a SQL string among the columns), or dialect-specific (``using="gin"``, ``include=``).

    ``where`` applies on PostgreSQL, SQLite and SQL Server (elsewhere the index is full); an
    index with ``using`` or ``include`` is PostgreSQL's and is created there only.
    """

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    using: str | None = None
    include: tuple[str, ...] = field(default_factory=tuple)

    def __init__(
        self,
        name: str,
        *columns: str,
        unique: bool = False,
        where: str | None = None,
        using: str | None = None,
        include: Sequence[str] = (),
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "columns", tuple(columns))
        object.__setattr__(self, "unique", unique)
        object.__setattr__(self, "where", where)
        object.__setattr__(self, "using", using)
        object.__setattr__(self, "include", tuple(include))


def Field(
    default: Any = PydanticUndefined,
    *,
    default_factory: Callable[[], Any] | None = None,
    max_length: int | None = None,
    max_digits: int | None = None,
    decimal_places: int | None = None,
    primary_key: bool = False,
    index: bool = False,
    unique: bool = False,
    foreign_key: str | None = None,
    on_delete: str | None = None,
    check: str | None = None,
    server_default: Any = None,
    comment: str | None = None,
    sa_type: Any = None,
    policy: str | None = None,
    **pydantic_kwargs: Any,
) -> Any:
    """A model field: pydantic's validation keywords plus the column's database facts.

    ``max_length`` and ``max_digits``/``decimal_places`` both validate and size the column;
    ``unique``/``index`` on a multi-tenant model are per tenant; ``foreign_key="users.id"``
    between tenant tables becomes a composite key over ``(tenant_id, ...)``; ``policy`` names
    the storage policy of a ``StoredFile`` field.
    """
    if on_delete is not None:
        on_delete = on_delete.upper()
        if on_delete not in ON_DELETE:
            raise ValueError(f"on_delete must be one of {', '.join(sorted(ON_DELETE))}, got {on_delete!r}")
        if foreign_key is None:
            raise ValueError("on_delete needs foreign_key")
    if default_factory is not None:
        pydantic_kwargs["default_factory"] = default_factory
    info: FieldInfo = pydantic.Field(
        default,
        max_length=max_length,
        max_digits=max_digits,
        decimal_places=decimal_places,
        description=pydantic_kwargs.pop("description", comment),
        **pydantic_kwargs,
    )
    info.metadata.append(
        ColumnSpec(
            max_length=max_length,
            max_digits=max_digits,
            decimal_places=decimal_places,
            primary_key=primary_key,
            index=index,
            unique=unique,
            foreign_key=foreign_key,
            on_delete=on_delete,
            check=check,
            server_default=server_default,
            comment=comment,
            sa_type=sa_type,
            policy=policy,
        )
    )
    return info


def column_spec(info: FieldInfo) -> ColumnSpec:
    """The field's ``ColumnSpec``; a plain pydantic field gets the defaults (plus its max_length)."""
    for item in info.metadata:
        if isinstance(item, ColumnSpec):
            return item
    max_length = next((getattr(m, "max_length", None) for m in info.metadata if hasattr(m, "max_length")), None)
    return ColumnSpec(max_length=max_length)
