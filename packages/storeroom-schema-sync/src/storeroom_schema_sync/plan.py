"""``plan`` and ``check``: the operations that bring a live database to a MetaData, classified."""

from __future__ import annotations

import gc
import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from storeroom.errors import SchemaSyncError
from storeroom.schema import SchemaProvider
from storeroom_schema_sync.classify import LARGE_TABLE_ROWS, classify
from storeroom_schema_sync.desired import desired_catalog
from storeroom_schema_sync.diff import Desired, diff, referenced
from storeroom_schema_sync.normalize import unqualify
from storeroom_schema_sync.operations import DESTRUCTIVE, HAZARDOUS, SAFE, Operation
from storeroom_schema_sync.render import RenderContext, Step, offline_sql, steps
from storeroom_schema_sync.revision import revision_file
from storeroom_schema_sync.target import Target, resolve_target

__all__ = ["Plan", "check", "engine_of", "plan", "plan_on", "provider_for"]


@dataclass(eq=False)
class Plan:
    """What ``plan`` found: ``operations`` in the order they run, and how to render them."""

    operations: list[Operation]
    dialect: Any = field(repr=False)
    database: str
    default_schema: str
    target: Target = field(repr=False)
    live_columns: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, repr=False)
    large_table_rows: int = LARGE_TABLE_ROWS

    @property
    def safe(self) -> list[Operation]:
        return [o for o in self.operations if o.safety == SAFE]

    @property
    def hazardous(self) -> list[Operation]:
        return [o for o in self.operations if o.safety == HAZARDOUS]

    @property
    def destructive(self) -> list[Operation]:
        return [o for o in self.operations if o.safety == DESTRUCTIVE]

    @property
    def blocked(self) -> list[Operation]:
        """Operations that cannot succeed as planned (refused even with every allow flag)."""
        return [o for o in self.operations if o.blocked]

    @property
    def is_empty(self) -> bool:
        return not self.operations

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self.operations)

    def render_context(self) -> RenderContext:
        tables = {(t.schema or self.default_schema, t.name): t for t in self.target.tables}
        return RenderContext(self.dialect, self.default_schema, self.live_columns, tables)

    def steps(self, operations: Collection[Operation] | None = None) -> list[Step]:
        chosen = self.operations if operations is None else [o for o in self.operations if o in operations]
        return steps([o for o in chosen if not o.blocked], self.render_context())

    def to_sql(self) -> str:
        """The DDL for this plan's dialect, as Alembic renders it; statements run outside the
        transaction (CONCURRENTLY) come last under a comment. Blocked operations are listed, not rendered."""
        plan_steps = self.steps()
        inside = [s for s in plan_steps if not s.operation.concurrent]
        outside = [s for s in plan_steps if s.operation.concurrent]
        parts = [f"-- {s.operation}\n{sql}" for s, sql in zip(inside, offline_sql(inside, self.dialect), strict=True)]
        if outside:
            parts.append("-- outside a transaction (cannot run inside one):")
            parts += [
                f"-- {s.operation}\n{sql}" for s, sql in zip(outside, offline_sql(outside, self.dialect), strict=True)
            ]
        parts += [f"-- BLOCKED {o}: {o.blocked}" for o in self.blocked]
        return "\n\n".join(parts) + ("\n" if parts else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "dialect": self.dialect.name,
            "in_sync": self.is_empty,
            "summary": {
                "safe": len(self.safe),
                "hazardous": len(self.hazardous),
                "destructive": len(self.destructive),
                "blocked": len(self.blocked),
            },
            "operations": [o.as_dict() for o in self.operations],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent, ensure_ascii=False, default=str)

    def to_alembic(
        self, message: str = "schema sync", *, revision: str | None = None, down_revision: str | None = None
    ) -> str:
        """This plan as an Alembic revision file (for teams that keep migrations)."""
        return revision_file(self, message, revision=revision, down_revision=down_revision)

    def __str__(self) -> str:
        if self.is_empty:
            return f"database {self.database!r} is in sync"
        lines = [f"{len(self.operations)} change(s) for database {self.database!r}:"]
        for op in self.operations:
            flag = "BLOCKED" if op.blocked else op.safety
            lines.append(f"  [{flag}] {op}" + (f" - {'; '.join(op.reasons)}" if op.reasons else ""))
        return "\n".join(lines)


def engine_of(db: Any) -> Engine:
    """The sync SQLAlchemy engine behind a storeroom database (or an Engine given directly)."""
    if isinstance(db, Engine):
        return db
    engine = getattr(db, "engine", None)
    if isinstance(engine, Engine):
        return engine
    raise SchemaSyncError(
        f"schema sync needs a sync storeroom DatabaseInterface (room.database()) or a SQLAlchemy Engine; "
        f"got {type(db).__name__}"
    )


def provider_for(dialect: Any, plugins: Any = None) -> SchemaProvider:
    """The registered provider for a SQLAlchemy dialect (``PluginNotFoundError`` says what to install)."""
    if plugins is None:
        from storeroom.plugins import get_plugin_manager

        plugins = get_plugin_manager()
    cls = plugins.schema_providers.get(dialect.name)
    return cls()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a plan allocates its catalogs.

    Reading a thousand tables allocates a few hundred thousand small, acyclic objects; with a
    large MetaData alive, each full collection that triggers walks every model object again,
    which doubled the time of a plan. Reference counting still frees everything; the collector
    is restored (and runs as usual) as soon as the plan is made.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def plan_on(
    conn: Connection, provider: SchemaProvider, target: Target, database: str, large_table_rows: int = LARGE_TABLE_ROWS
) -> Plan:
    """The plan, computed on ``conn`` (inside the caller's transaction, if any)."""
    with _collector_paused():
        return _plan_on(conn, provider, target, database, large_table_rows)


def _plan_on(conn: Connection, provider: SchemaProvider, target: Target, database: str, large_table_rows: int) -> Plan:
    default = provider.default_schema(conn)
    schemas = sorted({s or default for s in target.schemas})
    live = provider.read_catalog(conn, schemas)
    desired, unqualified = desired_catalog(conn, provider, target, default)
    live = unqualify(live, unqualified)
    objects = Desired.of(target, default, conn.dialect.max_identifier_length or 63)
    operations = diff(
        desired,
        live,
        objects,
        target.only,
        lambda pairs: provider.same_values(conn, pairs),
        fk_rebuild=conn.dialect.name == "mysql",
    )
    touched = referenced(operations) & set(live.tables)
    stats = provider.table_stats(conn, touched) if touched else {}
    needs_check = {
        ((o.schema, o.table or ""), o.name or "")
        for o in operations
        if o.kind == "alter_column_nullable"
        and not o.after.get("nullable")
        and stats.get((o.schema, o.table or ""))
        and stats[(o.schema, o.table or "")].populated
    }
    nulls = provider.columns_with_nulls(conn, needs_check) if needs_check else set()
    classify(operations, stats, nulls, conn.dialect.name, provider.concurrent_indexes, large_table_rows)
    live_columns = {k: tuple(c.name for c in t.columns) for k, t in live.tables.items() if k in touched}
    return Plan(operations, conn.dialect, database, default, target, live_columns, large_table_rows)


def plan(
    db: Any, metadata: Any, tables: Collection[str] | None = None, *, large_table_rows: int = LARGE_TABLE_ROWS
) -> Plan:
    """The operations that make ``db`` match ``metadata`` (a MetaData, or model classes with ``__table__``).

    ``tables`` limits the plan to those tables: others are neither reported nor dropped.
    Nothing is changed: the desired schema is rendered into scratch space and thrown away.
    """
    target = resolve_target(metadata, tables)
    engine = engine_of(db)
    provider = provider_for(engine.dialect)
    with engine.connect() as conn:
        if not provider.transactional_ddl:  # its DDL commits anyway: scratch space needs autocommit
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            return plan_on(conn, provider, target, getattr(db, "name", "default"), large_table_rows)
        finally:
            conn.rollback()


def check(db: Any, metadata: Any, tables: Collection[str] | None = None) -> Plan:
    """The plan; empty (``plan.is_empty``) means the database is in sync with the models."""
    return plan(db, metadata, tables)
