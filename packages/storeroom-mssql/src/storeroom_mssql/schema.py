"""SQL Server's schema provider: the ``sys`` catalog views in six bulk queries.

DDL is transactional on SQL Server, so scratch space is a set of scratch schemas created
inside a savepoint that is always rolled back; applies are serialized with
``sp_getapplock`` owned by the apply's transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storeroom.errors import SchemaSyncError
from storeroom.schema import Catalog, ColumnInfo, ConstraintInfo, IndexInfo, Scratch, TableInfo, TableKey
from storeroom.sqla.schema import SqlaSchemaProvider, foreign_key, scratch_schemas

__all__ = ["CATALOG_QUERIES", "MSSQLSchemaProvider", "catalog_clause"]

_SCOPE = "s.name IN :schemas{tables}"
_FROM = "FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id"
_DESCRIPTION = "ep.class = 1 AND ep.name = 'MS_Description'"

CATALOG_QUERIES: dict[str, str] = {
    "tables": f"""
SELECT t.object_id AS oid, s.name AS sch, t.name AS name, CAST(ep.value AS nvarchar(4000)) AS comment
{_FROM}
LEFT JOIN sys.extended_properties ep ON ep.major_id = t.object_id AND ep.minor_id = 0 AND {_DESCRIPTION}
WHERE {_SCOPE}
""",
    "columns": f"""
SELECT c.object_id AS oid, c.name AS name, TYPE_NAME(c.user_type_id) AS type_name, c.max_length AS max_length,
       c.precision AS precision, c.scale AS scale, c.is_nullable AS nullable, c.is_identity AS is_identity,
       dc.definition AS dflt, cc.definition AS computed, cc.is_persisted AS persisted,
       CAST(ep.value AS nvarchar(4000)) AS comment
{_FROM}
JOIN sys.columns c ON c.object_id = t.object_id
LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id
LEFT JOIN sys.computed_columns cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id
LEFT JOIN sys.extended_properties ep ON ep.major_id = c.object_id AND ep.minor_id = c.column_id AND {_DESCRIPTION}
WHERE {_SCOPE}
ORDER BY c.object_id, c.column_id
""",
    "indexes": f"""
SELECT i.object_id AS oid, i.name AS name, i.is_unique AS is_unique, i.is_primary_key AS is_pk,
       i.is_unique_constraint AS is_uq, i.type_desc AS method, i.filter_definition AS filter,
       ic.is_included_column AS included, ic.is_descending_key AS descending, COL_NAME(ic.object_id, ic.column_id) AS col
{_FROM}
JOIN sys.indexes i ON i.object_id = t.object_id
JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
WHERE i.type > 0 AND {_SCOPE}
ORDER BY i.object_id, i.name, ic.is_included_column, ic.key_ordinal, ic.index_column_id
""",
    "foreign_keys": f"""
SELECT fk.parent_object_id AS oid, fk.name AS name, COL_NAME(fkc.parent_object_id, fkc.parent_column_id) AS col,
       rs.name AS ref_schema, rt.name AS ref_table, COL_NAME(fkc.referenced_object_id, fkc.referenced_column_id) AS ref_col,
       fk.delete_referential_action_desc AS on_delete, fk.update_referential_action_desc AS on_update
{_FROM}
JOIN sys.foreign_keys fk ON fk.parent_object_id = t.object_id
JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.tables rt ON rt.object_id = fk.referenced_object_id JOIN sys.schemas rs ON rs.schema_id = rt.schema_id
WHERE {_SCOPE}
ORDER BY fk.parent_object_id, fk.name, fkc.constraint_column_id
""",
    "checks": f"""
SELECT k.parent_object_id AS oid, k.name AS name, k.definition AS definition
{_FROM}
JOIN sys.check_constraints k ON k.parent_object_id = t.object_id
WHERE {_SCOPE}
""",
    "schemas": "SELECT s.name AS name FROM sys.schemas s WHERE s.name IN :schemas",
}

_ACTIONS = {"NO_ACTION": None, "CASCADE": "CASCADE", "SET_NULL": "SET NULL", "SET_DEFAULT": "SET DEFAULT"}
_SIZED = {"varchar", "char", "varbinary", "binary"}
_WIDE = {"nvarchar", "nchar"}


def catalog_clause(name: str, tables: bool) -> sa.TextClause:
    """The named catalog query as a SQLAlchemy text clause with expanding IN lists."""
    sql = CATALOG_QUERIES[name].replace("{tables}", " AND t.name IN :tables" if tables else "")
    clause = sa.text(sql).bindparams(sa.bindparam("schemas", expanding=True))
    if tables and ":tables" in sql:
        clause = clause.bindparams(sa.bindparam("tables", expanding=True))
    return clause


def _type(r: dict[str, Any]) -> str:
    name = str(r["type_name"])
    if name in _SIZED | _WIDE:
        length = int(r["max_length"])
        size = "max" if length == -1 else str(length // 2 if name in _WIDE else length)
        return f"{name}({size})"
    if name in ("decimal", "numeric"):
        return f"{name}({r['precision']},{r['scale']})"
    if name in ("datetime2", "time", "datetimeoffset"):
        return f"{name}({r['scale']})"
    return name


class MSSQLSchemaProvider(SqlaSchemaProvider):
    """Catalog reads for SQL Server 2017 and later."""

    PLUGIN_NAME: ClassVar[str] = "mssql"
    transactional_ddl: ClassVar[bool] = True
    batch_ddl: ClassVar[bool] = False  # CREATE SCHEMA / CREATE VIEW must start a batch: one statement per call

    def default_schema(self, conn: Connection) -> str:
        return str(conn.exec_driver_sql("SELECT SCHEMA_NAME()").scalar())

    def _rows(
        self, conn: Connection, name: str, schemas: Sequence[str], tables: Collection[str] | None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"schemas": list(schemas)}
        if tables is not None and name != "schemas":
            params["tables"] = sorted(tables) or [""]
        clause = catalog_clause(name, tables is not None and name != "schemas")
        return [dict(r._mapping) for r in conn.execute(clause, params)]

    def read_catalog(
        self, conn: Connection, schemas: Collection[str], tables: Collection[str] | None = None
    ) -> Catalog:
        names = sorted(schemas)
        rows = {name: self._rows(conn, name, names, tables) for name in CATALOG_QUERIES}
        columns: dict[int, list[ColumnInfo]] = {}
        for r in rows["columns"]:
            columns.setdefault(r["oid"], []).append(
                ColumnInfo(
                    name=r["name"],
                    type=_type(r),
                    nullable=bool(r["nullable"]),
                    default=r["dflt"],
                    identity="identity" if r["is_identity"] else None,
                    computed=r["computed"],
                    persisted=bool(r["persisted"]) if r["computed"] is not None else None,
                    comment=r["comment"],
                )
            )
        constraints: dict[int, list[ConstraintInfo]] = {}
        indexes: dict[int, list[IndexInfo]] = {}
        groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for r in rows["indexes"]:
            groups.setdefault((r["oid"], r["name"]), []).append(r)
        for (oid, name), parts in groups.items():
            keys = tuple(p["col"] for p in parts if not p["included"])
            spelled = ", ".join(f"{p['col']}{' DESC' if p['descending'] else ''}" for p in parts if not p["included"])
            first = parts[0]
            if first["is_pk"]:
                constraints.setdefault(oid, []).append(
                    ConstraintInfo(name, "primary_key", keys, f"PRIMARY KEY {first['method']} ({spelled})")
                )
            elif first["is_uq"]:
                constraints.setdefault(oid, []).append(
                    ConstraintInfo(name, "unique", keys, f"UNIQUE {first['method']} ({spelled})")
                )
            else:
                include = [p["col"] for p in parts if p["included"]]
                definition = f"{first['method']} ({spelled})" + (f" INCLUDE ({', '.join(include)})" if include else "")
                definition += f" WHERE {first['filter']}" if first["filter"] else ""
                indexes.setdefault(oid, []).append(IndexInfo(name, bool(first["is_unique"]), keys, definition))
        fks: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for r in rows["foreign_keys"]:
            fks.setdefault((r["oid"], r["name"]), []).append(r)
        for (oid, name), parts in fks.items():
            constraints.setdefault(oid, []).append(foreign_key(name, parts, _ACTIONS))
        for r in rows["checks"]:
            constraints.setdefault(r["oid"], []).append(
                ConstraintInfo(r["name"], "check", (), f"CHECK {r['definition']}")
            )
        found = {
            (r["sch"], r["name"]): TableInfo(
                r["sch"],
                r["name"],
                tuple(columns.get(r["oid"], ())),
                tuple(sorted(indexes.get(r["oid"], ()), key=lambda i: i.name)),
                tuple(sorted(constraints.get(r["oid"], ()), key=lambda c: c.name)),
                r["comment"],
            )
            for r in rows["tables"]
        }
        return Catalog(frozenset(r["name"] for r in rows["schemas"]), found, {})

    def scratch(self, conn: Connection, schemas: Collection[str | None]) -> AbstractContextManager[Scratch]:
        """Scratch schemas inside a savepoint that is always rolled back."""
        return scratch_schemas(conn, schemas, self.default_schema(conn))

    def _equal_sql(self, left: str, right: str, type_: str) -> str:
        return (
            f"CASE WHEN CAST(({left}) AS {type_}) = CAST(({right}) AS {type_}) "
            f"OR (({left}) IS NULL AND ({right}) IS NULL) THEN 1 ELSE 0 END"
        )

    def _row_estimates(self, conn: Connection, keys: Sequence[TableKey]) -> dict[TableKey, int]:
        rows = conn.execute(
            sa.text(
                "SELECT s.name AS sch, t.name AS name, SUM(p.rows) AS est "
                f"{_FROM} JOIN sys.partitions p ON p.object_id = t.object_id AND p.index_id IN (0, 1) "
                "WHERE s.name IN :schemas AND t.name IN :tables GROUP BY s.name, t.name"
            ).bindparams(sa.bindparam("schemas", expanding=True), sa.bindparam("tables", expanding=True)),
            {"schemas": sorted({k[0] for k in keys}), "tables": sorted({k[1] for k in keys})},
        )
        return {(r.sch, r.name): int(r.est or 0) for r in rows}

    @contextlib.contextmanager
    def apply_lock(self, conn: Connection, key: str, timeout: float) -> Iterator[None]:
        """``sp_getapplock`` owned by the apply's transaction (released by its commit or rollback)."""
        status = conn.execute(
            sa.text(
                "DECLARE @status int; EXEC @status = sp_getapplock @Resource = :key, @LockMode = 'Exclusive', "
                "@LockOwner = 'Transaction', @LockTimeout = :ms; SELECT @status"
            ),
            {"key": key[:255], "ms": max(0, round(timeout * 1000))},
        ).scalar()
        if status is None or int(status) < 0:
            raise SchemaSyncError(
                f"another schema apply holds the lock {key!r}; it did not finish within {timeout:g} s"
            )
        yield
