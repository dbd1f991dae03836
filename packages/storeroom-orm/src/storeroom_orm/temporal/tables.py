"""The tables behind the temporal strategies, built with the model's table in the same MetaData.

scd2 keeps the model's own table as the *current* table: one row per entity, the latest
version, addressed by the stable ``id`` (so foreign keys from other tables keep resolving
while versions come and go), and ``<table>_history`` holding every closed version, keyed
by ``(id, version)``. It is the layout of SQL:2011 system-versioned tables in SQL Server and
of PostgreSQL's ``temporal_tables``. Exactly one current version per entity follows from
the current table's primary key; a closed version can only live in the history table (its
CHECK demands ``valid_to > valid_from``, so never NULL).

Business keys (``unique=True``, unique ``Index``) of an scd2 model hold among *current*
rows only, so a key is free again once its entity is deleted: a partial unique index
(``WHERE valid_to IS NULL``) on PostgreSQL, SQLite and SQL Server (a filtered index); on
MySQL/MariaDB, which have no partial index, a unique index over the key plus the generated
column ``is_current`` (1 for the current row, NULL for a closed one: NULLs never collide).

copy_on_change adds ``<table>_audit``: one row per changed user field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from storeroom.errors import ConfigurationError
from storeroom_orm.fields import ColumnSpec
from storeroom_orm.types import column_type

__all__ = [
    "AUDIT_OPERATIONS",
    "CURRENT",
    "GENERATED",
    "audit_table",
    "current_unique",
    "history_table",
    "scd2_columns",
    "scd2_constraints",
]

#: the rows of the current table that are current versions (soft-deleted ones are closed)
CURRENT = "valid_to IS NULL"
#: the generated column MySQL/MariaDB uniques use in place of a partial index
IS_CURRENT = "is_current"
#: table columns that are not model fields
GENERATED = frozenset({IS_CURRENT})
AUDIT_OPERATIONS = ("create", "update", "delete", "restore")
FIELD_NAME_LENGTH = 255
ACTOR_LENGTH = 255
TENANT_LENGTH = 255
_PARTIAL = ("postgresql", "sqlite", "mssql")
_NO_PARTIAL = ("mysql", "mariadb")


def scd2_columns(has_uniques: bool) -> list[sa.Column[Any]]:
    """``is_current`` when the model has business keys (MySQL/MariaDB index it; see the module doc)."""
    if not has_uniques:
        return []
    return [
        sa.Column(
            IS_CURRENT, sa.SmallInteger(), sa.Computed(f"CASE WHEN {CURRENT} THEN 1 END", persisted=True), nullable=True
        )
    ]


def scd2_constraints() -> list[Any]:
    return [sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_period")]


def current_unique(table: sa.Table, columns: Sequence[str], name: str | None = None, where: str | None = None) -> None:
    """A unique key among current rows only (see the module doc); ``where`` narrows it further
    where partial indexes exist."""
    condition = CURRENT if where is None else f"{CURRENT} AND ({where})"
    parts = [table.c[c] if c in table.c else sa.text(c) for c in columns]
    index_name = name or f"uq_{table.name}_{'_'.join(c for c in columns if c in table.c)}"
    where_options: dict[str, Any] = {f"{dialect}_where": sa.text(condition) for dialect in _PARTIAL}
    partial = sa.Index(index_name, *parts, unique=True, _table=table, **where_options)
    partial.ddl_if(dialect=_PARTIAL)  # type: ignore[arg-type]  # a tuple of dialect names is documented
    flagged = sa.Index(index_name, *parts, table.c[IS_CURRENT], unique=True, _table=table)
    flagged.ddl_if(dialect=_NO_PARTIAL)  # type: ignore[arg-type]


def _auxiliary(table: sa.Table, suffix: str, *items: Any) -> sa.Table:
    name = f"{table.name}_{suffix}"
    key = f"{table.schema}.{name}" if table.schema else name
    if key in table.metadata.tables:
        raise ConfigurationError(f"table {key!r} is already defined in this MetaData; {table.name} needs it")
    return sa.Table(name, table.metadata, *items, schema=table.schema)


def history_table(table: sa.Table, columns: Sequence[str]) -> sa.Table:
    """``<table>_history``: the closed versions, the model's columns without its constraints.

    No foreign keys or uniques: an old version may name a row that is gone, or a key that a
    current row uses now. ``(id, valid_from)`` serves ``as_of``, ``valid_to`` retention.
    """
    copies = [
        sa.Column(name, table.c[name].type, nullable=table.c[name].nullable and name != "valid_to") for name in columns
    ]
    return _auxiliary(
        table,
        "history",
        *copies,
        sa.PrimaryKeyConstraint("id", "version"),
        sa.CheckConstraint("valid_to > valid_from", name="closed_period"),
        sa.Index(None, "id", "valid_from"),
        sa.Index(None, "valid_to"),
    )


def audit_table(table: sa.Table, multi_tenant: bool) -> sa.Table:
    """``<table>_audit``: one row per changed user field; ``seq`` orders the changes of a record."""
    json_type = column_type("json", dict, ColumnSpec(), False)
    tenant = [sa.Column("tenant_id", sa.String(TENANT_LENGTH), nullable=False)] if multi_tenant else []
    operations = ", ".join(f"'{op}'" for op in AUDIT_OPERATIONS)
    return _auxiliary(
        table,
        "audit",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        *tenant,
        sa.Column("field", sa.String(FIELD_NAME_LENGTH), nullable=False),
        sa.Column("old_value", json_type, nullable=True),
        sa.Column("new_value", json_type, nullable=True),
        sa.Column("operation", sa.String(10), nullable=False),
        sa.Column("changed_at", column_type("datetime", dt.datetime, ColumnSpec(), False), nullable=False),
        sa.Column("changed_by", sa.String(ACTOR_LENGTH), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(f"operation IN ({operations})", name="operation"),
        sa.Index(None, "record_id", "seq"),
        sa.Index(None, "changed_at"),
    )
