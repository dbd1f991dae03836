"""Planning a COPY: columns against the catalog, binary or text, quoting (pure logic, no server)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy.dialects import postgresql

from storeroom.errors import QueryError
from storeroom.sqla.statements import BulkInsert
from storeroom_postgres._copy import CopyTarget

QUOTE = postgresql.dialect().identifier_preparer.quote_identifier
# attname, base type oid, format_type, generated
CATALOG = [
    ("id", 23, "integer", False),
    ("name", 1043, "character varying(50)", False),
    ("at", 1184, "timestamp with time zone", False),
    ("doc", 3802, "jsonb", False),
    ("mood", 99999, "mood", False),
    ("twice", 23, "integer", True),
]


def _build(columns: list[str], first: tuple[Any, ...], table: str = "t") -> CopyTarget:
    return CopyTarget.build(BulkInsert(table, columns), CATALOG, first, QUOTE, psycopg.adapters)


def test_natural_values_go_binary_with_range_checks() -> None:
    target = _build(["id", "name", "at", "doc"], (1, "a", dt.datetime(2024, 1, 1, tzinfo=dt.UTC), {"a": 1}))
    assert target.binary and target.oids == (23, 1043, 1184, 3802)
    assert target.statement == 'COPY "t" ("id", "name", "at", "doc") FROM STDIN (FORMAT BINARY)'
    assert target.bounds == ((0, -(2**31), 2**31 - 1),)
    target.check(0, [(2**31 - 1, "a", None, None), (-(2**31), "b", None, None), (None, "c", None, None)])
    with pytest.raises(QueryError, match=r"row #1001, column 'id' \(integer\): the value is out of range"):
        target.check(1000, [(0, "a", None, None), (2**31, "b", None, None)])
    target.check(0, [("not an int", "a", None, None)])  # wrong types are the encoder's to report


def test_small_and_oid_ranges() -> None:
    catalog = [("s", 21, "smallint", False), ("o", 26, "oid", False)]
    target = CopyTarget.build(BulkInsert("t", ["s", "o"]), catalog, (1, 1), QUOTE, psycopg.adapters)
    target.check(0, [(2**15 - 1, 2**32 - 1), (-(2**15), 0)])
    with pytest.raises(QueryError, match="column 's'"):
        target.check(0, [(2**15, 1)])
    with pytest.raises(QueryError, match="column 'o'"):
        target.check(0, [(1, -1)])


@pytest.mark.parametrize(
    ("first", "oids"),
    [
        (("1", "a", None, None), (25, 1043, 1184, 3802)),  # a str for an integer: dumped as text
        ((1, "a", "2024-01-01", '{"a": 1}'), (23, 1043, 25, 25)),  # strings the server parses
        ((1, "a", dt.datetime(2024, 1, 1), None), (23, 1043, 1114, 3802)),  # naive for timestamptz
        ((True, "a", None, None), (16, 1043, 1184, 3802)),  # a bool is not an integer
    ],
)
def test_other_values_go_text(first: tuple[Any, ...], oids: tuple[int, ...]) -> None:
    target = _build(["id", "name", "at", "doc"], first)
    assert not target.binary and target.oids == oids and target.bounds == ()
    assert target.statement.endswith("(FORMAT TEXT)")


def test_types_without_a_binary_dumper_go_text() -> None:
    target = _build(["id", "mood"], (1, "happy"))
    assert not target.binary and target.oids == (23, 25)


def test_unknown_generated_and_missing() -> None:
    with pytest.raises(QueryError, match=r"no columns 'nope', 'nada' \(the table has 'id', 'name'"):
        _build(["id", "nope", "nada"], (1, 2, 3))
    with pytest.raises(QueryError, match="'twice' cannot be written"):
        _build(["id", "twice"], (1, 2))
    with pytest.raises(QueryError, match="no such table"):
        CopyTarget.build(BulkInsert("t", ["id"]), [], (1,), QUOTE, psycopg.adapters)


def test_views_take_the_insert_path() -> None:
    catalog = [("id", 23, "integer", False, "v")]
    assert CopyTarget.build(BulkInsert("v", ["id"]), catalog, (1,), QUOTE, psycopg.adapters).via_insert
    table = [("id", 23, "integer", False, "r")]
    assert not CopyTarget.build(BulkInsert("t", ["id"]), table, (1,), QUOTE, psycopg.adapters).via_insert


def test_schema_and_odd_names_are_quoted() -> None:
    catalog = [('we"ird', 25, "text", False)]
    target = CopyTarget.build(BulkInsert("My Schema.Order", ['we"ird']), catalog, ("x",), QUOTE, psycopg.adapters)
    assert target.statement == 'COPY "My Schema"."Order" ("we""ird") FROM STDIN (FORMAT BINARY)'


def test_bad_value_names_the_column_not_the_value() -> None:
    target = _build(["id", "name"], (1, "a"))
    error = target.bad_value(41, ("Secret-Value", "a"), TypeError("x"), psycopg.adapters)
    assert "row #41, column 'id' (integer): a value of type str" in str(error)
    assert "Secret-Value" not in str(error)
    overflow = target.bad_value(3, (2**40, "a"), OverflowError("x"), psycopg.adapters)
    assert "column 'id'" in str(overflow)


@pytest.mark.parametrize(
    ("oid", "value"),
    [
        (20, 2**40),
        (701, 1),
        (1700, Decimal("1.5")),
        (1082, dt.date(2024, 1, 1)),
        (1114, dt.datetime(2024, 1, 1)),
        (2950, uuid.uuid4()),
        (17, b"\x00"),
        (1186, dt.timedelta(1)),
    ],
)
def test_natural_types(oid: int, value: Any) -> None:
    catalog = [("c", oid, "t", False)]
    assert CopyTarget.build(BulkInsert("t", ["c"]), catalog, (value,), QUOTE, psycopg.adapters).binary


def test_bool_and_json_columns_refuse_later_values_of_another_type() -> None:
    catalog = [("flag", 16, "boolean", False), ("doc", 3802, "jsonb", False)]
    target = CopyTarget.build(BulkInsert("t", ["flag", "doc"]), catalog, (True, None), QUOTE, psycopg.adapters)
    assert target.binary and target.checks
    target.check(0, [(False, {"a": 1}), (None, [1]), (True, psycopg.types.json.Jsonb("x"))])
    with pytest.raises(QueryError, match=r"row #3, column 'flag' \(boolean\): a value of type str"):
        target.check(2, [(True, None), ("false", None)])
    with pytest.raises(QueryError, match=r"row #0, column 'doc' \(jsonb\): a value of type str"):
        target.check(0, [(True, '{"a": 1}')])
