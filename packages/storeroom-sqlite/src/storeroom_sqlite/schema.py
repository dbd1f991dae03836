"""SQLite's schema provider: ``sqlite_master`` joined with the ``pragma_*`` table functions.

SQLite keeps each object's CREATE text as written; the catalog pragmas give the structure
(columns, index keys, foreign keys), and the texts only what nothing else records (CHECK
expressions, partial-index predicates, generation expressions), compared whitespace- and
quote-normalized. Scratch space is a separate ``:memory:`` database, which a rollback or a
closed connection throws away. Applies are serialized by SQLite's own write lock, taken
up front.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Iterator
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from storeroom.errors import SchemaSyncError
from storeroom.schema import Catalog, ColumnInfo, ConstraintInfo, IndexInfo, Scratch, TableInfo
from storeroom.sqla.schema import SqlaSchemaProvider, rows_of

__all__ = ["SQLiteSchemaProvider", "sql_text"]

_ALIASES = {"INT": "INTEGER", "BOOL": "BOOLEAN", "DOUBLE PRECISION": "DOUBLE", "CHARACTER VARYING": "VARCHAR"}
_ACTION = {"NO ACTION": None}


_LITERAL = re.compile(r"('(?:[^']|'')*')")
_QUOTED = re.compile(r'"((?:[^"]|"")*)"|`([^`]*)`|\[([^\]]*)\]')
_WORDS = re.compile(r"\b(is|not|null|and|or|in|like|between|case|when|then|else|end|collate|desc|asc|where)\b", re.I)


def sql_text(text: str) -> str:
    """Whitespace, keyword case and identifier quoting as one spelling: ``"a"  >  0`` -> ``a>0``.

    SQLite keeps each CREATE text as written, so two spellings of one definition must meet.
    String literals are left exactly as they are.
    """
    parts = _LITERAL.split(text)
    for i in range(0, len(parts), 2):  # outside string literals only
        part = _QUOTED.sub(lambda m: next(g for g in m.groups() if g is not None), parts[i])
        part = re.sub(r"\s+", " ", part)
        part = re.sub(r"\s*([^\w\s])\s*", r"\1", part)
        parts[i] = _WORDS.sub(lambda m: m.group(1).upper(), part)
    return "".join(parts).strip()


def _type(declared: str) -> str:
    text = " ".join(declared.upper().split())
    text = re.sub(r"\s*\(\s*", "(", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    text = re.sub(r"\s*\)", ")", text)
    base, paren, rest = text.partition("(")
    return _ALIASES.get(base, base) + paren + rest


def _balanced(text: str, start: int) -> str:
    """The parenthesised text opening at ``text[start]``, including the parentheses."""
    depth = 0
    quote: str | None = None
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start:]


_NAMED = re.compile(
    r"CONSTRAINT\s+(\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|\w+)\s+(CHECK|UNIQUE|FOREIGN\s+KEY|PRIMARY\s+KEY)\s*", re.I
)
_CHECK = re.compile(r"(?:CONSTRAINT\s+(\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|\w+)\s+)?CHECK\s*(?=\()", re.I)
_GENERATED = re.compile(r"(?:GENERATED\s+ALWAYS\s+)?AS\s*(?=\()", re.I)


def _unquote(name: str) -> str:
    return name.strip('"`[]')


def _checks(sql: str) -> list[tuple[str | None, str]]:
    found = []
    for match in _CHECK.finditer(sql):
        body = _balanced(sql, match.end())
        found.append((_unquote(match.group(1)) if match.group(1) else None, f"CHECK {sql_text(body)}"))
    return found


def _named(sql: str, kind: str) -> list[tuple[str, str]]:
    """``(name, text after the keyword)`` of named constraints of one kind in a CREATE TABLE."""
    out = []
    for match in _NAMED.finditer(sql):
        if match.group(2).upper().replace(" ", "").replace("\t", "") == kind:
            out.append((_unquote(match.group(1)), sql[match.end() :]))
    return out


def _generated(sql: str, column: str) -> tuple[str | None, bool | None]:
    pattern = re.compile(
        r"(?:^|[,(]\s*)(?:\"" + re.escape(column) + r"\"|`" + re.escape(column) + r"`|" + re.escape(column) + r")\s",
        re.I,
    )
    match = pattern.search(sql)
    if not match:
        return None, None
    rest = sql[match.end() :]
    generated = _GENERATED.search(rest)
    if not generated or "," in rest[: generated.start()]:
        return None, None
    body = _balanced(rest, generated.end())
    after = rest[generated.end() + len(body) :].lstrip().upper()
    return sql_text(body[1:-1]), after.startswith("STORED")


class SQLiteSchemaProvider(SqlaSchemaProvider):
    """Catalog reads for SQLite 3.26+ (``pragma_*`` table functions)."""

    PLUGIN_NAME: ClassVar[str] = "sqlite"
    transactional_ddl: ClassVar[bool] = True
    batch_ddl: ClassVar[bool] = False  # sqlite3 runs one statement per call

    def default_schema(self, conn: Connection) -> str:
        return "main"

    def read_catalog(
        self, conn: Connection, schemas: Collection[str], tables: Collection[str] | None = None
    ) -> Catalog:
        attached = {r["name"] for r in rows_of(conn, "SELECT name FROM pragma_database_list")}
        found: dict[tuple[str, str], TableInfo] = {}
        for schema in sorted(set(schemas) & attached):
            found.update(self._schema(conn, schema, tables))
        return Catalog(frozenset(set(schemas) & attached), found, {})

    def _schema(
        self, conn: Connection, schema: str, tables: Collection[str] | None
    ) -> dict[tuple[str, str], TableInfo]:
        q = conn.dialect.identifier_preparer.quote(schema)
        master = rows_of(conn, f"SELECT type, name, tbl_name, sql FROM {q}.sqlite_master WHERE sql IS NOT NULL")
        table_sql = {
            r["name"]: r["sql"]
            for r in master
            if r["type"] == "table" and not r["name"].startswith("sqlite_") and (tables is None or r["name"] in tables)
        }
        index_sql = {r["name"]: r["sql"] for r in master if r["type"] == "index"}
        scope = f"FROM {q}.sqlite_master m JOIN pragma_%s(m.name, :schema) p WHERE m.type = 'table'"
        columns = rows_of(
            conn, f"SELECT m.name AS tbl, p.* {scope % 'table_xinfo'} ORDER BY m.name, p.cid", {"schema": schema}
        )
        index_list = rows_of(conn, f"SELECT m.name AS tbl, p.* {scope % 'index_list'}", {"schema": schema})
        index_cols = rows_of(
            conn,
            f"SELECT il.name AS idx, p.* FROM {q}.sqlite_master m JOIN pragma_index_list(m.name, :schema) il "
            f"JOIN pragma_index_xinfo(il.name, :schema) p WHERE m.type = 'table' AND p.key = 1 ORDER BY il.name, p.seqno",
            {"schema": schema},
        )
        fks = rows_of(
            conn,
            f"SELECT m.name AS tbl, p.* {scope % 'foreign_key_list'} ORDER BY m.name, p.id, p.seq",
            {"schema": schema},
        )
        out: dict[tuple[str, str], TableInfo] = {}
        for name, sql in table_sql.items():
            out[(schema, name)] = self._table(schema, name, sql, columns, index_list, index_cols, index_sql, fks)
        return out

    def _table(
        self,
        schema: str,
        name: str,
        sql: str,
        columns: list[dict[str, Any]],
        index_list: list[dict[str, Any]],
        index_cols: list[dict[str, Any]],
        index_sql: dict[str, str],
        fks: list[dict[str, Any]],
    ) -> TableInfo:
        mine = [c for c in columns if c["tbl"] == name]
        autoincrement = bool(re.search(r"\bAUTOINCREMENT\b", sql, re.I))
        pk = sorted((c for c in mine if c["pk"]), key=lambda c: c["pk"])
        cols = []
        for c in mine:
            computed, stored = _generated(sql, c["name"]) if c["hidden"] in (2, 3) else (None, None)
            rowid = len(pk) == 1 and c["pk"] and _type(c["type"]) == "INTEGER"
            cols.append(
                ColumnInfo(
                    name=c["name"],
                    type=_type(c["type"] or ""),
                    nullable=not c["notnull"] and not (rowid),
                    default=None if c["dflt_value"] is None else sql_text(c["dflt_value"]),
                    identity=("autoincrement" if autoincrement else "rowid") if rowid else None,
                    computed=computed,
                    persisted=stored if computed is not None else None,
                )
            )
        constraints: list[ConstraintInfo] = []
        if pk:
            pk_names = [n for n, _ in _named(sql, "PRIMARYKEY")]
            columns_ = tuple(c["name"] for c in pk)
            constraints.append(
                ConstraintInfo(
                    pk_names[0] if pk_names else "primary",
                    "primary_key",
                    columns_,
                    f"PRIMARY KEY ({', '.join(columns_)})",
                )
            )
        checks = _checks(sql)
        for i, (check_name, text) in enumerate(checks):
            constraints.append(ConstraintInfo(check_name or f"{name}_check{i or ''}", "check", (), text))
        indexes = []
        keys: dict[str, list[dict[str, Any]]] = {}
        for row in index_cols:
            keys.setdefault(row["idx"], []).append(row)
        unique_names = _named(sql, "UNIQUE")
        for row in (r for r in index_list if r["tbl"] == name):
            parts = keys.get(row["name"], [])
            key_names = tuple(p["name"] or "<expression>" for p in parts)
            if row["origin"] == "u":
                explicit = next(
                    (
                        n
                        for n, rest in unique_names
                        if sql_text(_balanced(rest, rest.find("("))) == sql_text(f"({', '.join(key_names)})")
                    ),
                    None,
                )
                constraints.append(
                    ConstraintInfo(explicit or row["name"], "unique", key_names, f"UNIQUE ({', '.join(key_names)})")
                )
            elif row["origin"] == "c":
                text = index_sql.get(row["name"], "")
                on = re.search(r"\bON\s+\S+?\s*(?=\()", text, re.I)
                body = text[on.end() :] if on else text
                indexes.append(IndexInfo(row["name"], bool(row["unique"]), key_names, sql_text(body)))
        groups: dict[int, list[dict[str, Any]]] = {}
        for row in (r for r in fks if r["tbl"] == name):
            groups.setdefault(row["id"], []).append(row)
        fk_names = _named(sql, "FOREIGNKEY")
        for rows in groups.values():
            local = tuple(r["from"] for r in rows)
            remote = tuple(r["to"] or "" for r in rows)
            on_delete = _ACTION.get(rows[0]["on_delete"], rows[0]["on_delete"])
            on_update = _ACTION.get(rows[0]["on_update"], rows[0]["on_update"])
            definition = f"FOREIGN KEY ({', '.join(local)}) REFERENCES {rows[0]['table']} ({', '.join(remote)})"
            definition += f" ON DELETE {on_delete}" if on_delete else ""
            definition += f" ON UPDATE {on_update}" if on_update else ""
            explicit = next(
                (
                    n
                    for n, rest in fk_names
                    if sql_text(_balanced(rest, rest.find("("))) == sql_text(f"({', '.join(local)})")
                ),
                None,
            )
            constraints.append(
                ConstraintInfo(
                    explicit or f"{name}_{'_'.join(local)}_fkey",
                    "foreign_key",
                    local,
                    definition,
                    schema,
                    rows[0]["table"],
                    remote,
                    on_delete,
                    on_update,
                )
            )
        return TableInfo(schema, name, tuple(cols), tuple(sorted(indexes, key=lambda i: i.name)), tuple(constraints))

    @contextlib.contextmanager
    def scratch(self, conn: Connection, schemas: Collection[str | None]) -> Iterator[Scratch]:
        """A private ``:memory:`` database (plus one attached per extra schema), gone on exit."""
        engine = sa.create_engine("sqlite://")
        try:
            with engine.connect() as scratch:
                mapping: dict[str | None, str | None] = {}
                real: dict[str, str] = {}
                for schema in dict.fromkeys(schemas):
                    if schema is None or schema == "main":
                        mapping[schema] = "main"
                        real["main"] = "main"
                    else:
                        scratch.exec_driver_sql(
                            f"ATTACH DATABASE ':memory:' AS {scratch.dialect.identifier_preparer.quote(schema)}"
                        )
                        mapping[schema] = schema
                        real[schema] = schema
                yield Scratch(scratch, mapping, real)
        finally:
            engine.dispose()

    def _equal_sql(self, left: str, right: str, type_: str) -> str:
        # CAST applies the declared type's affinity, as storing the default in the column would
        return f"(CAST(({left}) AS {type_ or 'BLOB'}) IS CAST(({right}) AS {type_ or 'BLOB'}))"

    @contextlib.contextmanager
    def apply_lock(self, conn: Connection, key: str, timeout: float) -> Iterator[None]:
        """``BEGIN IMMEDIATE``: SQLite's write lock, taken before anything is read, so a second apply
        waits (up to ``timeout``) and then sees the first one's result. ``conn`` must not have begun
        a transaction at the driver (schema sync applies on an autocommit connection for this)."""
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {max(1, round(timeout * 1000))}")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except sa_exc.OperationalError as exc:
            raise SchemaSyncError(f"another writer held the database for {timeout:g} s; try the apply again") from exc
        yield
