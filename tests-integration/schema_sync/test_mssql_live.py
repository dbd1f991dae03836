"""SQL Server, live: only where ``STOREROOM_TEST_MSSQL_URL`` points at a server (skipped otherwise,
even in CI, like the other SQL Server tests); the SQL is compiled in packages/storeroom-schema-sync/tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from storeroom_schema_sync import apply, check, plan


@pytest.fixture
def mssql_db(mssql_url: str) -> Iterator[tuple[Any, str]]:
    from storeroom_mssql import MSSQLDatabase

    schema = f"ss_{uuid.uuid4().hex[:12]}"
    db = MSSQLDatabase(mssql_url, name="main")
    db.execute(f"EXEC('CREATE SCHEMA {schema}')")
    try:
        yield db, schema
    finally:
        for row in db.fetch_all("SELECT name FROM sys.foreign_keys WHERE schema_id = SCHEMA_ID(:s)", {"s": schema}):
            parent = db.fetch_value(
                "SELECT OBJECT_NAME(parent_object_id) FROM sys.foreign_keys WHERE name = :n", {"n": row["name"]}
            )
            db.execute(f"ALTER TABLE {schema}.{parent} DROP CONSTRAINT {row['name']}")
        for row in db.fetch_all("SELECT name FROM sys.tables WHERE schema_id = SCHEMA_ID(:s)", {"s": schema}):
            db.execute(f"DROP TABLE {schema}.{row['name']}")
        db.execute(f"DROP SCHEMA {schema}")
        db.close()


def test_plan_apply_replan_on_sql_server(mssql_db: tuple[Any, str]) -> None:
    db, schema = mssql_db
    md = sa.MetaData(schema=schema)
    people = sa.Table(
        "people",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("score", sa.Numeric(10, 2), server_default="0"),
        sa.CheckConstraint("score >= 0", name="ck_people_score"),
    )
    sa.Table(
        "pets",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner", sa.Integer, sa.ForeignKey(people.c.id)),
    )
    sa.Index("ix_people_name", people.c.name)
    assert apply(db, plan(db, md)).in_sync
    assert check(db, md).is_empty
    wider = sa.MetaData(schema=schema)
    for table in md.sorted_tables:
        table.to_metadata(wider)
    wider.tables[f"{schema}.people"].c.name.type = sa.String(80)
    p = plan(db, wider)
    assert [o.kind for o in p.operations] == ["alter_column_type"]
    assert apply(db, p, allow_hazards=True).in_sync
    assert check(db, wider).is_empty
