"""PostgreSQL's schema provider: the catalog in six bulk queries, scratch space in ``pg_temp``.

Every text comes from the server's own deparsers (``format_type``, ``pg_get_expr``,
``pg_get_indexdef``, ``pg_get_constraintdef``) read with ``search_path`` set to
``pg_catalog`` for the read, so every name is schema-qualified the same way on both sides.
The desired schema is rendered into this session's temporary schema (or, when it spans
several schemas, into scratch schemas) inside a savepoint that is always rolled back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Sequence
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storeroom.errors import SchemaSyncError
from storeroom.schema import (
    Catalog,
    ColumnInfo,
    ConstraintInfo,
    ConstraintKind,
    EnumInfo,
    IndexInfo,
    Scratch,
    TableInfo,
    TableKey,
)
from storeroom.sqla.schema import SqlaSchemaProvider, rows_of, scratch_schemas

__all__ = ["PostgresSchemaProvider"]

_SCOPE = "n.nspname = ANY(:schemas) AND (CAST(:tables AS text[]) IS NULL OR c.relname = ANY(:tables))"

_TABLES = f"""
SELECT c.oid, n.nspname AS schema, c.relname AS name, obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {_SCOPE}
"""

_COLUMNS = f"""
SELECT a.attrelid AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS expr, a.attidentity AS identity,
       a.attgenerated AS generated, col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {_SCOPE}
ORDER BY a.attrelid, a.attnum
"""

_INDEXES = f"""
SELECT i.indrelid AS oid, ic.relname AS name, i.indisunique AS is_unique, pg_get_indexdef(i.indexrelid) AS def_,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k)
         AS keys
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND {_SCOPE}
  AND NOT EXISTS (  -- by conrelid first: pg_constraint has no index on conindid alone
    SELECT 1 FROM pg_constraint k
    WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
"""

_CONSTRAINTS = f"""
SELECT k.conrelid AS oid, k.conname AS name, k.contype AS kind, pg_get_constraintdef(k.oid, true) AS def_,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.ord) AS columns,
       fn.nspname AS ref_schema, fc.relname AS ref_table,
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.ord) AS ref_columns,
       k.confdeltype AS on_delete, k.confupdtype AS on_update
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE k.contype IN ('p', 'u', 'c', 'f') AND c.relkind IN ('r', 'p') AND {_SCOPE}
"""

_ENUMS = """
SELECT n.nspname AS schema, t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = ANY(:schemas)
GROUP BY n.nspname, t.typname
"""

_SCHEMAS = "SELECT nspname AS name FROM pg_namespace WHERE nspname = ANY(:schemas)"

_KINDS: dict[str, ConstraintKind] = {"p": "primary_key", "u": "unique", "c": "check", "f": "foreign_key"}
_ACTIONS = {"a": None, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_IDENTITY = {"a": "always", "d": "by default"}


def _index_definition(definition: str) -> str:
    """``CREATE INDEX ix ON s.t USING btree (a) WHERE ...`` -> ``USING btree (a) WHERE ...``."""
    at = definition.find(" USING ")
    return definition[at + 1 :] if at >= 0 else definition


class PostgresSchemaProvider(SqlaSchemaProvider):
    """Catalog reads, scratch space and apply locks for PostgreSQL (10 and later)."""

    PLUGIN_NAME: ClassVar[str] = "postgresql"
    transactional_ddl: ClassVar[bool] = True
    concurrent_indexes: ClassVar[bool] = True

    def default_schema(self, conn: Connection) -> str:
        return str(conn.exec_driver_sql("SELECT current_schema()").scalar())

    @contextlib.contextmanager
    def _qualified(self, conn: Connection) -> Iterator[None]:
        """``search_path`` = ``pg_catalog`` for the read, so the deparsers qualify every name."""
        old = conn.exec_driver_sql(
            "SELECT current_setting('search_path') AS old, set_config('search_path', 'pg_catalog', true)"
        ).scalar()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT set_config('search_path', :old, true)"), {"old": old})

    def read_catalog(
        self, conn: Connection, schemas: Collection[str], tables: Collection[str] | None = None
    ) -> Catalog:
        params = {"schemas": sorted(schemas), "tables": sorted(tables) if tables is not None else None}
        with self._qualified(conn):
            table_rows, column_rows, index_rows, constraint_rows, enum_rows, schema_rows = (
                conn.execute(sa.text(sql), params).all()
                for sql in (_TABLES, _COLUMNS, _INDEXES, _CONSTRAINTS, _ENUMS, _SCHEMAS)
            )
        columns: dict[int, list[ColumnInfo]] = {}
        for row in column_rows:
            generated = row.generated or ""
            columns.setdefault(row.oid, []).append(
                ColumnInfo(
                    name=row.name,
                    type=row.type,
                    nullable=bool(row.nullable),
                    default=None if generated else row.expr,
                    identity=_IDENTITY.get(row.identity or ""),
                    computed=row.expr if generated else None,
                    persisted=True if generated == "s" else None,
                    comment=row.comment,
                )
            )
        indexes: dict[int, list[IndexInfo]] = {}
        for row in index_rows:
            indexes.setdefault(row.oid, []).append(
                IndexInfo(row.name, bool(row.is_unique), tuple(row.keys), _index_definition(row.def_))
            )
        constraints: dict[int, list[ConstraintInfo]] = {}
        for row in constraint_rows:
            foreign = row.kind == "f"
            constraints.setdefault(row.oid, []).append(
                ConstraintInfo(
                    name=row.name,
                    kind=_KINDS[row.kind],
                    columns=tuple(row.columns or ()),
                    definition=row.def_,
                    referred_schema=row.ref_schema if foreign else None,
                    referred_table=row.ref_table if foreign else None,
                    referred_columns=tuple(row.ref_columns or ()) if foreign else (),
                    on_delete=_ACTIONS.get(row.on_delete) if foreign else None,
                    on_update=_ACTIONS.get(row.on_update) if foreign else None,
                )
            )
        found = {
            (row.schema, row.name): TableInfo(
                schema=row.schema,
                name=row.name,
                columns=tuple(columns.get(row.oid, ())),
                indexes=tuple(sorted(indexes.get(row.oid, ()), key=lambda i: i.name)),
                constraints=tuple(sorted(constraints.get(row.oid, ()), key=lambda c: c.name)),
                comment=row.comment,
            )
            for row in table_rows
        }
        enums = {(r.schema, r.name): EnumInfo(r.schema, r.name, tuple(r.labels)) for r in enum_rows}
        return Catalog(frozenset(r.name for r in schema_rows), found, enums)

    @contextlib.contextmanager
    def scratch(self, conn: Connection, schemas: Collection[str | None]) -> Iterator[Scratch]:
        """This session's ``pg_temp`` for one schema (fast: no WAL), scratch schemas for several.

        Everything is created inside a savepoint that is rolled back, also on an error.
        """
        wanted = list(dict.fromkeys(schemas))
        nested = conn.begin_nested()
        try:
            if len(wanted) == 1:
                # a temporary object makes the session's temp schema exist, so we learn its name
                conn.exec_driver_sql("CREATE TEMPORARY SEQUENCE storeroom_scratch_marker")
                temp = str(
                    conn.exec_driver_sql("SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()").scalar()
                )
                target = wanted[0] or self.default_schema(conn)
                yield Scratch(conn, {wanted[0]: "pg_temp"}, {temp: target}, unqualified=frozenset({target}))
            else:
                with scratch_schemas(conn, wanted, self.default_schema(conn)) as scratch:
                    yield scratch
        finally:
            if nested.is_active:
                nested.rollback()

    def _row_estimates(self, conn: Connection, keys: Sequence[TableKey]) -> dict[TableKey, int]:
        rows = rows_of(
            conn,
            "SELECT n.nspname AS schema, c.relname AS name, CAST(GREATEST(c.reltuples, 0) AS bigint) AS rows "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(CAST(:schemas AS text[]), CAST(:names AS text[])))",
            {"schemas": [k[0] for k in keys], "names": [k[1] for k in keys]},
        )
        return {(r["schema"], r["name"]): int(r["rows"]) for r in rows}

    @contextlib.contextmanager
    def apply_lock(self, conn: Connection, key: str, timeout: float) -> Iterator[None]:
        """A transaction-level advisory lock: released by the commit or rollback that ends the apply."""
        conn.execute(
            sa.text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": f"{max(1, round(timeout * 1000))}ms"}
        )
        try:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
        except sa.exc.OperationalError as exc:
            raise SchemaSyncError(
                f"another schema apply holds the lock {key!r}; it did not finish within {timeout:g} s"
            ) from exc
        yield

    def begin_apply(self, conn: Connection, lock_timeout: float | None, statement_timeout: float | None) -> None:
        for setting, seconds in (("lock_timeout", lock_timeout), ("statement_timeout", statement_timeout)):
            value = "0" if seconds is None else f"{max(1, round(seconds * 1000))}ms"
            conn.execute(sa.text("SELECT set_config(:name, :value, true)"), {"name": setting, "value": value})
