"""Temporal models without a server: injected fields, tables and DDL, SQL Server's statements, input checks.

The step machines are I/O-free: driving one by hand (``next``/``send`` with the rows a
server would return) shows every statement it sends, for any dialect.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import create_mock_engine
from sqlalchemy.dialects import mssql

from storeroom.errors import ConfigurationError, QueryError, TransactionError
from storeroom_orm import Field, Index, Model, Repository, tenant
from storeroom_orm.statements import builder_for
from storeroom_orm.steps import Plan, Query, retry_delay, run
from storeroom_orm.temporal.base import cutoff
from storeroom_orm.tenancy import Scope

ACME = Scope(("acme",), "acme")
BASE = {"id", "created_at", "updated_at", "created_by", "updated_by"}


@pytest.mark.parametrize("temporal", ["none", "copy_on_change", "scd2"])
@pytest.mark.parametrize("multi_tenant", [True, False])
@pytest.mark.parametrize("soft_delete", [True, False])
def test_system_fields_matrix(temporal: str, multi_tenant: bool, soft_delete: bool) -> None:
    md = sa.MetaData()

    class Thing(
        Model, table="things", metadata=md, temporal=temporal, multi_tenant=multi_tenant, soft_delete=soft_delete
    ):
        name: str = ""

    expected = set(BASE)
    expected |= {"tenant_id"} if multi_tenant else set()
    expected |= {"deleted_at", "deleted_by"} if soft_delete else set()
    expected |= {"version", "valid_from", "valid_to"} if temporal == "scd2" else set()
    info = Thing.__orm__
    assert set(Thing.model_fields) - {"name"} == expected and set(info.system_fields) == expected
    assert set(Thing.__table__.c.keys()) == expected | {"name"}
    assert info.user_fields == ("name",) and info.temporal == temporal
    tables = {"things"} | ({"things_history"} if temporal == "scd2" else set())
    tables |= {"things_audit"} if temporal == "copy_on_change" else set()
    assert set(md.tables) == tables
    if temporal == "scd2":
        assert set(info.history_table.c.keys()) == expected | {"name"}
        assert [c.name for c in info.history_table.primary_key] == ["id", "version"]
        assert not info.history_table.c.valid_to.nullable and info.nullable["valid_to"]
    if temporal == "copy_on_change":
        audit = {"seq", "record_id", "field", "old_value", "new_value", "operation", "changed_at", "changed_by"}
        audit |= {"transaction_id"} | ({"tenant_id"} if multi_tenant else set())
        assert set(info.audit_table.c.keys()) == audit
    assert Thing.__table__.info["storeroom_orm"] is info


def ddl(md: sa.MetaData, url: str) -> str:
    statements: list[str] = []
    engine = create_mock_engine(url, lambda sql, *a, **k: statements.append(str(sql.compile(dialect=engine.dialect))))
    md.create_all(engine, checkfirst=False)
    return "\n".join(" ".join(s.split()) for s in statements)


def _scd2(md: sa.MetaData) -> Any:
    class Doc(Model, table="docs", metadata=md, temporal="scd2", soft_delete=True):
        title: str = Field(max_length=50, unique=True)
        code: str = Field("", max_length=20)
        __indexes__ = (Index("docs_code", "code", unique=True, where="code <> ''"),)

    return Doc


@pytest.mark.parametrize("url", ["postgresql://", "sqlite://", "mssql+pyodbc://"])
def test_business_keys_are_partial_unique_indexes_on_current_rows(url: str) -> None:
    md = sa.MetaData()
    _scd2(md)
    text = ddl(md, url)
    assert "CREATE UNIQUE INDEX uq_docs_tenant_id_title ON docs (tenant_id, title) WHERE valid_to IS NULL" in text
    assert "CREATE UNIQUE INDEX docs_code ON docs (tenant_id, code) WHERE valid_to IS NULL AND (code <> '')" in text
    assert "is_current)" not in text  # MySQL's form is not created here
    assert "CHECK (valid_to IS NULL OR valid_to > valid_from)" in text and "CHECK (valid_to > valid_from)" in text
    assert "PRIMARY KEY (id, version)" in text
    assert "UNIQUE (tenant_id, title)" not in text  # never a plain unique over every version


def test_mysql_business_keys_use_the_generated_current_flag() -> None:
    md = sa.MetaData()
    _scd2(md)
    text = ddl(md, "mysql://")
    assert "is_current SMALLINT GENERATED ALWAYS AS (CASE WHEN valid_to IS NULL THEN 1 END) STORED" in text
    assert "CREATE UNIQUE INDEX uq_docs_tenant_id_title ON docs (tenant_id, title, is_current)" in text
    assert "CREATE UNIQUE INDEX docs_code ON docs (tenant_id, code, is_current)" in text
    assert "WHERE valid_to" not in text
    assert "is_current" not in _scd2(sa.MetaData()).__orm__.columns  # a column, never a model field


def test_the_audit_table_ddl() -> None:
    md = sa.MetaData()

    class Note(Model, table="notes", metadata=md, temporal="copy_on_change"):
        text: str = ""

    pg, mysql_ddl, lite, ms = (ddl(md, u) for u in ("postgresql://", "mysql://", "sqlite://", "mssql+pyodbc://"))
    assert "seq BIGSERIAL NOT NULL" in pg and "old_value JSONB" in pg and "transaction_id UUID NOT NULL" in pg
    assert "seq BIGINT NOT NULL AUTO_INCREMENT" in mysql_ddl and "old_value JSON" in mysql_ddl
    assert "seq INTEGER NOT NULL" in lite and "PRIMARY KEY (seq)" in lite  # SQLite's rowid
    assert "seq BIGINT NOT NULL IDENTITY" in ms
    for text in (pg, mysql_ddl, lite, ms):
        assert "CHECK (operation IN ('create', 'update', 'delete', 'restore'))" in text
        assert "ON notes_audit (record_id, seq)" in text and "ON notes_audit (changed_at)" in text


def test_definition_errors() -> None:
    md = sa.MetaData()
    with pytest.raises(ConfigurationError, match="keyed by id"):

        class Keyed(Model, table="keyed", metadata=md, temporal="scd2"):
            code: str = Field(max_length=10, primary_key=True)

    sa.Table("taken_audit", md, sa.Column("x", sa.Integer))
    with pytest.raises(ConfigurationError, match="already defined"):

        class Taken(Model, table="taken", metadata=md, temporal="copy_on_change"):
            pass

    with pytest.raises(ConfigurationError, match="temporal must be one of"):

        class Wrong(Model, table="wrong", metadata=md, temporal="scd3"):  # type: ignore[arg-type]
            pass


# -- SQL Server, compiled ---------------------------------------------------------------------------


def text(step: Any) -> str:
    return " ".join(str(step.statement.compile(dialect=mssql.dialect())).split())


def test_sql_server_scd2_update_locks_copies_and_versions() -> None:
    Doc = _scd2(sa.MetaData())
    builder = builder_for(Doc.__orm__, mssql.dialect())
    plan = builder.update(ACME, uuid.uuid4(), {"title": "b"}, "bob", False)
    lock = next(plan.steps)
    assert "FROM docs WITH (UPDLOCK, ROWLOCK) WHERE docs.id = :_id AND docs.tenant_id = :_t0" in text(lock)
    now = dt.datetime(2030, 1, 1)  # naive UTC: what SQL Server's driver returns
    row = dict.fromkeys(Doc.__orm__.columns)
    row.update(id=uuid.uuid4(), title="a", code="", tenant_id="acme", created_at=now, updated_at=now)
    row.update(version=1, valid_from=now)
    copy = plan.steps.send(row)
    assert text(copy).startswith("INSERT INTO docs_history (id, title, code, tenant_id")
    assert "coalesce(docs.valid_to, :_now)" in text(copy) and "WHERE docs.id IN (:_i0)" in text(copy)
    assert copy.params["_now"] == now + dt.timedelta(microseconds=1)  # the row is "newer" than the clock
    main = plan.steps.send(1)
    assert "version=(docs.version + :version_1), valid_from=:_now" in text(main)
    with pytest.raises(StopIteration) as done:
        plan.steps.send(1)
    assert done.value.value.version == 2 and done.value.value.updated_by == "bob"


def test_sql_server_as_of_and_upsert() -> None:
    Doc = _scd2(sa.MetaData())
    builder = builder_for(Doc.__orm__, mssql.dialect())
    as_of = text(next(builder.get_as_of(ACME, uuid.uuid4(), dt.datetime.now(dt.UTC), False).steps))
    assert "docs.valid_from <= :_at AND (docs.valid_to IS NULL OR docs.valid_to > :_at) UNION ALL" in as_of
    assert "FROM docs_history WHERE docs_history.id = :_id AND docs_history.tenant_id = :_t0" in as_of
    merge = text(next(builder.upsert(ACME, Doc(title="a"), ("title",), "al", False).steps))
    assert "ON t.tenant_id = s.tenant_id AND t.title = s.title AND t.valid_to IS NULL WHEN NOT MATCHED" in merge
    assert "WHEN MATCHED" not in merge


def test_sql_server_audit_rows_are_one_multi_row_insert() -> None:
    class Note(Model, table="notes", metadata=sa.MetaData(), temporal="copy_on_change"):
        a: str = ""
        b: Decimal = Decimal("0")

    builder = builder_for(Note.__orm__, mssql.dialect())
    plan = builder.create(ACME, Note(a="x", b=Decimal("1.5")), "al", False)
    next(plan.steps)  # the row
    audit = plan.steps.send(1)
    assert text(audit).startswith("INSERT INTO notes_audit (record_id, tenant_id, field, old_value, new_value")
    assert audit.params["_a1_4"] == '"1.5"' and audit.params["_a0_2"] == "a"  # JSON text, Decimal exact


# -- input checked before any I/O ----------------------------------------------------------------


def test_bad_input_fails_before_a_plan() -> None:
    Doc = _scd2(sa.MetaData())
    builder = builder_for(Doc.__orm__, mssql.dialect())
    with pytest.raises(QueryError, match="naive"):
        builder.get_as_of(ACME, uuid.uuid4(), dt.datetime(2030, 1, 1), False)
    with pytest.raises(QueryError, match="takes a datetime"):
        builder.get_as_of(ACME, uuid.uuid4(), "2030-01-01", False)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="positive integer"):
        builder.compare_versions(ACME, uuid.uuid4(), 1, True, False)
    with pytest.raises(QueryError, match="ids are UUIDs"):
        builder.history(ACME, 42, False)
    with pytest.raises(QueryError, match="system field"):
        builder.update(ACME, uuid.uuid4(), {"version": 3}, None, False)
    with pytest.raises(QueryError, match="needs temporal='copy_on_change'"):
        builder.purge_audit(ACME, dt.datetime.now(dt.UTC), False, False)
    with pytest.raises(QueryError, match="not be negative"):
        cutoff(dt.timedelta(days=-1))
    with pytest.raises(QueryError, match="naive"):
        cutoff(dt.datetime(2030, 1, 1))
    with pytest.raises(QueryError, match="timedelta"):
        cutoff(30)
    assert cutoff(dt.datetime(2030, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == dt.datetime(
        2030, 1, 1, tzinfo=dt.UTC
    )


def test_temporal_reads_on_a_plain_model_say_what_is_needed(tmp_path: Any) -> None:
    from storeroom_sqlite import SQLiteDatabase

    class Plain(Model, table="plain", metadata=sa.MetaData()):
        name: str = ""

    with SQLiteDatabase(f"sqlite:///{tmp_path}/t.db", name="main") as db, tenant("acme"):
        repo = Repository(Plain, db)
        for call in (
            lambda: repo.history(uuid.uuid4()),
            lambda: repo.get(uuid.uuid4(), as_of=dt.datetime.now(dt.UTC)),
            lambda: repo.prune_versions(older_than=dt.timedelta(days=1)),
        ):
            with pytest.raises(QueryError, match="temporal='none'"):
                call()


# -- the retry of plans in a transaction of their own -----------------------------------------------


def test_a_plan_is_run_again_after_a_retryable_failure(tmp_path: Any) -> None:
    from storeroom_sqlite import SQLiteDatabase

    attempts: list[int] = []

    def steps() -> Any:
        attempts.append(len(attempts))
        value = yield Query(sa.text("SELECT 1"), {}, "value")
        if len(attempts) < 3:
            raise TransactionError("deadlock", retryable=True)
        return value

    with SQLiteDatabase(f"sqlite:///{tmp_path}/r.db", name="main") as db:
        assert run(db, Plan(steps(), True, again=steps)) == 1 and attempts == [0, 1, 2]
        attempts.clear()
        with pytest.raises(TransactionError):  # without ``again``: raised at once
            run(db, Plan(steps(), True))
        assert attempts == [0]
        attempts.clear()
        with pytest.raises(TransactionError), db.transaction():  # inside the caller's transaction: never
            run(db, Plan(steps(), True, again=steps))
        assert attempts == [0]
    plan = Plan(steps(), True, again=steps)
    assert retry_delay(plan, TransactionError("x", retryable=False), 0) is None
    assert retry_delay(plan, TransactionError("x", retryable=True), 99) is None
    assert 0 < (retry_delay(plan, TransactionError("x", retryable=True), 0) or 0) < 1
