"""plan / apply / check end to end on SQLite, and what a plan renders: SQL, JSON, an Alembic revision."""

from __future__ import annotations

import ast
import json

import pytest
import sqlalchemy as sa

from storeroom.errors import PluginNotFoundError, SchemaSyncError
from storeroom.plugins import PluginManager
from storeroom_schema_sync import Operation, apply, check, plan
from storeroom_schema_sync.plan import provider_for
from storeroom_sqlite import SQLiteDatabase


def models(*extra: sa.Column) -> sa.MetaData:
    md = sa.MetaData()
    users = sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(200), nullable=False, unique=True),
        sa.Column("created", sa.DateTime, server_default=sa.func.current_timestamp()),
        *extra,
    )
    sa.Table(
        "posts",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("title", sa.String(100)),
        sa.CheckConstraint("length(title) > 0", name="ck_posts_title"),
    )
    sa.Index("ix_users_created", users.c.created)
    return md


def test_a_new_database_plans_tables_then_indexes_and_applies_in_sync(db: SQLiteDatabase) -> None:
    p = plan(db, models())
    assert [str(o) for o in p.operations] == [
        "create table main.users",
        "create table main.posts",
        "create index main.users.ix_users_created ((created))",
    ]
    assert p.safe == p.operations and p.destructive == p.hazardous == [] and not p.is_empty
    report = apply(db, p)
    assert report.in_sync and [str(o) for o in report.applied] == [str(o) for o in p.operations]
    assert check(db, models()).is_empty


def test_to_sql_is_alembic_rendered_ddl_for_the_dialect(db: SQLiteDatabase) -> None:
    sql = plan(db, models()).to_sql()
    assert "-- create table main.users\nCREATE TABLE users (" in sql
    assert "FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE" in sql
    assert "CREATE INDEX ix_users_created ON users (created);" in sql


def test_to_json_lists_each_operation_with_its_classification(db: SQLiteDatabase) -> None:
    apply(db, plan(db, models()))
    db.execute("INSERT INTO users (email) VALUES ('a@b.c')")
    p = plan(db, models(sa.Column("age", sa.Integer, nullable=False)))
    data = json.loads(p.to_json())
    assert data["in_sync"] is False and data["dialect"] == "sqlite"
    assert data["summary"] == {"safe": 0, "hazardous": 1, "destructive": 0, "blocked": 1}
    [op] = data["operations"]
    assert (op["kind"], op["object"], op["safety"]) == ("add_column", "main.users.age", "hazardous")
    assert "server_default" in op["blocked"]


def test_the_alembic_revision_is_python_alembic_can_load(db: SQLiteDatabase) -> None:
    source = plan(db, models()).to_alembic("create users", revision="abc123", down_revision="000")
    tree = ast.parse(source)
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert names == {"upgrade", "downgrade"}
    assert "revision = 'abc123'" in source and "down_revision = '000'" in source
    assert "op.create_table('users'" in source and "op.create_index('ix_users_created'" in source


def test_a_type_change_rebuilds_the_table_and_keeps_the_rows(db: SQLiteDatabase) -> None:
    apply(db, plan(db, models(sa.Column("score", sa.Integer))))
    db.execute("INSERT INTO users (email, score) VALUES ('a@b.c', 7)")
    db.execute("INSERT INTO posts (user_id, title) VALUES (1, 'hello')")
    changed = models(sa.Column("score", sa.Numeric(12, 2)))
    p = plan(db, changed)
    assert [o.kind for o in p.operations] == ["alter_column_type"]
    assert "_storeroom_rebuild_users" in p.to_sql()
    assert apply(db, p, allow_hazards=True).in_sync
    assert db.fetch_all("SELECT email, score FROM users") == [{"email": "a@b.c", "score": 7}]
    assert db.fetch_value("SELECT count(*) FROM posts") == 1  # the CASCADE child survived the rebuild
    assert check(db, changed).is_empty
    assert db.fetch_value("PRAGMA foreign_keys") == 1  # enforcement is back on afterwards


def test_a_stale_plan_is_refused(db: SQLiteDatabase) -> None:
    p = plan(db, models())
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    with pytest.raises(SchemaSyncError, match="changed since this plan"):
        apply(db, p)
    # the refused apply rolled back and released its write lock: planning again and applying works
    assert apply(db, plan(db, models()), allow_hazards=True, allow_destructive=True).in_sync
    assert check(db, models()).is_empty


def test_operations_name_their_object() -> None:
    op = Operation("add_column", "public", "users", "email", after={"type": "text", "nullable": True})
    assert str(op) == "add column public.users.email (text; NULL)"
    assert op.key == "add_column:public.users.email"


def test_a_dialect_without_a_provider_says_what_to_install() -> None:
    from sqlalchemy.dialects import postgresql

    with pytest.raises(PluginNotFoundError, match=r'pip install "storeroom\[postgres\]"'):
        provider_for(postgresql.dialect(), PluginManager(load_entry_points=False))


def test_an_async_database_is_refused_with_the_fix() -> None:
    with pytest.raises(SchemaSyncError, match="sync storeroom DatabaseInterface"):
        plan(object(), models())


def test_planning_again_after_changing_the_models_in_place_sees_the_change(db: SQLiteDatabase) -> None:
    md = models(sa.Column("nick", sa.String(20)))
    assert apply(db, plan(db, md)).in_sync
    assert check(db, md).is_empty  # planned twice: the second used the compiled and rendered memo
    md.tables["users"].c.nick.type = sa.String(40)  # the same objects, changed
    assert [o.kind for o in plan(db, md).operations] == ["alter_column_type"]
    md.tables["users"].c.nick.nullable = False
    assert {o.kind for o in plan(db, md).operations} == {"alter_column_type", "alter_column_nullable"}


def test_the_alembic_revision_runs_and_leaves_the_database_in_sync(db: SQLiteDatabase, tmp_path) -> None:
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    source = plan(db, models()).to_alembic("create users")
    module: dict[str, object] = {}
    exec(compile(source, "revision.py", "exec"), module)
    with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        module["upgrade"]()  # type: ignore[operator]
    assert check(db, models()).is_empty
