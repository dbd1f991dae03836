"""Parameter checks and bulk-insert planning, before anything reaches a driver."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from storeroom.errors import QueryError
from storeroom.sqla.statements import BulkInsert, bind_names, check_batch_size, native_ready, prepare, prepare_many


def test_bind_names_follow_sqlalchemy_text_rules() -> None:
    assert bind_names("SELECT * FROM t WHERE a = :a AND b = :b_2") == {"a", "b_2"}
    assert bind_names("SELECT :x::int, '12:30', :x") == {"x"}  # casts and times are not parameters
    assert bind_names(r"SELECT '\:literal'") == frozenset()


def test_prepare_returns_a_cached_text_clause() -> None:
    clause, params = prepare("SELECT :a", {"a": 1})
    assert isinstance(clause, sa.TextClause) and params == {"a": 1}
    assert prepare("SELECT :a", {"a": 2})[0] is clause


@pytest.mark.parametrize(
    ("sql", "params", "needle"),
    [
        ("SELECT :id", None, "missing parameter ':id'"),
        ("SELECT :id", {"idd": 1}, "unknown parameter 'idd'"),
        ("SELECT 1", {"x": 1}, "no parameters"),
        ("SELECT :a, :b", {"a": 1}, "':b'"),
    ],
)
def test_prepare_names_the_parameter(sql: str, params: dict[str, int] | None, needle: str) -> None:
    with pytest.raises(QueryError) as caught:
        prepare(sql, params)
    assert needle in str(caught.value)
    assert caught.value.statement == sql


def test_prepare_rejects_non_mappings_and_non_strings() -> None:
    with pytest.raises(QueryError, match="mapping"):
        prepare("SELECT :a", [("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="string or a SQLAlchemy Core statement"):
        prepare(42, None)  # type: ignore[arg-type]


_T = sa.table("t", sa.column("id"), sa.column("name"))


def test_prepare_takes_core_constructs_with_named_bindparams() -> None:
    stmt = sa.select(_T.c.id).where(_T.c.id == sa.bindparam("id"), _T.c.name == sa.bindparam("name"))
    clause, params = prepare(stmt, {"id": 1, "name": "a"})
    assert clause is stmt and params == {"id": 1, "name": "a"}
    with pytest.raises(QueryError, match=r"missing parameter ':name'.*takes :id, :name"):
        prepare(stmt, {"id": 1})
    with pytest.raises(QueryError, match="unknown parameter 'nmae'"):
        prepare(stmt, {"id": 1, "name": "a", "nmae": 2})
    with pytest.raises(QueryError, match="#1"):
        prepare_many(sa.insert(_T).values(id=sa.bindparam("p0")), [{"p0": 1}, {"p1": 2}])
    # a literal value is an optional parameter: it may be overridden, need not be given
    literal = sa.select(_T.c.id).where(_T.c.id == 5)
    assert prepare(literal, None)[1] == {}


def test_native_ready_only_for_constructs_without_processing() -> None:
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    plain = sa.select(_T.c.id).where(_T.c.id == sa.bindparam("id"))
    assert native_ready(plain, dialect)
    assert native_ready(sa.text("SELECT :a"), dialect)
    assert not native_ready(sa.select(_T.c.id).where(_T.c.id == 5), dialect)  # a bound value
    assert not native_ready(sa.select(_T.c.id).where(_T.c.id.in_(sa.bindparam("ids", expanding=True))), dialect)
    typed = sa.Table("typed", sa.MetaData(), sa.Column("id", sa.Integer), sa.Column("n", sa.Numeric(asdecimal=False)))
    assert not native_ready(sa.select(typed.c.n), dialect)  # a result processor (Decimal -> float)


def test_prepare_many_checks_every_set() -> None:
    clause, rows = prepare_many("INSERT INTO t VALUES (:a)", ({"a": i} for i in range(3)))
    assert rows == [{"a": 0}, {"a": 1}, {"a": 2}] and isinstance(clause, sa.TextClause)
    with pytest.raises(QueryError, match="#1"):
        prepare_many("INSERT INTO t VALUES (:a)", [{"a": 1}, {"b": 2}])
    with pytest.raises(QueryError, match="single mapping"):
        prepare_many("INSERT INTO t VALUES (:a)", {"a": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "10"])
def test_batch_size_must_be_a_positive_int(size: object) -> None:
    with pytest.raises(QueryError):
        check_batch_size(size)  # type: ignore[arg-type]


def test_bulk_insert_takes_columns_from_the_first_row() -> None:
    plan = BulkInsert("t", None, batch_size=2)
    batches = list(plan.batches([{"a": 1, "b": 2}, {"b": 4, "a": 3}, {"a": 5, "b": 6}]))
    assert plan.columns == ("a", "b")
    assert batches == [[{"a": 1, "b": 2}, {"a": 3, "b": 4}], [{"a": 5, "b": 6}]]
    with pytest.raises(QueryError, match="row #1"):
        list(BulkInsert("t", None).batches([{"a": 1}, {"a": 2, "b": 3}]))
    with pytest.raises(QueryError, match="row #1 has no value for column 'b'"):
        list(BulkInsert("t", None).batches([{"a": 1, "b": 2}, {"a": 2}]))


def test_bulk_insert_with_columns_selects_and_orders() -> None:
    plan = BulkInsert("t", ["b", "a"])
    assert list(plan.batches([{"a": 1, "b": 2, "c": 3}])) == [[{"b": 2, "a": 1}]]
    with pytest.raises(QueryError, match="duplicate"):
        BulkInsert("t", ["a", "a"])
    with pytest.raises(QueryError, match="at least one column"):
        BulkInsert("t", [])


def test_bulk_insert_quotes_identifiers_through_the_dialect() -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    plan = BulkInsert("My Schema.Odd Table", ["order", "Mixed"])
    sql = str(plan.statement().compile(dialect=sqlite.dialect()))
    assert sql.startswith('INSERT INTO "My Schema"."Odd Table" ("order", "Mixed")')
    assert '"order"' in str(plan.statement().compile(dialect=postgresql.dialect()))


@pytest.mark.parametrize("table", ["", "  ", ".t", "s.", 42])
def test_bulk_insert_rejects_bad_table_names(table: object) -> None:
    with pytest.raises(QueryError):
        BulkInsert(table, None)  # type: ignore[arg-type]


def test_bulk_insert_start_checks_the_first_row_before_any_io() -> None:
    plan = BulkInsert("t", None)
    assert plan.start([]) is None and plan.start(iter(())) is None
    rows = plan.start({"id": i, "name": f"n{i}"} for i in range(3))
    assert rows is not None and plan.columns == ("id", "name")
    assert list(plan.tuples(rows)) == [(0, "n0"), (1, "n1"), (2, "n2")]
    with pytest.raises(QueryError, match="single value"):
        BulkInsert("t", None).start({"id": 1})
    with pytest.raises(QueryError, match="row #0 is a tuple"):
        BulkInsert("t", None).start([(1, 2)])
    with pytest.raises(QueryError, match="no value for column 'name'"):
        BulkInsert("t", ["id", "name"]).start([{"id": 1}])


def test_bulk_insert_tuples_apply_the_batch_rules() -> None:
    strict = BulkInsert("t", None)
    rows = strict.start([{"id": 1, "name": "a"}, {"id": 2}])
    assert rows is not None
    with pytest.raises(QueryError, match="row #1 has no value for column 'name'"):
        list(strict.tuples(rows))
    strict = BulkInsert("t", None)
    rows = strict.start([{"id": 1}, {"id": 2, "extra": 3}])
    assert rows is not None
    with pytest.raises(QueryError, match=r"row #1 has keys \['extra'\]"):
        list(strict.tuples(rows))
    chosen = BulkInsert("t", ["id"])
    assert list(chosen.tuples([{"id": 1, "other": 0}, {"id": 2}])) == [(1,), (2,)]
    with pytest.raises(QueryError, match="row #1 is a list"):
        list(chosen.tuples([{"id": 1}, [2]]))
