"""What every SQLAlchemy-based :class:`~storeroom.schema.SchemaProvider` shares.

The data probes a plan needs (row estimates, NULLs in a column about to become NOT NULL,
whether two default expressions have the same value) are plain SQL built with SQLAlchemy
Core, one statement for all the tables or pairs asked about; dialects override what their
catalog answers better (PostgreSQL's ``reltuples``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from storeroom.schema import ConstraintInfo, SchemaProvider, Scratch, TableKey, TableStats

__all__ = ["SqlaSchemaProvider", "foreign_key", "rows_of", "scratch_name", "scratch_schemas"]


def scratch_name(prefix: str = "storeroom_scratch") -> str:
    """A name nobody else uses, for a scratch schema or database."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def rows_of(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a catalog query as dicts (the one way providers read their catalog)."""
    return [dict(row._mapping) for row in conn.execute(sa.text(sql), params or {})]


def foreign_key(name: str, rows: Sequence[dict[str, Any]], actions: Mapping[str, str | None]) -> ConstraintInfo:
    """A foreign key from its catalog rows, one per column in order (``col``, ``ref_schema``,
    ``ref_table``, ``ref_col``, ``on_delete``, ``on_update``), spelled the same way for both sides.

    ``actions`` maps the catalog's action names to SQL (NO ACTION, the default, to None).
    """
    local = tuple(r["col"] for r in rows)
    remote = tuple(r["ref_col"] for r in rows)
    first = rows[0]
    on_delete, on_update = actions.get(first["on_delete"]), actions.get(first["on_update"])
    definition = (
        f"FOREIGN KEY ({', '.join(local)}) REFERENCES {first['ref_schema']}.{first['ref_table']} ({', '.join(remote)})"
        + (f" ON DELETE {on_delete}" if on_delete else "")
        + (f" ON UPDATE {on_update}" if on_update else "")
    )
    return ConstraintInfo(
        name, "foreign_key", local, definition, first["ref_schema"], first["ref_table"], remote, on_delete, on_update
    )


@contextlib.contextmanager
def scratch_schemas(conn: Connection, schemas: Collection[str | None], default: str) -> Iterator[Scratch]:
    """One scratch schema per MetaData schema, inside a savepoint that is always rolled back
    (dialects with transactional DDL: PostgreSQL, SQL Server)."""
    nested = conn.begin_nested()
    try:
        mapping: dict[str | None, str | None] = {}
        real: dict[str, str] = {}
        for schema in dict.fromkeys(schemas):
            name = scratch_name()
            conn.execute(sa.schema.CreateSchema(name))
            mapping[schema] = name
            real[name] = schema or default
        yield Scratch(conn, mapping, real)
    finally:
        if nested.is_active:
            nested.rollback()


@contextlib.contextmanager
def _savepoint(conn: Connection, use: bool = True) -> Iterator[None]:
    """Run the body in a savepoint that is always rolled back (probes must leave nothing).

    ``use=False`` (an autocommit connection, which has no transaction to nest in) runs it bare.
    """
    if not use:
        yield
        return
    nested = conn.begin_nested()
    try:
        yield
    finally:
        if nested.is_active:
            nested.rollback()


class SqlaSchemaProvider(SchemaProvider):
    """Generic probes over SQLAlchemy Core; dialect providers fill in the catalog reads."""

    def _sql_table(self, conn: Connection, key: TableKey) -> sa.TableClause:
        schema, name = key
        default = self.default_schema(conn)
        return sa.table(name, schema=None if schema == default else schema)

    def table_stats(self, conn: Connection, tables: Collection[TableKey]) -> dict[TableKey, TableStats]:
        keys = sorted(set(tables))
        if not keys:
            return {}
        probes = [
            sa.select(
                sa.literal(i).label("i"),
                sa.exists(sa.select(sa.literal(1)).select_from(self._sql_table(conn, key))).label("populated"),
            )
            for i, key in enumerate(keys)
        ]
        found = {row.i: bool(row.populated) for row in conn.execute(sa.union_all(*probes))}
        estimates = self._row_estimates(conn, keys)
        return {key: TableStats(estimates.get(key, int(found[i])), found[i]) for i, key in enumerate(keys)}

    def _row_estimates(self, conn: Connection, keys: Sequence[TableKey]) -> dict[TableKey, int]:
        """Estimated rows per table from the catalog; without one, 0/1 from ``populated``."""
        return {}

    def columns_with_nulls(
        self, conn: Connection, columns: Collection[tuple[TableKey, str]]
    ) -> set[tuple[TableKey, str]]:
        wanted = sorted(set(columns))
        if not wanted:
            return set()
        probes = []
        for i, (key, column) in enumerate(wanted):
            table = self._sql_table(conn, key)
            probe = sa.select(sa.literal(1)).select_from(table).where(sa.column(column).is_(None))
            probes.append(sa.select(sa.literal(i).label("i"), sa.exists(probe).label("nulls")))
        rows = conn.execute(sa.union_all(*probes))
        return {wanted[row.i] for row in rows if row.nulls}

    def _equal_sql(self, left: str, right: str, type_: str) -> str:
        """SQL true when two expressions, as values of the column's type, are the same (NULL-safe)."""
        return f"(CAST(({left}) AS {type_}) IS NOT DISTINCT FROM CAST(({right}) AS {type_}))"

    def same_values(self, conn: Connection, pairs: Sequence[tuple[str, str, str]]) -> list[bool]:
        """Ask the server; a pair it cannot compare (a type without equality) is not equal."""
        if not pairs:
            return []
        sql = "SELECT " + ", ".join(f"{self._equal_sql(a, b, t)} AS v{i}" for i, (a, b, t) in enumerate(pairs))
        nest = self.transactional_ddl
        try:
            with _savepoint(conn, nest):
                row = conn.exec_driver_sql(sql).one()  # raw: default texts may hold colons
            return [bool(v) for v in row]
        except sa_exc.DBAPIError:
            pass
        answers = []
        for a, b, t in pairs:  # rare: one pair broke the batch; ask one at a time
            answer = False
            try:
                with _savepoint(conn, nest):
                    answer = bool(conn.exec_driver_sql(f"SELECT {self._equal_sql(a, b, t)}").scalar())
            except sa_exc.DBAPIError:
                answer = False
            answers.append(answer)
        return answers
