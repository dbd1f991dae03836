"""MySQL's and MariaDB's schema provider: ``information_schema`` in six bulk queries.

Scratch space is a scratch database created with the live database's character set and
collation and dropped afterwards (MySQL DDL auto-commits, so nothing can be rolled back);
the server spells the scratch tables exactly as it spells the live ones. Applies are
serialized with ``GET_LOCK``.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Collection, Iterator, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storeroom.errors import SchemaSyncError
from storeroom.schema import Catalog, ColumnInfo, ConstraintInfo, IndexInfo, Scratch, TableInfo, TableKey
from storeroom.sqla.schema import SqlaSchemaProvider, foreign_key, scratch_name

__all__ = ["MySQLSchemaProvider"]

_ACTIONS = {"RESTRICT": "RESTRICT", "CASCADE": "CASCADE", "SET NULL": "SET NULL", "SET DEFAULT": "SET DEFAULT"}


def _rows(
    conn: Connection, sql: str, schemas: Sequence[str], tables: Collection[str] | None, prefix: str = ""
) -> list[dict[str, Any]]:
    """A catalog query over ``schemas`` (and ``tables``), with expanding IN lists."""
    where = f"{prefix}TABLE_SCHEMA IN :schemas" + (f" AND {prefix}TABLE_NAME IN :tables" if tables is not None else "")
    clause = sa.text(sql.replace("{where}", where)).bindparams(sa.bindparam("schemas", expanding=True))
    params: dict[str, Any] = {"schemas": list(schemas)}
    if tables is not None:
        clause = clause.bindparams(sa.bindparam("tables", expanding=True))
        params["tables"] = sorted(tables) or [""]
    return [dict(r._mapping) for r in conn.execute(clause, params)]


_TABLES = """
SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_COMMENT AS comment, TABLE_ROWS AS est
FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND {where}
"""
_COLUMNS = """
SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable,
       COLUMN_DEFAULT AS dflt, EXTRA AS extra, GENERATION_EXPRESSION AS expr, COLUMN_COMMENT AS comment
FROM information_schema.COLUMNS WHERE {where} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION
"""
_STATISTICS = """
SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, INDEX_NAME AS name, NON_UNIQUE AS non_unique, COLUMN_NAME AS col,
       SUB_PART AS sub_part, COLLATION AS coll, INDEX_TYPE AS method
FROM information_schema.STATISTICS WHERE {where} ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
_FOREIGN_KEYS = """
SELECT k.TABLE_SCHEMA AS s, k.TABLE_NAME AS t, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col,
       k.REFERENCED_TABLE_SCHEMA AS ref_schema, k.REFERENCED_TABLE_NAME AS ref_table,
       k.REFERENCED_COLUMN_NAME AS ref_col, r.UPDATE_RULE AS on_update, r.DELETE_RULE AS on_delete
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.REFERENCED_TABLE_NAME IS NOT NULL AND {where}
ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""
_CHECKS = """
SELECT c.TABLE_SCHEMA AS s, c.TABLE_NAME AS t, c.CONSTRAINT_NAME AS name, k.CHECK_CLAUSE AS clause
FROM information_schema.TABLE_CONSTRAINTS c
JOIN information_schema.CHECK_CONSTRAINTS k
  ON k.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = c.CONSTRAINT_NAME {same_table}
WHERE c.CONSTRAINT_TYPE = 'CHECK' AND {where}
"""


class MySQLSchemaProvider(SqlaSchemaProvider):
    """Catalog reads for MySQL 8 and MariaDB 10.5+ (``PLUGIN_NAME`` is SQLAlchemy's ``mysql`` for both)."""

    PLUGIN_NAME: ClassVar[str] = "mysql"
    transactional_ddl: ClassVar[bool] = False  # every DDL statement commits on its own
    batch_ddl: ClassVar[bool] = False  # PyMySQL runs one statement per call (no MULTI_STATEMENTS)

    def default_schema(self, conn: Connection) -> str:
        name = conn.exec_driver_sql("SELECT DATABASE()").scalar()
        if not name:
            raise SchemaSyncError("the connection has no current database; put one in the URL")
        return str(name)

    def read_catalog(
        self, conn: Connection, schemas: Collection[str], tables: Collection[str] | None = None
    ) -> Catalog:
        names = sorted(schemas)
        mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
        table_rows = _rows(conn, _TABLES, names, tables)
        column_rows = _rows(conn, _COLUMNS, names, tables)
        stat_rows = _rows(conn, _STATISTICS, names, tables)
        fk_rows = _rows(conn, _FOREIGN_KEYS, names, tables, "k.")
        check_rows = _rows(
            conn,
            _CHECKS.replace("{same_table}", "AND k.TABLE_NAME = c.TABLE_NAME" if mariadb else ""),
            names,
            tables,
            "c.",
        )
        found_schemas = {
            r[0]
            for r in conn.execute(
                sa.text("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN :s").bindparams(
                    sa.bindparam("s", expanding=True)
                ),
                {"s": names},
            )
        }
        columns: dict[TableKey, list[ColumnInfo]] = {}
        for r in column_rows:
            columns.setdefault((r["s"], r["t"]), []).append(self._column(r))
        constraints: dict[TableKey, list[ConstraintInfo]] = {}
        indexes: dict[TableKey, list[IndexInfo]] = {}
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for r in stat_rows:
            groups.setdefault((r["s"], r["t"], r["name"]), []).append(r)
        for (s, t, name), parts in groups.items():
            keys = tuple(p["col"] or "<expression>" for p in parts)
            spelled = ", ".join(
                f"{p['col']}{'(' + str(p['sub_part']) + ')' if p['sub_part'] else ''}{' DESC' if p['coll'] == 'D' else ''}"
                for p in parts
            )
            method = parts[0]["method"]
            if name == "PRIMARY":
                constraints.setdefault((s, t), []).append(
                    ConstraintInfo(name, "primary_key", keys, f"PRIMARY KEY ({spelled})")
                )
            elif not int(parts[0]["non_unique"]):
                constraints.setdefault((s, t), []).append(
                    ConstraintInfo(name, "unique", keys, f"UNIQUE USING {method} ({spelled})")
                )
            else:
                indexes.setdefault((s, t), []).append(IndexInfo(name, False, keys, f"USING {method} ({spelled})"))
        fks: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for r in fk_rows:
            fks.setdefault((r["s"], r["t"], r["name"]), []).append(r)
        for (s, t, name), parts in fks.items():
            constraints.setdefault((s, t), []).append(foreign_key(name, parts, _ACTIONS))
        for r in check_rows:
            constraints.setdefault((r["s"], r["t"]), []).append(
                ConstraintInfo(r["name"], "check", (), f"CHECK ({r['clause']})")
            )
        found = {
            (r["s"], r["t"]): TableInfo(
                r["s"],
                r["t"],
                tuple(columns.get((r["s"], r["t"]), ())),
                tuple(sorted(indexes.get((r["s"], r["t"]), ()), key=lambda i: i.name)),
                tuple(sorted(constraints.get((r["s"], r["t"]), ()), key=lambda c: c.name)),
                r["comment"] or None,
            )
            for r in table_rows
        }
        return Catalog(frozenset(found_schemas), found, {})

    @staticmethod
    def _column(r: dict[str, Any]) -> ColumnInfo:
        extra = str(r["extra"] or "").lower()
        generated = "generated" in extra or "persistent" in extra or bool(r["expr"])
        default = None if r["dflt"] in (None, "NULL") else r["dflt"]  # MariaDB spells "no default" NULL
        if "on update" in extra:
            on_update = extra[extra.index("on update") :]
            default = f"{default} {on_update}" if default is not None else on_update
        return ColumnInfo(
            name=r["name"],
            type=str(r["type"]),
            nullable=r["nullable"] == "YES",
            default=None if generated else default,
            identity="auto_increment" if "auto_increment" in extra else None,
            computed=r["expr"] if generated else None,
            persisted=("stored" in extra or "persistent" in extra) if generated else None,
            comment=r["comment"] or None,
        )

    @contextlib.contextmanager
    def scratch(self, conn: Connection, schemas: Collection[str | None]) -> Iterator[Scratch]:
        """One scratch database per schema, with the live database's charset and collation; dropped on exit.

        ``conn`` is an autocommit connection (schema sync plans on one for this dialect).
        """
        default = self.default_schema(conn)
        preparer = conn.dialect.identifier_preparer
        auto = conn
        made: list[str] = []
        try:
            mapping: dict[str | None, str | None] = {}
            real: dict[str, str] = {}
            for schema in dict.fromkeys(schemas):
                target = schema or default
                charset = auto.execute(
                    sa.text(
                        "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co "
                        "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (:s, DATABASE()) ORDER BY SCHEMA_NAME = :s DESC"
                    ),
                    {"s": target},
                ).first()
                name = scratch_name()
                options = f" CHARACTER SET {charset.cs} COLLATE {charset.co}" if charset else ""
                auto.exec_driver_sql(f"CREATE DATABASE {preparer.quote(name)}{options}")
                made.append(name)
                mapping[schema] = name
                real[name] = target
            yield Scratch(auto, mapping, real)
        finally:
            for name in made:
                auto.exec_driver_sql(f"DROP DATABASE IF EXISTS {preparer.quote(name)}")

    def _equal_sql(self, left: str, right: str, type_: str) -> str:
        # CAST takes only a few target types here (not ``int(11)``); <=> compares with MySQL's coercions
        return f"(({left}) <=> ({right}))"

    def _row_estimates(self, conn: Connection, keys: Sequence[TableKey]) -> dict[TableKey, int]:
        rows = _rows(conn, _TABLES, sorted({k[0] for k in keys}), {k[1] for k in keys})
        return {(r["s"], r["t"]): int(r["est"] or 0) for r in rows}

    @contextlib.contextmanager
    def apply_lock(self, conn: Connection, key: str, timeout: float) -> Iterator[None]:
        """``GET_LOCK`` on this connection's session, released when the apply ends."""
        name = key if len(key) <= 64 else "storeroom:" + hashlib.sha256(key.encode()).hexdigest()[:40]
        got = conn.execute(
            sa.text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": max(0, int(timeout))}
        ).scalar()
        if got != 1:
            raise SchemaSyncError(
                f"another schema apply holds the lock {key!r}; it did not finish within {timeout:g} s"
            )
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": name})
