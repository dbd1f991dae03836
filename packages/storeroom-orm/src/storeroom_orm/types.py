"""Python field types -> the column's SQLAlchemy type, and the value *kind* codecs key on.

SQLAlchemy renders the DDL for every dialect; the kind tells :mod:`storeroom_orm.codecs`
how a value travels to and from each driver.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args, get_origin

import pydantic
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql

from storeroom.errors import ConfigurationError
from storeroom_orm.fields import ColumnSpec
from storeroom_orm.files import is_stored_file

__all__ = ["Kind", "column_type", "field_kind", "unwrap_optional"]

#: how values of a column are encoded: one codec entry per kind and dialect
Kind = Literal["str", "int", "float", "bool", "decimal", "uuid", "datetime", "date", "time", "bytes", "enum", "json"]

#: strings that are indexed or unique need a bounded type (MySQL cannot index TEXT)
INDEXED_STRING_LENGTH = 255
DEFAULT_DIGITS = 38
DEFAULT_PLACES = 10


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``; ``Annotated[X, ...]`` -> ``X``."""
    nullable = False
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) != len(get_args(annotation))
        annotation = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation, nullable


def field_kind(annotation: Any, metadata: list[Any]) -> Kind:
    """The codec kind of a field (after ``unwrap_optional``)."""
    if is_stored_file(annotation, metadata):
        return "json"
    base, _ = unwrap_optional(annotation)
    origin = get_origin(base)
    if origin is Literal:
        values = get_args(base)
        return "str" if all(isinstance(v, str) for v in values) else "json"
    if isinstance(base, type):
        if issubclass(base, enum.Enum):
            return "enum"
        if issubclass(base, bool):
            return "bool"
        if issubclass(base, int):
            return "int"
        if issubclass(base, float):
            return "float"
        if issubclass(base, Decimal):
            return "decimal"
        if issubclass(base, str):
            return "str"
        if issubclass(base, uuid.UUID):
            return "uuid"
        if issubclass(base, dt.datetime):
            return "datetime"
        if issubclass(base, dt.date):
            return "date"
        if issubclass(base, dt.time):
            return "time"
        if issubclass(base, bytes | bytearray):
            return "bytes"
    return "json"  # list, dict, nested models, unions ...


def _enum_type(base: type[enum.Enum]) -> sa.types.TypeEngine[Any]:
    values = [member.value for member in base]
    if all(isinstance(v, str) for v in values):
        return sa.String(max((len(v) for v in values), default=1))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return sa.BigInteger()
    raise ConfigurationError(f"enum {base.__name__}: values must be all strings or all integers")


def _datetime() -> sa.types.TypeEngine[Any]:
    # timestamptz on PostgreSQL; naive UTC with microseconds elsewhere (the codecs convert)
    return (
        sa.DateTime(timezone=True)
        .with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
        .with_variant(mssql.DATETIME2(precision=6), "mssql")
    )


def column_type(kind: Kind, annotation: Any, spec: ColumnSpec, indexed: bool) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type for a field (``sa_type=`` wins)."""
    if spec.sa_type is not None:
        return spec.sa_type() if isinstance(spec.sa_type, type) else spec.sa_type
    base, _ = unwrap_optional(annotation)
    if kind == "str":
        length = spec.max_length or (INDEXED_STRING_LENGTH if indexed else None)
        return sa.String(length) if length else sa.Text()
    if kind == "int":
        return sa.BigInteger()
    if kind == "float":
        return sa.Double()
    if kind == "bool":
        return sa.Boolean()
    if kind == "decimal":
        digits = spec.max_digits or DEFAULT_DIGITS
        places = spec.decimal_places if spec.decimal_places is not None else min(DEFAULT_PLACES, digits)
        return sa.Numeric(digits, places)
    if kind == "uuid":
        return sa.Uuid()
    if kind == "datetime":
        return _datetime()
    if kind == "date":
        return sa.Date()
    if kind == "time":
        return sa.Time()
    if kind == "bytes":
        return sa.LargeBinary()
    if kind == "enum":
        return _enum_type(base)
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def is_model_type(annotation: Any) -> bool:
    base, _ = unwrap_optional(annotation)
    return isinstance(base, type) and issubclass(base, pydantic.BaseModel)
