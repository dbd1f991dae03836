"""Per-dialect value codecs, compiled once per model and dialect.

Repositories run untyped SQLAlchemy constructs, so no bind or result processor runs on
any path (the PostgreSQL and MySQL native paths skip them anyway): what the driver gets
and gives is decided here, the same on every path.

| kind     | PostgreSQL (psycopg)    | SQLite                       | MySQL/MariaDB, SQL Server |
|----------|-------------------------|------------------------------|---------------------------|
| uuid     | native ``uuid``         | 32 hex characters            | 32 hex (SQL Server native) |
| datetime | aware (``timestamptz``) | naive UTC text, microseconds | naive UTC                 |
| decimal  | native                  | text in, REAL out (15 digits)| native                    |
| json     | ``Jsonb`` (dict in COPY)| JSON text                    | JSON text                 |
| enum     | its value               | its value                    | its value                 |

Reading, pydantic does most of the work in Rust (hex and text to UUID, text to datetime,
numbers to Decimal); decoders run only where the driver's value needs help: JSON text,
naive UTC datetimes (made aware) and SQLite's REAL decimals (re-quantized to the scale).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from pydantic_core import to_json, to_jsonable_python

from storeroom_orm.model import ModelInfo
from storeroom_orm.types import Kind

__all__ = ["Codec", "codec_for"]

Convert = Callable[[Any], Any]
UTC = dt.UTC


def _json_text(value: Any) -> str:
    return to_json(value).decode()


def _utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _utc_text(value: dt.datetime) -> str:
    # SQLAlchemy's own SQLite storage format: fixed width, so text order is time order
    return _utc_naive(value).isoformat(sep=" ", timespec="microseconds")


def _aware_text(value: Any) -> Any:
    return value + "+00:00" if isinstance(value, str) else value


def _aware(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, dt.datetime) and value.tzinfo is None else value


def _json_load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes | bytearray) else value


def _enum_value(value: Any) -> Any:
    return getattr(value, "value", value)


def _iso(value: Any) -> Any:
    return value.isoformat()


def _hex(value: Any) -> Any:
    return value.hex if hasattr(value, "hex") and not isinstance(value, str) else value


def _decimal_text(value: Decimal) -> str:
    return str(value)


def _jsonb() -> tuple[Convert, Convert]:
    from psycopg.types.json import Jsonb

    def bind(value: Any) -> Any:
        return Jsonb(to_jsonable_python(value))

    return bind, to_jsonable_python


#: quantize refuses results longer than its context's precision (28 digits by default); a REAL
#: reaches 1e308, and the scale adds its places
_WIDE = Context(prec=1000)


def _requantize(places: int) -> Convert:
    exponent = Decimal(1).scaleb(-places)
    context = _WIDE

    def decode(value: Any) -> Any:
        if isinstance(value, float):
            return Decimal(repr(value)).quantize(exponent, context=context)
        if isinstance(value, int | str):
            return Decimal(value).quantize(exponent, context=context)
        return value

    return decode


def _rules(family: str, driver: str, kind: Kind) -> tuple[Convert | None, Convert | None]:
    """(encode, decode) of one kind on one dialect family; None: the value passes as it is."""
    if kind == "enum":
        return _enum_value, None
    if family == "postgresql":
        if kind == "json":
            return (_jsonb()[0] if driver == "psycopg" else _json_text), None
        return None, None
    if kind == "json":
        return _json_text, _json_load
    if kind == "uuid":
        return (None if family == "mssql" else _hex), None
    if kind == "datetime":
        if family == "sqlite":
            return _utc_text, _aware_text
        return _utc_naive, _aware
    if family == "sqlite":
        if kind == "decimal":
            return _decimal_text, None  # decoded per column (the scale) below
        if kind in ("date", "time"):
            return _iso, None
    return None, None


@dataclass(frozen=True, slots=True)
class Codec:
    """Encoders per column (binds and bulk rows) and the decoders a read needs."""

    encoders: dict[str, Convert]
    bulk_encoders: dict[str, Convert]
    decoders: tuple[tuple[str, Convert], ...]

    def encode(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        convert = self.encoders.get(column)
        return value if convert is None else convert(value)

    def encode_row(
        self, row: dict[str, Any], bulk: bool = False, done: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """``row`` with its values converted in place (and returned).

        ``done``: columns whose encoded value is already known (the same timestamp for every
        row of a bulk insert): set as given instead of encoded again per row.
        """
        for column, convert in (self.bulk_encoders if bulk else self.encoders).items():
            if done is not None and column in done:
                continue
            value = row.get(column)
            if value is not None:
                row[column] = convert(value)
        if done:
            row.update(done)
        return row

    def decode_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for column, convert in self.decoders:
            for row in rows:
                value = row.get(column)
                if value is not None:
                    row[column] = convert(value)
        return rows


def codec_for(info: ModelInfo, family: str, driver: str) -> Codec:
    encoders: dict[str, Convert] = {}
    bulk: dict[str, Convert] = {}
    decoders: list[tuple[str, Convert]] = []
    for column in info.columns:
        kind = info.kinds[column]
        encode, decode = _rules(family, driver, kind)
        if encode is not None:
            encoders[column] = encode
            bulk[column] = encode
        if family == "postgresql" and kind == "json" and driver == "psycopg":
            bulk[column] = to_jsonable_python  # COPY takes dicts and lists for jsonb
        if family == "sqlite" and kind == "decimal":
            decode = _requantize(info.decimal_places.get(column, 0))
        if decode is not None:
            decoders.append((column, decode))
    return Codec(encoders, bulk, tuple(decoders))
