"""The statement builder compiled for every dialect, SQL Server included (not run here)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql, sqlite

from storeroom.errors import QueryError, TenantRequiredError, TenantViolationError
from storeroom_orm import F, Field, Model
from storeroom_orm.statements import builder_for
from storeroom_orm.steps import Bulk, Query
from storeroom_orm.tenancy import Scope

ACME = Scope(("acme",), "acme")


def _model() -> Any:
    class Doc(Model, table="docs", metadata=sa.MetaData()):
        title: str = Field(max_length=50, unique=True)
        order: int = 0

    return Doc


def first_step(plan: Any) -> Any:
    return next(plan.steps)


def sql(step: Query, dialect: Any) -> str:
    return " ".join(str(step.statement.compile(dialect=dialect)).split())


def test_sql_server_upsert_is_a_guarded_merge() -> None:
    Doc = _model()
    builder = builder_for(Doc.__orm__, mssql.dialect())
    step = first_step(builder.upsert(ACME, Doc(title="a"), ("title",), "alice", False))
    text = sql(step, mssql.dialect())
    assert text.startswith("MERGE INTO docs WITH (HOLDLOCK) AS t USING (SELECT")
    assert "ON t.tenant_id = s.tenant_id AND t.title = s.title" in text
    assert "WHEN MATCHED THEN UPDATE SET t.[order] = s.[order], t.updated_at = s.updated_at" in text
    assert "t.id =" not in text.split("WHEN MATCHED")[1].split("WHEN NOT")[0]  # the id is never updated
    assert step.params["_p0"] is not None and len(step.params) == len(Doc.__orm__.columns)


def test_sql_server_pages_and_lists_with_offset_fetch() -> None:
    Doc = _model()
    builder = builder_for(Doc.__orm__, mssql.dialect())
    modern = mssql.dialect()
    modern.server_version_info = (16, 0)
    modern._supports_offset_fetch = True  # what a live 2012+ server sets when it connects
    text = sql(first_step(builder.list(ACME, [F.order > 1], None, "-order", 10, 20, False, False)), modern)
    assert "WHERE docs.[order] > :_p0 AND docs.tenant_id = :_t0 ORDER BY docs.[order] DESC" in text
    assert "OFFSET :_off ROWS FETCH FIRST :_lim ROWS ONLY" in text
    page = first_step(builder.page(ACME, [], None, "title", 5, None, False, False))
    assert "ORDER BY docs.title ASC, docs.id ASC" in sql(page, modern) and page.params["_lim"] == 6


def test_mysql_upsert_guards_every_assignment() -> None:
    Doc = _model()
    builder = builder_for(Doc.__orm__, mysql.dialect())
    text = sql(first_step(builder.upsert(ACME, Doc(title="a"), ("title",), None, False)), mysql.dialect())
    guard = "IF(docs.tenant_id = VALUES(tenant_id) AND docs.title = VALUES(title)"
    assert "ON DUPLICATE KEY UPDATE" in text and text.count(guard) == 3  # order, updated_at, updated_by
    assert "id = IF" not in text and "tenant_id = IF" not in text


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()])
def test_on_conflict_upsert_is_guarded_by_tenant(dialect: Any) -> None:
    Doc = _model()
    text = sql(
        first_step(builder_for(Doc.__orm__, dialect).upsert(ACME, Doc(title="a"), ("title",), None, False)), dialect
    )
    assert "ON CONFLICT (tenant_id, title) DO UPDATE SET" in text
    assert "WHERE excluded.tenant_id = docs.tenant_id" in text


def test_every_statement_carries_the_tenant() -> None:
    Doc = _model()
    b = builder_for(Doc.__orm__, postgresql.dialect())
    ident = uuid.uuid4()
    plans = [
        b.get(ACME, ident, False, False),
        b.get_many(ACME, [ident], False, False),
        b.list(ACME, [], None, None, None, None, False, False),
        b.page(ACME, [], None, None, 10, None, False, False),
        b.count(ACME, [], None, False, False),
        b.exists(ACME, [], None, False, False),
        b.update(ACME, ident, {"order": 1}, None, False),
        b.update_where(ACME, [F.order > 0], None, {"order": 1}, None, False),
        b.remove(ACME, ident, "delete", None, False),
        b.remove(ACME, ident, "purge", None, False),
        b.delete_where(ACME, [F.order > 0], None, None, False),
    ]
    for plan in plans:
        step = first_step(plan)
        assert "tenant_id = %(_t0)s" in sql(step, postgresql.dialect()), sql(step, postgresql.dialect())
        assert step.params["_t0"] == "acme"
    several = Scope(("a", "b"), "a")
    step = first_step(b.list(several, [], None, None, None, None, False, False))
    assert "tenant_id IN (%(_t0)s, %(_t1)s)" in sql(step, postgresql.dialect())
    write = first_step(b.update_where(several, [F.order > 0], None, {"order": 2}, None, False))
    assert "tenant_id = %(_t0)s" in sql(write, postgresql.dialect()) and write.params["_t0"] == "a"


def test_bulk_rows_are_checked_and_filled_before_any_io() -> None:
    Doc = _model()
    b = builder_for(Doc.__orm__, postgresql.dialect())
    step = first_step(b.bulk_create(ACME, [Doc(title="a"), {"title": "b"}], "bob", False))
    assert isinstance(step, Bulk) and step.table == "docs"
    assert [(r["tenant_id"], r["created_by"]) for r in step.rows] == [("acme", "bob"), ("acme", "bob")]
    with pytest.raises(TenantViolationError):
        b.bulk_create(ACME, [Doc(title="a", tenant_id="globex")], None, False)
    with pytest.raises(TenantRequiredError):
        b.bulk_create(Scope(None, None), [Doc(title="a")], None, False)


def test_statements_are_compiled_once_per_shape() -> None:
    Doc = _model()
    b = builder_for(Doc.__orm__, postgresql.dialect())
    one = first_step(b.list(ACME, [F.order > 1, F.title.in_(["a", "b"])], None, None, None, None, False, False))
    two = first_step(b.list(ACME, [F.order > 7, F.title.in_(["c", "d"])], None, None, None, None, False, False))
    three = first_step(b.list(ACME, [F.order > 7, F.title.in_(["c", "d", "e"])], None, None, None, None, False, False))
    assert one.statement is two.statement and one.statement is not three.statement
    assert two.params == {"_t0": "acme", "_p0": 7, "_p1": "c", "_p2": "d"}
    is_null, not_null = (
        first_step(b.list(ACME, [f], None, None, None, None, False, False))
        for f in (F.title == None, F.title != None)  # noqa: E711
    )
    assert is_null.statement is not not_null.statement


def test_set_based_writes_need_a_tenant_to_write_to() -> None:
    Doc = _model()
    b = builder_for(Doc.__orm__, sqlite.dialect())
    with pytest.raises(QueryError, match="system field"):
        b.update_where(ACME, [F.order > 0], None, {"created_at": None}, None, False)


def test_sqlite_decimals_wider_than_the_default_context_read_back() -> None:
    # a REAL read back for a 30-digit column: quantizing to 10 places needs more than 28 digits
    from decimal import Decimal

    from storeroom_orm.codecs import _requantize

    decode = _requantize(10)
    assert decode(1.2345678901234567e19) == Decimal("12345678901234567000.0000000000")  # REAL keeps 17 digits
    assert decode(1e300).as_tuple().exponent == -10
    assert decode("1.25") == Decimal("1.2500000000")
