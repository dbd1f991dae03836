"""What schema-sync tools are known to get wrong, as tests on live servers.

Destructive gating, dry runs that run nothing, reserved-word names, BIGINT widening that
keeps large values, NOT NULL refusals, declared renames, ``tables=`` limits and concurrent
applies, on PostgreSQL, MariaDB and SQLite; lock timeouts and CONCURRENTLY on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from storeroom.errors import DestructiveChangeError, SchemaSyncError, UnsafeChangeError
from storeroom_schema_sync import apply, check, plan

ALL = ["postgresql", "mysql", "sqlite"]


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """Every statement the engine sends while the block runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def people(md: sa.MetaData, *extra: sa.Column[Any], id_type: Any = sa.Integer) -> sa.Table:
    return sa.Table(
        "people",
        md,
        sa.Column("id", id_type, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50)),
        *extra,
    )


def synced(live: Any, md: sa.MetaData) -> None:
    report = apply(live.db, plan(live.db, md), allow_destructive=True, allow_hazards=True)
    assert report.in_sync, str(report)
    assert check(live.db, md).is_empty


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_destructive_changes_are_refused_up_front_and_listed(live: Any) -> None:
    md = live.metadata()
    people(md, sa.Column("age", sa.Integer))
    synced(live, md)
    live.db.execute(f"INSERT INTO {live.prefix}people (id, name, age) VALUES (1, 'Ada', 36)")
    smaller = live.metadata()
    people(smaller)
    p = plan(live.db, smaller)
    assert [str(o) for o in p.destructive] == [f"drop column {p.operations[0].schema}.people.age"]
    with statements(live.db.engine) as seen, pytest.raises(DestructiveChangeError, match=r"people\.age") as info:
        apply(live.db, p)
    assert seen == []  # refused before connecting, so before any DDL
    assert [str(o) for o in info.value.operations] == [str(o) for o in p.destructive]
    assert live.db.fetch_value(f"SELECT age FROM {live.prefix}people WHERE id = 1") == 36

    report = apply(live.db, p, skip_refused=True)
    assert not report.in_sync and [str(o) for o, _ in report.skipped] == [str(o) for o in p.destructive]
    assert report.applied == []
    assert "allow_destructive" in report.skipped[0][1]

    report = apply(live.db, p, allow_destructive=True)
    assert report.in_sync
    assert check(live.db, smaller).is_empty


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_dry_run_sends_no_statement_at_all(live: Any) -> None:
    md = live.metadata()
    people(md)
    p = plan(live.db, md)
    with statements(live.db.engine) as seen:
        report = apply(live.db, p, dry_run=True)
    assert seen == []
    assert report.dry_run and not report.in_sync and report.applied == []
    assert [str(o) for o, _ in report.skipped] == [str(o) for o in p.operations]
    assert any("CREATE TABLE" in s for s in report.statements)
    assert not check(live.db, md).is_empty  # still nothing there


def test_dry_run_does_not_even_create_the_schema(live_postgres: Any) -> None:
    schema = f"{live_postgres.schema}_new"
    md = sa.MetaData(schema=schema)
    people(md)
    p = plan(live_postgres.db, md)
    assert str(p.operations[0]) == f"create schema {schema}"
    with statements(live_postgres.db.engine) as seen:
        report = apply(live_postgres.db, p, dry_run=True)
    assert seen == []
    assert report.statements[0] == f"CREATE SCHEMA {schema};"
    assert live_postgres.db.fetch_value("SELECT count(*) FROM pg_namespace WHERE nspname = :n", {"n": schema}) == 0


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_reserved_word_names_round_trip(live: Any) -> None:
    md = live.metadata()
    user = sa.Table(
        "user",
        md,
        sa.Column("select", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order", sa.String(20), server_default="asc"),
        sa.Column("from", sa.Integer),
        sa.CheckConstraint('"from" > 0' if live.dialect != "mysql" else "`from` > 0", name="check"),
    )
    sa.Index("group", user.c.order, user.c["from"])
    synced(live, md)
    changed = live.metadata()
    user2 = sa.Table(
        "user",
        changed,
        sa.Column("select", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order", sa.String(40), server_default="desc"),
        sa.Column("from", sa.Integer),
        sa.Column("where", sa.Integer, nullable=True),
        sa.CheckConstraint('"from" > 0' if live.dialect != "mysql" else "`from` > 0", name="check"),
    )
    sa.Index("group", user2.c["from"], user2.c.order)
    p = plan(live.db, changed)
    assert {o.kind for o in p.operations} >= {
        "alter_column_type",
        "alter_column_default",
        "add_column",
        "replace_index",
    }
    synced(live, changed)


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_int_to_bigint_keeps_values_past_2_31(live: Any) -> None:
    md = live.metadata()
    sa.Table(
        "counters", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False), sa.Column("n", sa.Integer)
    )
    synced(live, md)
    live.db.execute(f"INSERT INTO {live.prefix}counters (id, n) VALUES (1, 2147483647), (2, -2147483648)")
    wide = live.metadata()
    sa.Table(
        "counters",
        wide,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger),
    )
    p = plan(live.db, wide)
    # (on SQLite an INTEGER primary key is the rowid; a BIGINT one is not: an identity change too)
    assert {o.kind for o in p.operations} - {"alter_column_identity"} == {"alter_column_type"}
    assert all(o.safety in ("safe", "hazardous") for o in p.operations)  # widening never destroys
    if p.hazardous:
        with pytest.raises(UnsafeChangeError, match="allow_hazards"):
            apply(live.db, p)
    assert apply(live.db, p, allow_hazards=True).in_sync
    big = 2**31 + 5
    live.db.execute(f"INSERT INTO {live.prefix}counters (id, n) VALUES ({2**40}, {big})")
    rows = live.db.fetch_all(f"SELECT id, n FROM {live.prefix}counters ORDER BY id")
    assert [(r["id"], r["n"]) for r in rows] == [(1, 2147483647), (2, -2147483648), (2**40, big)]
    assert check(live.db, wide).is_empty


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_not_null_refusals(live: Any) -> None:
    md = live.metadata()
    people(md, sa.Column("nick", sa.String(20)))
    synced(live, md)
    live.db.execute(f"INSERT INTO {live.prefix}people (id, name, nick) VALUES (1, 'Ada', NULL), (2, NULL, 'b')")

    # NOT NULL over existing NULLs: cannot succeed, refused whatever the flags, before any DDL
    strict = live.metadata()
    people(strict, sa.Column("nick", sa.String(20), nullable=False))
    p = plan(live.db, strict)
    assert [o.kind for o in p.blocked] == ["alter_column_nullable"]
    with statements(live.db.engine) as seen, pytest.raises(UnsafeChangeError, match="holds NULLs"):
        apply(live.db, p, allow_destructive=True, allow_hazards=True)
    assert seen == []

    # a NOT NULL column without a default on a table with rows: refused too
    added = live.metadata()
    people(added, sa.Column("nick", sa.String(20)), sa.Column("score", sa.Integer, nullable=False))
    p = plan(live.db, added)
    assert [o.kind for o in p.blocked] == ["add_column"]
    with pytest.raises(UnsafeChangeError, match="server_default"):
        apply(live.db, p, allow_hazards=True)

    # with a default it is additive and safe
    defaulted = live.metadata()
    people(
        defaulted, sa.Column("nick", sa.String(20)), sa.Column("score", sa.Integer, nullable=False, server_default="0")
    )
    p = plan(live.db, defaulted)
    assert [o.safety for o in p.operations] == ["safe"]
    synced(live, defaulted)

    # NOT NULL once the NULLs are gone: possible, but a hazard on a table with rows
    live.db.execute(f"UPDATE {live.prefix}people SET nick = 'x' WHERE nick IS NULL")
    strict2 = live.metadata()
    people(
        strict2,
        sa.Column("nick", sa.String(20), nullable=False),
        sa.Column("score", sa.Integer, nullable=False, server_default="0"),
    )
    p = plan(live.db, strict2)
    assert [(o.kind, o.safety, o.blocked) for o in p.operations] == [("alter_column_nullable", "hazardous", None)]
    with pytest.raises(UnsafeChangeError, match="allow_hazards"):
        apply(live.db, p)
    synced(live, strict2)
    assert live.db.fetch_value(f"SELECT count(*) FROM {live.prefix}people") == 2


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_declared_renames_keep_the_data(live: Any) -> None:
    md = live.metadata()
    sa.Table(
        "old_people",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("fullname", sa.String(50)),
    )
    synced(live, md)
    live.db.execute(f"INSERT INTO {live.prefix}old_people (id, fullname) VALUES (1, 'Ada Lovelace')")
    renamed = live.metadata()
    sa.Table(
        "people",
        renamed,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50), info={"renamed_from": "fullname"}),
        info={"renamed_from": "old_people"},
    )
    p = plan(live.db, renamed)
    assert [o.kind for o in p.operations] == ["rename_table", "rename_column"]
    assert p.destructive == []
    synced(live, renamed)
    assert live.db.fetch_value(f"SELECT name FROM {live.prefix}people WHERE id = 1") == "Ada Lovelace"

    # without the declaration a rename is never guessed: it is a drop and an add
    guessed = live.metadata()
    sa.Table(
        "people",
        guessed,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.String(50)),
    )
    assert {o.kind for o in plan(live.db, guessed).operations} == {"add_column", "drop_column"}


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_tables_limits_the_plan(live: Any) -> None:
    live.run("CREATE TABLE {s}unmanaged (id int PRIMARY KEY)")
    md = live.metadata()
    people(md)
    sa.Table("pets", md, sa.Column("id", sa.Integer, primary_key=True))
    p = plan(live.db, md, tables=["people"])
    assert [str(o).split(" (")[0] for o in p.operations] == [f"create table {p.operations[0].schema}.people"]
    whole = plan(live.db, md)
    assert {o.kind for o in whole.operations} == {"create_table", "drop_table"}  # unmanaged is listed for drop
    with pytest.raises(SchemaSyncError, match="nope"):
        plan(live.db, md, tables=["nope"])


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_two_concurrent_applies_are_serialized(live: Any) -> None:
    md = live.metadata()
    people(md, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer))
    sa.Table(
        "pets",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner", sa.Integer, sa.ForeignKey(md.tables[f"{md.schema + '.' if md.schema else ''}people"].c.id)),
    )
    first, second = plan(live.db, md), plan(live.db, md)
    barrier = threading.Barrier(2)
    reports: list[Any] = []
    errors: list[BaseException] = []

    def run(p: Any) -> None:
        barrier.wait()
        try:
            reports.append(apply(live.db, p))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sorted(len(r.applied) for r in reports) == [0, len(first.operations)]  # one did it, the other found it done
    assert all(r.in_sync for r in reports)
    assert check(live.db, md).is_empty


def test_postgres_lock_timeout_rolls_back_everything(live_postgres: Any, postgres_url: str) -> None:
    from storeroom_postgres import PostgresDatabase

    md = live_postgres.metadata()
    people(md)
    synced(live_postgres, md)
    wider = live_postgres.metadata()
    people(wider, sa.Column("a", sa.Integer))
    sa.Table("pets", wider, sa.Column("id", sa.Integer, primary_key=True))
    p = plan(live_postgres.db, wider)
    blocker = PostgresDatabase(postgres_url, name="blocker")
    try:
        with blocker.transaction() as tx:
            tx.execute(f"LOCK TABLE {live_postgres.prefix}people IN ACCESS SHARE MODE")
            with pytest.raises(SchemaSyncError):
                apply(live_postgres.db, p, lock_timeout=0.3)
    finally:
        blocker.close()
    assert len(plan(live_postgres.db, wider).operations) == 2  # the new table was rolled back too
    synced(live_postgres, wider)


def test_postgres_builds_indexes_on_large_tables_concurrently(live_postgres: Any) -> None:
    md = live_postgres.metadata()
    people(md)
    synced(live_postgres, md)
    live_postgres.run(
        "INSERT INTO {s}people (id, name) SELECT g, 'n' || g FROM generate_series(1, 500) g", "ANALYZE {s}people"
    )
    indexed = live_postgres.metadata()
    sa.Index("ix_people_name", people(indexed).c.name)
    p = plan(live_postgres.db, indexed, large_table_rows=100)
    assert [(o.kind, o.concurrent, o.safety) for o in p.operations] == [("add_index", True, "safe")]
    assert "CREATE INDEX CONCURRENTLY ix_people_name" in p.to_sql()
    report = apply(live_postgres.db, p)
    assert any("CONCURRENTLY" in s for s in report.statements) and report.in_sync
    valid = live_postgres.db.fetch_value(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = CAST(:n AS regclass)",
        {"n": f"{live_postgres.schema}.ix_people_name"},
    )
    assert valid is True


def test_postgres_models_spanning_two_schemas(live_postgres: Any) -> None:
    other = f"{live_postgres.schema}_b"
    md = sa.MetaData()
    owners = sa.Table("owners", md, sa.Column("id", sa.Integer, primary_key=True), schema=live_postgres.schema)
    sa.Table(
        "pets",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey(owners.c.id, ondelete="CASCADE")),
        schema=other,
    )
    try:
        p = plan(live_postgres.db, md)
        assert [str(o) for o in p.operations] == [
            f"create schema {other}",
            f"create table {live_postgres.schema}.owners",
            f"create table {other}.pets",
        ]
        synced(live_postgres, md)
    finally:
        live_postgres.db.execute(f"DROP SCHEMA IF EXISTS {other} CASCADE")


def test_postgres_alembic_revision_with_an_enum_runs(live_postgres: Any) -> None:
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    md = live_postgres.metadata()
    mood = sa.Enum("sad", "ok", name="mood", schema=live_postgres.schema, metadata=md)
    t = people(md, sa.Column("mood", mood, server_default="ok"))
    sa.Index("ix_people_name", t.c.name, postgresql_where=t.c.name.isnot(None))
    source = plan(live_postgres.db, md).to_alembic("people")
    module: dict[str, Any] = {}
    exec(compile(source, "revision.py", "exec"), module)
    with live_postgres.db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        module["upgrade"]()
    assert check(live_postgres.db, md).is_empty


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_a_plan_made_on_an_empty_table_is_gated_again_under_the_lock(live: Any) -> None:
    md = live.metadata()
    people(md)
    synced(live, md)
    strict = live.metadata()
    people(strict, sa.Column("age", sa.Integer, nullable=False))  # fine while the table is empty
    p = plan(live.db, strict)
    assert [(o.kind, o.safety, o.blocked) for o in p.operations] == [("add_column", "safe", None)]
    live.db.execute(f"INSERT INTO {live.prefix}people (id, name) VALUES (1, 'Ada')")  # meanwhile
    with pytest.raises(UnsafeChangeError, match="server_default"):
        apply(live.db, p)
    assert [o.kind for o in plan(live.db, strict).blocked] == ["add_column"]
