"""Rendering on dialects this machine has no server for: SQL Server, and the others for comparison.

Operations are built as the differ builds them; Alembic and SQLAlchemy render them for each
dialect. The SQL Server provider's catalog queries are compiled on the mssql dialect too.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql, sqlite

from storeroom_schema_sync.operations import Operation
from storeroom_schema_sync.render import RenderContext, offline_sql, steps


def _mssql() -> mssql.dialect:
    dialect = mssql.pyodbc.dialect(paramstyle="qmark")
    dialect.server_version_info = (16, 0)  # what connecting to SQL Server 2022 would set
    dialect.default_schema_name = "dbo"
    return dialect


DIALECTS = {"mssql": _mssql(), "postgresql": postgresql.dialect(), "mysql": mysql.dialect(), "sqlite": sqlite.dialect()}


def _model() -> sa.Table:
    md = sa.MetaData()
    t = sa.Table(
        "orders",
        md,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("note", sa.String(200), server_default="none", comment="free text"),
    )
    sa.Index("ix_orders_total", t.c.total)
    return t


def _sql(kind: str, dialect: str, **kw: object) -> str:
    t = _model()
    defaults: dict[str, object] = {"schema": "dbo" if dialect == "mssql" else "main", "table": "orders"}
    op = Operation(kind, **{**defaults, **kw})  # type: ignore[arg-type]
    ctx = RenderContext(
        DIALECTS[dialect],
        str(defaults["schema"]),
        {("main", "orders"): ("id", "total", "note")},
        {(str(defaults["schema"]), "orders"): t},
    )
    return "\n".join(offline_sql(steps([op], ctx), ctx.dialect))


def test_mssql_renders_every_column_change() -> None:
    t = _model()
    assert _sql("create_table", "mssql", source=t).startswith("CREATE TABLE orders (\n    id BIGINT NOT NULL IDENTITY")
    assert _sql("add_column", "mssql", name="note", source=t.c.note, after={"nullable": True}).startswith(
        "ALTER TABLE orders ADD note VARCHAR(200) CONSTRAINT"
    ) or "ALTER TABLE orders ADD note VARCHAR(200)" in _sql(
        "add_column", "mssql", name="note", source=t.c.note, after={"nullable": True}
    )
    assert "ALTER TABLE orders ALTER COLUMN total BIGINT NOT NULL" in _sql(
        "alter_column_type", "mssql", name="total", source=t.c.total
    )
    assert "ALTER TABLE orders ALTER COLUMN total BIGINT NOT NULL" in _sql(
        "alter_column_nullable", "mssql", name="total", source=t.c.total
    )
    assert "ALTER TABLE orders DROP COLUMN total" in _sql("drop_column", "mssql", name="total")
    assert "CREATE INDEX ix_orders_total ON orders (total)" in _sql(
        "add_index", "mssql", name="ix_orders_total", source=next(iter(t.indexes))
    )
    assert "DROP INDEX ix_orders_total ON orders" in _sql("drop_index", "mssql", name="ix_orders_total")
    assert "EXEC sp_rename 'old_orders', orders" in _sql("rename_table", "mssql", before={"name": "old_orders"})


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("postgresql", "ALTER TABLE orders ALTER COLUMN total TYPE BIGINT USING total::BIGINT"),
        ("mysql", "ALTER TABLE orders MODIFY total BIGINT NOT NULL"),
        ("mssql", "ALTER TABLE orders ALTER COLUMN total BIGINT NOT NULL"),
    ],
)
def test_type_changes_keep_data_with_a_cast_where_the_dialect_needs_one(dialect: str, expected: str) -> None:
    t = _model()
    assert expected in _sql("alter_column_type", dialect, name="total", source=t.c.total)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "mssql"])
def test_constraints_render_from_the_server_facts(dialect: str) -> None:
    fk = {
        "kind": "foreign_key",
        "name": None,
        "columns": ["customer_id"],
        "referred_schema": None,
        "referred_table": "customers",
        "referred_columns": ["id"],
        "on_delete": "CASCADE",
        "on_update": None,
        "definition": "",
    }
    sql = _sql("add_constraint", dialect, after=fk)
    assert "FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE" in sql
    check = {"kind": "check", "name": "ck_total", "columns": [], "definition": "CHECK ((total > 0))"}
    assert "ADD CONSTRAINT ck_total CHECK ((total > 0))" in _sql(
        "add_constraint", dialect, name="ck_total", after=check
    )


def test_mssql_catalog_queries_compile_with_expanding_lists() -> None:
    from storeroom_mssql.schema import CATALOG_QUERIES, catalog_clause

    dialect = _mssql()
    for name in CATALOG_QUERIES:
        for tables in (False, True):
            clause = catalog_clause(name, tables and name != "schemas")
            params = {"schemas": ["dbo", "audit"], **({"tables": ["a", "b"]} if tables and name != "schemas" else {})}
            compiled = clause.bindparams(**params).compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            text = str(compiled)
            assert "IN (?, ?)" in text, (name, text)
            assert text.count("?") == (4 if tables and name != "schemas" else 2)


def test_mssql_provider_is_registered_under_the_dialect_name() -> None:
    from storeroom.plugins import PluginManager
    from storeroom_mssql.schema import MSSQLSchemaProvider

    assert PluginManager().schema_providers.get("mssql") is MSSQLSchemaProvider


def test_a_postgresql_table_with_an_enum_does_not_create_the_type_again() -> None:
    md = sa.MetaData()
    mood = sa.Enum("sad", "ok", name="mood", metadata=md)
    t = sa.Table("t", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("m", mood))
    create = Operation("create_enum", "public", None, "mood", after={"values": ["sad", "ok"]})
    table = Operation("create_table", "public", "t", source=t)
    ctx = RenderContext(DIALECTS["postgresql"], "public", {}, {("public", "t"): t})
    sql = "\n".join(offline_sql(steps([create, table], ctx), ctx.dialect))
    assert sql.count("CREATE TYPE mood") == 1 and "m mood" in sql
    assert isinstance(t.c.m.type, sa.Enum) and t.c.m.type.create_type is not False  # the model is untouched
