"""The psycopg-native paths: raw-cursor reads, COPY bulk inserts, server-side streams."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from storeroom.errors import IntegrityError, QueryError
from storeroom_postgres import AsyncPostgresDatabase, PostgresDatabase

from .conftest import unique

TYPES = (
    "(id int PRIMARY KEY, big bigint, small smallint, ratio float8, price numeric(12, 2), flag boolean,"
    " name varchar(50), body text, data bytea, day date, at timestamptz, naive timestamp, span interval,"
    " ident uuid, doc jsonb, tags text[])"
)


def _typed_row(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "big": 2**40 + i,
        "small": i % 100,
        "ratio": i / 4,
        "price": Decimal("12.50") + i,
        "flag": i % 2 == 0,
        "name": f"name-{i} 'q' \"d\" \\ %",
        "body": "Zo\u00eb \u2013 \u6771\u4eac \u2713\ttab\nnewline",
        "data": bytes([i % 256, 0, 255]),
        "day": dt.date(2024, 1, 1) + dt.timedelta(days=i),
        "at": dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC) + dt.timedelta(minutes=i),
        "naive": dt.datetime(2024, 1, 1, 12) + dt.timedelta(seconds=i),
        "span": dt.timedelta(hours=i),
        "ident": uuid.UUID(int=i),
        "doc": {"i": i, "nested": [1, "two", None]},
        "tags": ["a", f"t{i}"],
    }


def _normalise(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "data": bytes(row["data"]), "at": row["at"].astimezone(dt.UTC)}


# -- reads ----------------------------------------------------------------------------------------


def test_native_and_generic_reads_agree(postgres_url: str, make_table: Callable[..., str]) -> None:
    table = make_table(TYPES)
    with (
        PostgresDatabase(postgres_url) as native,
        PostgresDatabase(postgres_url, native=False) as generic,
    ):
        assert native.native and not generic.native
        rows = [_typed_row(i) for i in range(1, 6)]
        assert native.bulk_insert(table, rows) == 5
        sql = f"SELECT * FROM {table} WHERE name LIKE 'name-%' OR id = :id ORDER BY id"
        got, expected = native.fetch_all(sql, {"id": 1}), generic.fetch_all(sql, {"id": 1})
        assert [_normalise(r) for r in got] == [_normalise(r) for r in expected] == [_normalise(r) for r in rows]
        one = f"SELECT id, doc, ident::text AS ident_text FROM {table} WHERE id = :id"
        assert native.fetch_one(one, {"id": 3}) == generic.fetch_one(one, {"id": 3})
        assert native.fetch_one(one, {"id": 99}) is None
        assert native.fetch_value(f"SELECT count(*) FROM {table} WHERE id > CAST(:id AS int)", {"id": 2}) == 3


def test_percent_and_casts_in_sql(db: PostgresDatabase) -> None:
    got = db.fetch_one("SELECT 'a%b' AS pct, CAST(:v AS text) || '%' AS cast, 10 % 3 AS modulo", {"v": 5})
    assert got == {"pct": "a%b", "cast": "5%", "modulo": 1}


def test_statement_without_rows_through_fetch(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int)")
    for call in (db.fetch_all, db.fetch_one, db.fetch_value):
        with pytest.raises(QueryError, match="returns no rows") as caught:
            call(f"UPDATE {table} SET id = :v", {"v": 1})
        assert caught.value.statement == f"UPDATE {table} SET id = :v"


@pytest.mark.asyncio
async def test_async_native_reads(adb: AsyncPostgresDatabase) -> None:
    rows = await adb.fetch_all("SELECT g AS n, g * 2 AS twice FROM generate_series(1, :n) g", {"n": 1000})
    assert len(rows) == 1000 and rows[-1] == {"n": 1000, "twice": 2000}
    assert await adb.fetch_one("SELECT CAST(:a AS int) AS a", {"a": 7}) == {"a": 7}
    assert await adb.fetch_value("SELECT 'x%'") == "x%"
    with pytest.raises(QueryError) as caught:
        await adb.fetch_all("SELECT nope FROM nowhere_at_all")
    assert caught.value.__cause__ is not None


# -- streams --------------------------------------------------------------------------------------


def _open_cursors(tx: Any) -> list[str]:
    return [r["name"] for r in tx.fetch_all("SELECT name FROM pg_cursors")]


def test_stream_uses_a_server_side_cursor_in_batches(db: PostgresDatabase) -> None:
    with db.transaction() as tx:
        rows = tx.stream("SELECT g FROM generate_series(1, 10) g ORDER BY g", batch_size=3)
        assert next(rows) == {"g": 1}
        assert len(_open_cursors(tx)) == 1  # a named cursor, fetched from batch by batch
        assert [r["g"] for r in rows] == list(range(2, 11))
        assert _open_cursors(tx) == []


@pytest.mark.asyncio
async def test_async_stream_uses_a_server_side_cursor(adb: AsyncPostgresDatabase) -> None:
    async with adb.transaction() as tx:
        seen = []
        async with contextlib.aclosing(tx.stream("SELECT g FROM generate_series(1, 10) g", batch_size=4)) as rows:  # type: ignore[type-var]
            async for row in rows:
                seen.append(row["g"])
                if len(seen) == 1:
                    assert len(await tx.fetch_all("SELECT name FROM pg_cursors")) == 1
        assert sorted(seen) == list(range(1, 11))


# -- COPY -----------------------------------------------------------------------------------------


def test_bulk_insert_round_trips_every_type(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table(TYPES)
    rows = [_typed_row(i) for i in range(1, 301)]
    assert db.bulk_insert(table, rows) == 300
    got = db.fetch_all(f"SELECT * FROM {table} ORDER BY id")
    assert [_normalise(r) for r in got] == [_normalise(r) for r in rows]


def test_bulk_insert_values_the_server_must_parse(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    """Strings for dates/json/numbers, an enum, naive datetimes for timestamptz: text COPY."""
    mood = unique("mood")
    db.execute(f"CREATE TYPE {mood} AS ENUM ('happy', 'sad')")
    try:
        table = make_table(f"(id int PRIMARY KEY, day date, doc jsonb, at timestamptz, m {mood}, n numeric)")
        rows = [
            {
                "id": 1,
                "day": "2024-02-29",
                "doc": '{"a": [1, 2]}',
                "at": dt.datetime(2024, 1, 1),
                "m": "sad",
                "n": "1.5",
            },
            {"id": 2, "day": None, "doc": None, "at": None, "m": "happy", "n": None},
        ]
        assert db.bulk_insert(table, rows) == 2
        got = db.fetch_one(f"SELECT day, doc, m::text AS m, n FROM {table} WHERE id = :id", {"id": 1})
        assert got == {"day": dt.date(2024, 2, 29), "doc": {"a": [1, 2]}, "m": "sad", "n": Decimal("1.5")}
    finally:
        db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute(f"DROP TYPE {mood}")


def test_bulk_insert_into_schema_qualified_and_mixed_case_tables(db: PostgresDatabase) -> None:
    schema, table = unique("Sch"), unique("Mixed_Case")
    db.execute(f'CREATE SCHEMA "{schema}"')
    try:
        db.execute(f'CREATE TABLE "{schema}"."{table}" (id int PRIMARY KEY, "Select" text, "we""ird" text)')
        rows = [{"id": i, "Select": f"s{i}", 'we"ird': f"w{i}"} for i in range(1, 4)]
        assert db.bulk_insert(f"{schema}.{table}", rows) == 3
        got = db.fetch_all(f'SELECT id, "Select", "we""ird" FROM "{schema}"."{table}" ORDER BY id')
        assert got == rows
        with pytest.raises(QueryError, match="no such table"):
            db.bulk_insert(table, rows)  # not on the search path
    finally:
        db.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_bulk_insert_with_defaults_and_a_generator(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id bigserial PRIMARY KEY, name text NOT NULL, made timestamptz DEFAULT now())")
    assert db.bulk_insert(table, ({"name": f"n{i}"} for i in range(20_000)), columns=["name"]) == 20_000
    got = db.fetch_one(f"SELECT count(*) AS n, count(made) AS made, max(id) AS top FROM {table}")
    assert got == {"n": 20_000, "made": 20_000, "top": 20_000}


def test_bulk_insert_unknown_column_inserts_nothing(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY, name text)")
    with pytest.raises(QueryError, match="no column 'nmae'") as caught:
        db.bulk_insert(table, [{"id": 1, "nmae": "x"}])
    assert "'id', 'name'" in str(caught.value)  # says what the table has
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0


def test_bulk_insert_generated_column_is_refused(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int GENERATED ALWAYS AS IDENTITY, n int, twice int GENERATED ALWAYS AS (n * 2) STORED)")
    with pytest.raises(QueryError, match="'id', 'twice'"):
        db.bulk_insert(table, [{"id": 1, "n": 1, "twice": 2}])
    assert db.bulk_insert(table, [{"n": 4}]) == 1
    assert db.fetch_one(f"SELECT id, twice FROM {table}") == {"id": 1, "twice": 8}


def test_bulk_insert_bad_value_names_row_and_column_not_value(
    db: PostgresDatabase, make_table: Callable[..., str]
) -> None:
    table = make_table("(id int PRIMARY KEY, name text, score int)")
    secret = "s3cr3t-" + uuid.uuid4().hex
    rows: list[dict[str, Any]] = [{"id": i, "name": "n", "score": i} for i in range(1, 1001)]
    rows[700]["score"] = secret
    with pytest.raises(QueryError, match=r"row #700, column 'score' \(integer\): a value of type str") as caught:
        db.bulk_insert(table, rows)
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0
    rows[700]["score"] = 2**40  # out of range for integer
    with pytest.raises(QueryError, match="row #700, column 'score'"):
        db.bulk_insert(table, rows)
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0


def test_bulk_insert_later_value_of_another_type_is_refused_not_reinterpreted(
    db: PostgresDatabase, make_table: Callable[..., str]
) -> None:
    """A bool or json column keeps the first row's dumper, which takes any object: "false" would be
    stored as true and a JSON text as a JSON string. Such a row is refused, like other misfits."""
    table = make_table("(id int PRIMARY KEY, flag boolean, doc jsonb, span interval)")
    cases: list[tuple[list[dict[str, Any]], str]] = [
        ([{"id": 1, "flag": True, "doc": {"a": 1}}, {"id": 2, "flag": "false", "doc": {"a": 2}}], "flag"),
        ([{"id": 1, "flag": True, "doc": {"a": 1}}, {"id": 2, "flag": False, "doc": '{"a": 2}'}], "doc"),
        ([{"id": 1, "flag": None, "doc": None}, {"id": 2, "flag": False, "doc": '{"a": 2}'}], "doc"),  # text COPY
        ([{"id": 1, "flag": None, "doc": "[]"}, {"id": 2, "flag": 0, "doc": "{}"}], "flag"),  # text COPY
        ([{"id": 1, "span": dt.timedelta(days=1)}, {"id": 2, "span": 5}], "span"),  # 5 days 00:16:40.000307
    ]
    for rows, column in cases:
        with pytest.raises(QueryError, match=rf"row #1, column '{column}' .*a value of type (str|int)"):
            db.bulk_insert(table, rows)
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0
    rows = [{"id": 1, "flag": None, "doc": None}, {"id": 2, "flag": False, "doc": [1, {"b": None}]}]
    assert db.bulk_insert(table, rows) == 2
    assert db.fetch_all(f"SELECT flag, doc FROM {table} ORDER BY id") == [
        {"flag": None, "doc": None},
        {"flag": False, "doc": [1, {"b": None}]},
    ]


def test_bulk_insert_value_the_server_cannot_parse_is_not_shown(
    db: PostgresDatabase, make_table: Callable[..., str]
) -> None:
    """Text COPY sends values unbound, so no parameter masks the one the server quotes back."""
    table = make_table("(id int PRIMARY KEY, n int, day date)")
    secret = "Secret-" + uuid.uuid4().hex
    for rows in (
        [{"id": "1", "n": "2", "day": None}, {"id": "2", "n": secret, "day": None}],
        [{"id": 1, "n": 1, "day": "2024-01-01"}, {"id": 2, "n": 2, "day": secret}],
        [{"id": 1, "n": 1, "day": "2024-01-01"}, {"id": 2, "n": 2, "day": f'a"{secret}"b'}],
    ):
        with pytest.raises(QueryError) as caught:
            db.bulk_insert(table, rows)
        shown = f"{caught.value} {caught.value!r}"
        assert secret not in shown, shown
        assert "invalid input syntax" in shown and caught.value.sqlstate.startswith("22")  # type: ignore[attr-defined]
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0


def test_bulk_insert_constraint_violation(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY, n int CONSTRAINT n_positive CHECK (n > 0))")
    with pytest.raises(IntegrityError) as caught:
        db.bulk_insert(table, [{"id": 1, "n": 1}, {"id": 2, "n": -1}])
    assert caught.value.constraint == "n_positive"
    assert "COPY" in str(caught.value.statement)
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0


def test_callers_exception_propagates_unchanged(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY)")
    error = RuntimeError("from the caller's generator")

    def rows() -> Any:
        yield {"id": 1}
        yield {"id": 2}
        raise error

    with pytest.raises(RuntimeError) as caught:
        db.bulk_insert(table, rows())
    assert caught.value is error
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0
    assert db.bulk_insert(table, [{"id": 1}]) == 1  # the pooled connection is still good


def test_bulk_insert_joins_the_transaction(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY)")
    with pytest.raises(ZeroDivisionError), db.transaction():  # noqa: PT012
        assert db.bulk_insert(table, [{"id": i} for i in range(10)]) == 10
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == 10
        1 / 0  # noqa: B018
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0


@pytest.mark.asyncio
async def test_async_bulk_insert(adb: AsyncPostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table(TYPES)
    rows = [_typed_row(i) for i in range(1, 101)]
    assert await adb.bulk_insert(table, rows) == 100
    got = await adb.fetch_all(f"SELECT * FROM {table} ORDER BY id")
    assert [_normalise(r) for r in got] == [_normalise(r) for r in rows]
    bad = [{"id": 1000 + i, "small": i} for i in range(5)]
    bad[3]["small"] = "three"
    with pytest.raises(QueryError, match=r"row #3, column 'small'"):
        await adb.bulk_insert(table, bad)
    with pytest.raises(IntegrityError) as caught:
        await adb.bulk_insert(table, [{"id": 1}])
    assert caught.value.constraint == f"{table}_pkey"
    assert await adb.fetch_value(f"SELECT count(*) FROM {table}") == 100


def test_postgres_scheme_alias(postgres_url: str) -> None:
    with PostgresDatabase(postgres_url.replace("postgresql://", "postgres://", 1)) as db:
        assert db.fetch_value("SELECT 1") == 1


def test_bulk_insert_into_a_view_takes_the_insert_path(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY, name text, hidden text DEFAULT 'h')")
    view = unique("v")
    db.execute(f"CREATE VIEW {view} AS SELECT id, name FROM {table}")
    try:
        assert db.bulk_insert(view, [{"id": i, "name": f"n{i}"} for i in range(7000)]) == 7000
        assert db.fetch_one(f"SELECT count(*) AS n, min(hidden) AS h FROM {table}") == {"n": 7000, "h": "h"}
        with pytest.raises(IntegrityError):
            db.bulk_insert(view, [{"id": 7000, "name": "x"}, {"id": 1, "name": "dup"}])
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == 7000
    finally:
        db.execute(f"DROP VIEW {view}")


@pytest.mark.asyncio
async def test_async_bulk_insert_into_a_view(adb: AsyncPostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY, name text)")
    view = unique("v")
    await adb.execute(f"CREATE VIEW {view} AS SELECT id, name FROM {table}")
    try:
        assert await adb.bulk_insert(view, ({"id": i, "name": "n"} for i in range(10))) == 10
        assert await adb.fetch_value(f"SELECT count(*) FROM {table}") == 10
    finally:
        await adb.execute(f"DROP VIEW {view}")
