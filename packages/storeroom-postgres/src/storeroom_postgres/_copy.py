"""``bulk_insert`` through ``COPY ... FROM STDIN``: binary when the values allow it.

Binary COPY is the fastest path, but the server applies no casts to binary data, so
each value must be encoded as exactly the column's type. The target's column types
are read from the catalog (domains resolved to their base type) and handed to
``copy.set_types``, which picks psycopg's dumper per column.

- **Binary** when every column's type has an unambiguous Python counterpart (``int``
  for integers, ``str`` for text, aware ``datetime`` for ``timestamptz`` ...) and the
  first row's values are of those types. ``int2``/``int4`` values are range-checked on
  the way, because psycopg's C dumpers would silently truncate an oversized ``int``.
- **Text** otherwise (a ``str`` for a ``date`` column, enums, arrays, ``inet`` ...):
  the server parses each value as it would a literal. Columns whose first value has
  the column's natural type keep its dumper (a ``dict`` for ``jsonb``, a ``list`` for
  an array); the others are dumped by the value's own Python type.

The first row decides; a later value that cannot be encoded (or would be stored as
something else: not a ``bool`` for ``bool``, not a ``dict``/``list`` for ``json``/``jsonb``,
in binary not a ``time``/``timedelta`` for ``time``/``interval``) raises a :class:`~storeroom.errors.QueryError` naming the row and the
column (never the value), the COPY is aborted and nothing is inserted. Table and column names are exact
identifiers (always quoted), like the generic path's. A view (which takes INSERT but
not COPY) gets the generic executemany path.
"""

from __future__ import annotations

import datetime as dt
import uuid
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import pq
from psycopg.types.json import Json, Jsonb

from storeroom.errors import QueryError
from storeroom_postgres._native import async_driver_errors, driver_errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection

    from storeroom.sqla.statements import BulkInsert

__all__ = ["CATALOG_SQL", "CopyTarget", "acopy_in", "copy_in"]

#: the target's columns: name, base type OID, SQL type name, generated flag, relation kind;
#: no row when the table does not exist (names are quoted server-side, so they are exact)
CATALOG_SQL = """\
SELECT a.attname, COALESCE(NULLIF(t.typbasetype, 0), a.atttypid)::int8,
       format_type(a.atttypid, a.atttypmod), a.attgenerated <> '' OR a.attidentity = 'a', c.relkind::text
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_class c ON c.oid = a.attrelid
WHERE a.attrelid = to_regclass(
        CASE WHEN %(schema)s::text IS NULL THEN quote_ident(%(name)s::text)
             ELSE quote_ident(%(schema)s::text) || '.' || quote_ident(%(name)s::text) END)
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum"""

_INT = (int,)
_TEXT = (str,)
#: type OID -> the Python types binary COPY encodes unambiguously as that type
_NATURAL: dict[int, tuple[type, ...]] = {
    16: (bool,),  # bool
    17: (bytes, bytearray, memoryview),  # bytea
    19: _TEXT,  # name
    20: _INT,  # int8
    21: _INT,  # int2
    23: _INT,  # int4
    25: _TEXT,  # text
    26: _INT,  # oid
    114: (dict, list),  # json
    700: (float, int),  # float4
    701: (float, int),  # float8
    1042: _TEXT,  # bpchar
    1043: _TEXT,  # varchar
    1082: (dt.date,),  # date (not datetime, checked below)
    1083: (dt.time,),  # time
    1114: (dt.datetime,),  # timestamp (naive values only)
    1184: (dt.datetime,),  # timestamptz (aware values only)
    1186: (dt.timedelta,),  # interval
    1700: (Decimal, int),  # numeric
    2950: (uuid.UUID,),  # uuid
    3802: (dict, list),  # jsonb
}
#: integer types psycopg's C binary dumpers would truncate instead of rejecting: their range
_BOUNDS: dict[int, tuple[int, int]] = {21: (-(2**15), 2**15 - 1), 23: (-(2**31), 2**31 - 1), 26: (0, 2**32 - 1)}
#: ``array`` type codes of exactly those ranges: building an array range-checks a column in C
_ARRAY_CODES = {
    oid: code
    for oid, code in {21: "h", 23: "i", 26: "I"}.items()
    if array(code).itemsize * 8 == (16 if oid == 21 else 32)
}
#: columns whose dumper takes values of other types and stores something else ("false" as
#: true, a JSON text as a JSON string; in binary, an ``int`` as a garbage interval): such values
#: are refused by type instead (the text forms of ``time``/``interval`` are parsed by the server)
_ANY_OBJECT: dict[int, tuple[type, ...]] = {
    16: (bool,),
    114: (dict, list, Json, Jsonb),
    3802: (dict, list, Json, Jsonb),
}
_ANY_OBJECT_BINARY: dict[int, tuple[type, ...]] = {**_ANY_OBJECT, 1083: (dt.time,), 1186: (dt.timedelta,)}
#: rows encoded per chunk (checked together, then written)
CHUNK_ROWS = 1000
#: text COPY: the dumper (by type OID) for a value that is not of its column's natural type
_BY_PYTHON_TYPE: dict[type, int] = {
    str: 25,
    int: 20,
    float: 701,
    bool: 16,
    Decimal: 1700,
    bytes: 17,
    bytearray: 17,
    memoryview: 17,
    dt.date: 1082,
    dt.time: 1083,
    dt.timedelta: 1186,
    uuid.UUID: 2950,
}


def _natural(oid: int, value: Any) -> bool:
    """Whether ``value`` is of the Python type binary COPY sends as ``oid`` (None always is)."""
    if value is None:
        return True
    accepted = _NATURAL.get(oid)
    if accepted is None or not isinstance(value, accepted):
        return False
    if oid == 1082:
        return not isinstance(value, dt.datetime)
    if oid in _BOUNDS or oid == 20:
        return not isinstance(value, bool)
    if isinstance(value, dt.datetime):  # timestamp takes naive values, timestamptz aware ones
        return (value.tzinfo is not None) == (oid == 1184)
    return True


def _has_dumper(adapters: Any, oid: int, fmt: pq.Format) -> bool:
    try:
        adapters.get_dumper_by_oid(oid, fmt)
    except (psycopg.ProgrammingError, ValueError):
        return False
    return True


def _text_oid(adapters: Any, oid: int, value: Any) -> int:
    """The dumper OID for one column of a text COPY, from its type and its first value."""
    if (value is None or _natural(oid, value) or isinstance(value, list | dict)) and _has_dumper(
        adapters, oid, pq.Format.TEXT
    ):
        return oid
    if isinstance(value, dt.datetime):
        return 1184 if value.tzinfo is not None else 1114
    return _BY_PYTHON_TYPE.get(type(value), 25)


@dataclass(frozen=True)
class CopyTarget:
    """What one COPY needs: the statement, the dumper types, the format, the range checks."""

    table: str
    columns: tuple[str, ...]
    oids: tuple[int, ...]
    type_names: tuple[str, ...]
    binary: bool
    statement: str
    #: (column index, low, high) for the integer columns a binary COPY must range-check
    bounds: tuple[tuple[int, int, int], ...]
    #: the target takes INSERT but not COPY (a view): use the generic path
    via_insert: bool = False
    #: (column index, accepted types) for the columns whose dumper would take any value
    typed: tuple[tuple[int, tuple[type, ...]], ...] = ()

    @property
    def checks(self) -> bool:
        """Whether :meth:`check` has anything to check."""
        return bool(self.bounds or self.typed)

    @classmethod
    def build(
        cls,
        plan: BulkInsert,
        catalog: Sequence[Sequence[Any]],
        first: Sequence[Any],
        quote: Callable[[str], str],
        adapters: Any,
    ) -> CopyTarget:
        """Check the columns against the catalog and pick the format; no I/O."""
        columns = plan.columns
        assert columns is not None
        if not catalog:
            raise QueryError(f"bulk insert into {plan.table!r}: no such table (names are exact and case-sensitive)")
        known = {row[0]: row for row in catalog}
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise QueryError(
                f"bulk insert into {plan.table!r}: no column{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))} (the table has {', '.join(map(repr, known))})"
            )
        generated = [c for c in columns if known[c][3]]
        if generated:
            raise QueryError(
                f"bulk insert into {plan.table!r}: {', '.join(map(repr, generated))} "
                "cannot be written (generated, or GENERATED ALWAYS AS IDENTITY)"
            )
        column_oids = tuple(int(known[c][1]) for c in columns)
        binary = all(
            _natural(oid, value) and _has_dumper(adapters, oid, pq.Format.BINARY)
            for oid, value in zip(column_oids, first, strict=True)
        )
        if binary:
            oids = column_oids
            bounds = tuple((i, *_BOUNDS[oid]) for i, oid in enumerate(oids) if oid in _BOUNDS)
        else:
            oids = tuple(_text_oid(adapters, oid, value) for oid, value in zip(column_oids, first, strict=True))
            bounds = ()
        target = ".".join(quote(part) for part in (plan.schema, plan.name) if part is not None)
        statement = (
            f"COPY {target} ({', '.join(quote(c) for c in columns)}) "
            f"FROM STDIN (FORMAT {'BINARY' if binary else 'TEXT'})"
        )
        type_names = tuple(str(known[c][2]) for c in columns)
        via_insert = len(catalog[0]) > 4 and catalog[0][4] == "v"
        strict = _ANY_OBJECT_BINARY if binary else _ANY_OBJECT
        typed = tuple(
            (i, strict[oid])
            for i, (oid, column_oid) in enumerate(zip(oids, column_oids, strict=True))
            if oid == column_oid and oid in strict
        )
        return cls(plan.table, columns, oids, type_names, binary, statement, bounds, via_insert, typed)

    def check(self, start: int, chunk: list[tuple[Any, ...]]) -> None:
        """Range-check the bounded integer columns of a chunk (rows ``start``, ``start + 1`` ...).

        Building an ``array`` of the right item size does it in C; only a chunk that fails
        is walked in Python, to name the row. Other wrong types are left for the encoder,
        except in the columns whose dumper would take them (``typed``).
        """
        for index, accepted in self.typed:
            kinds = set(map(type, map(itemgetter(index), chunk)))
            kinds.discard(type(None))
            if all(issubclass(kind, accepted) for kind in kinds):
                continue
            for offset, row in enumerate(chunk):
                value = row[index]
                if value is not None and not isinstance(value, accepted):
                    raise QueryError(
                        f"bulk insert into {self.table!r}: row #{start + offset}, column {self.columns[index]!r} "
                        f"({self.type_names[index]}): a value of type {type(value).__name__} would not be stored "
                        "as given (the first row chose the column's own encoding): convert the value, "
                        "or use execute_many() to let the server cast"
                    )
        for index, low, high in self.bounds:
            code = _ARRAY_CODES.get(self.oids[index])
            if code is not None:
                try:
                    array(code, filter(None, map(itemgetter(index), chunk)))  # None and 0 always fit
                    continue
                except (OverflowError, TypeError):
                    pass
            for offset, row in enumerate(chunk):
                value = row[index]
                if value is None:
                    continue
                if not isinstance(value, int):
                    break  # the encoder reports this one, in row order
                if not low <= value <= high:
                    raise QueryError(
                        f"bulk insert into {self.table!r}: row #{start + offset}, column {self.columns[index]!r} "
                        f"({self.type_names[index]}): the value is out of range for the column's type"
                    )

    def bad_value(self, index: int, values: Sequence[Any], error: BaseException, adapters: Any) -> QueryError:
        """The error for a row psycopg could not encode; names the column, never the value."""
        where = ""
        fmt = pq.Format.BINARY if self.binary else pq.Format.TEXT
        for column, oid, type_name, value in zip(self.columns, self.oids, self.type_names, values, strict=False):
            if value is not None and not _encodes(adapters, oid, value, fmt):
                where = f", column {column!r} ({type_name}): a value of type {type(value).__name__}"
                break
        how = (
            "binary COPY sends each value as the column's own type"
            if self.binary
            else "the first row chose the encoding"
        )
        return QueryError(
            f"bulk insert into {self.table!r}: row #{index}{where} cannot be encoded "
            f"({type(error).__name__}); {how}: convert the value, or use execute_many() to let the server cast"
        )


def _encodes(adapters: Any, oid: int, value: Any, fmt: pq.Format) -> bool:
    bounds = _BOUNDS.get(oid) if fmt == pq.Format.BINARY else None
    try:
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            return False
        adapters.get_dumper_by_oid(oid, fmt)(type(value), None).dump(value)
    except Exception:  # noqa: BLE001 - any failure marks the culprit
        return False
    return True


Chunk = tuple[int, list[tuple[Any, ...]]]


def _chunks(plan: BulkInsert, rows: Iterator[Mapping[str, Any]]) -> Iterator[Chunk]:
    return plan.tuple_chunks(rows, CHUNK_ROWS)


def _dict_batches(plan: BulkInsert, chunks: Iterator[Chunk]) -> Iterator[list[dict[str, Any]]]:
    """Checked value tuples back into parameter dicts, for the generic INSERT path."""
    columns = plan.columns
    assert columns is not None
    for _, chunk in chunks:
        yield [dict(zip(columns, row, strict=True)) for row in chunk]


#: the database's generic ``_insert_batches`` (executemany of INSERT), for targets COPY cannot fill
GenericInsert = Callable[["Connection", "BulkInsert", Iterator[list[dict[str, Any]]]], int]


def _position(chunk: list[tuple[Any, ...]], row: tuple[Any, ...]) -> int:
    """Where ``row`` (the very object) sits in ``chunk``: only needed once something failed."""
    return next(i for i, candidate in enumerate(chunk) if candidate is row)


def copy_in(conn: Connection, plan: BulkInsert, rows: Iterator[Mapping[str, Any]], generic: GenericInsert) -> int:
    """COPY ``rows`` into ``plan.table`` on ``conn``'s psycopg connection; rows copied."""
    driver: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    chunks = _chunks(plan, rows)
    first = next(chunks)
    with driver_errors(conn, CATALOG_SQL), driver.cursor() as cursor:
        cursor.execute(CATALOG_SQL, {"schema": plan.schema, "name": plan.name})
        catalog = cursor.fetchall()
    quote = conn.dialect.identifier_preparer.quote_identifier
    target = CopyTarget.build(plan, catalog, first[1][0], quote, driver.adapters)
    if target.via_insert:
        return generic(conn, plan, _dict_batches(plan, chain((first,), chunks)))
    with driver_errors(conn, target.statement), driver.cursor() as cursor:
        with cursor.copy(target.statement) as copy:
            copy.set_types(list(target.oids))
            write = copy.write_row
            for start, chunk in chain((first,), chunks):  # the caller's own errors propagate as they are
                if target.checks:
                    target.check(start, chunk)
                for row in chunk:
                    try:
                        write(row)
                    except psycopg.OperationalError:
                        raise
                    except Exception as exc:
                        raise target.bad_value(start + _position(chunk, row), row, exc, driver.adapters) from exc
        return max(cursor.rowcount, 0)


async def acopy_in(
    conn: AsyncConnection, plan: BulkInsert, rows: Iterator[Mapping[str, Any]], generic: GenericInsert
) -> int:
    """Async twin of :func:`copy_in` on psycopg's ``AsyncConnection``."""
    driver: psycopg.AsyncConnection[Any] = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr,assignment]
    chunks = _chunks(plan, rows)
    first = next(chunks)
    async with async_driver_errors(conn, CATALOG_SQL), driver.cursor() as cursor:
        await cursor.execute(CATALOG_SQL, {"schema": plan.schema, "name": plan.name})
        catalog = await cursor.fetchall()
    quote = conn.dialect.identifier_preparer.quote_identifier
    target = CopyTarget.build(plan, catalog, first[1][0], quote, driver.adapters)
    if target.via_insert:
        return int(await conn.run_sync(generic, plan, _dict_batches(plan, chain((first,), chunks))))
    async with async_driver_errors(conn, target.statement), driver.cursor() as cursor:
        async with cursor.copy(target.statement) as copy:
            copy.set_types(list(target.oids))
            write = copy.write_row
            for start, chunk in chain((first,), chunks):
                if target.checks:
                    target.check(start, chunk)
                for row in chunk:
                    try:
                        await write(row)
                    except psycopg.OperationalError:
                        raise
                    except Exception as exc:
                        raise target.bad_value(start + _position(chunk, row), row, exc, driver.adapters) from exc
        return max(cursor.rowcount, 0)
