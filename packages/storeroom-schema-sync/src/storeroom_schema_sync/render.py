"""Operations as Alembic ``MigrateOperation`` objects: one rendering for to_sql, apply and the revision export.

Alembic and SQLAlchemy render every statement for the dialect; what they have no construct
for (PostgreSQL enum values, SQLite's table rebuild) is built from SQLAlchemy DDL elements.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations, ops
from sqlalchemy.dialects import postgresql

from storeroom_schema_sync.operations import Operation

__all__ = ["RenderContext", "Step", "alembic_operations", "offline_sql", "steps"]

#: on SQLite these changes rebuild the table (SQLite's ALTER TABLE cannot make them)
_SQLITE_REBUILD = {
    "alter_column_type",
    "alter_column_nullable",
    "alter_column_default",
    "alter_column_identity",
    "alter_column_comment",
    "replace_computed_column",
    "drop_column",
    "add_constraint",
    "drop_constraint",
    "replace_constraint",
}


@dataclass(frozen=True, slots=True)
class RenderContext:
    dialect: Any
    default_schema: str
    #: live column names per table (what a SQLite rebuild copies)
    live_columns: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    #: the desired tables by real ``(schema, name)``
    tables: Mapping[tuple[str, str], sa.Table] = field(default_factory=dict)


@dataclass(slots=True)
class Step:
    """The Alembic operations of one plan operation (a SQLite rebuild carries a whole table's)."""

    operation: Operation
    alembic: list[ops.MigrateOperation]
    #: the other plan operations this step also carries out (a SQLite rebuild)
    covers: list[Operation] = field(default_factory=list)


def _sql(ctx: RenderContext, element: Any) -> ops.ExecuteSQLOp:
    return ops.ExecuteSQLOp(str(element.compile(dialect=ctx.dialect)).strip())


def _column(col: sa.Column[Any]) -> sa.Column[Any]:
    """A detached copy of the column without its FKs, unique or index flags (those are separate operations)."""
    extra: list[Any] = []
    if col.computed is not None:
        extra.append(sa.Computed(col.computed.sqltext, persisted=col.computed.persisted))
    if col.identity is not None:
        extra.append(col.identity._copy())
    default = col.server_default
    server_default = sa.DefaultClause(default.arg) if isinstance(default, sa.DefaultClause) else None
    return sa.Column(
        col.name,
        col.type,
        *extra,
        nullable=col.nullable,
        server_default=server_default,
        comment=col.comment,
        autoincrement=col.autoincrement,
    )


def _without_type_creation(item: Any) -> Any:
    """A copy of an enum column whose type is not created along with the table (it exists by then)."""
    if not isinstance(item, sa.Column) or not isinstance(item.type, sa.Enum) or not item.type.native_enum:
        return item
    copy = item._copy()
    copy.type = _enum(item.type.schema, str(item.type.name), item.type.enums)
    return copy


def _default(col: sa.Column[Any]) -> Any:
    default = col.server_default
    if col.identity is not None:
        return col.identity
    return default.arg if isinstance(default, sa.DefaultClause) else None


def _existing(col: sa.Column[Any]) -> dict[str, Any]:
    return {
        "existing_type": col.type,
        "existing_nullable": col.nullable,
        "existing_server_default": _default(col) if col.identity is None else None,
        "existing_comment": col.comment,
    }


def _enum(schema: str | None, name: str, values: Sequence[str] = ()) -> postgresql.ENUM:
    return postgresql.ENUM(*values, name=name, schema=schema, create_type=False)


def _constraint_ops(
    op: Operation, facts: Mapping[str, Any], name: str | None, table: str
) -> list[ops.MigrateOperation]:
    kind = facts["kind"]
    schema = op.meta_schema
    if kind == "primary_key":
        return [ops.CreatePrimaryKeyOp(name, table, list(facts["columns"]), schema=schema)]
    if kind == "unique":
        return [ops.CreateUniqueConstraintOp(name, table, list(facts["columns"]), schema=schema)]
    if kind == "check":
        condition = str(facts["definition"]).strip()
        if condition.upper().startswith("CHECK"):
            condition = _unwrap(condition[5:].strip())  # SQLAlchemy adds the parentheses back
        return [ops.CreateCheckConstraintOp(name, table, sa.text(condition), schema=schema)]
    referred_schema = facts.get("referred_schema")
    return [
        ops.CreateForeignKeyOp(
            name,
            table,
            facts["referred_table"],
            list(facts["columns"]),
            list(facts["referred_columns"]),
            source_schema=schema,
            referent_schema=None
            if referred_schema in (None, op.schema if schema is None else None)
            else referred_schema,
            ondelete=facts.get("on_delete"),
            onupdate=facts.get("on_update"),
        )
    ]


def _unwrap(text: str) -> str:
    """``(a > 0)`` -> ``a > 0`` when the outer parentheses enclose the whole text."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(text) - 1:
            return text
    return text[1:-1].strip()


_DROP_TYPES = {"primary_key": "primary", "unique": "unique", "check": "check", "foreign_key": "foreignkey"}


def _drop_constraint(op: Operation, facts: Mapping[str, Any]) -> ops.MigrateOperation:
    return ops.DropConstraintOp(facts["name"], op.table or "", type_=_DROP_TYPES[facts["kind"]], schema=op.meta_schema)


def _alter(op: Operation, col: sa.Column[Any], dialect: str, **modify: Any) -> ops.AlterColumnOp:
    kw = _existing(col)
    if dialect == "mysql":  # MODIFY restates the whole column: state the desired one
        kw["autoincrement"] = op.after.get("identity") == "auto_increment"
    return ops.AlterColumnOp(op.table or "", op.name or "", schema=op.meta_schema, **kw, **modify)


def _operation(op: Operation, ctx: RenderContext) -> list[ops.MigrateOperation]:
    kind, table, schema, dialect = op.kind, op.table or "", op.meta_schema, ctx.dialect.name
    src = op.source
    if kind == "create_schema":
        return [_sql(ctx, sa.schema.CreateSchema(op.schema))]
    if kind == "create_enum":
        return [_sql(ctx, postgresql.CreateEnumType(_enum(schema, op.name or "", op.after["values"])))]
    if kind == "drop_enum":
        return [_sql(ctx, postgresql.DropEnumType(_enum(schema, op.name or "")))]
    if kind == "add_enum_values":
        return _enum_values(op, ctx)
    if kind == "create_table":
        table_op = ops.CreateTableOp.from_table(src)
        if dialect == "postgresql":  # named enums are created by their own operations, never by the table
            table_op.columns = [_without_type_creation(c) for c in table_op.columns]
        return [table_op]
    if kind == "drop_table":
        return [ops.DropTableOp(table, schema=schema)]
    if kind == "rename_table":
        return [ops.RenameTableOp(op.before["name"], table, schema=schema)]
    if kind == "alter_table_comment":
        comment = op.after.get("comment")
        if comment is None:
            return [ops.DropTableCommentOp(table, schema=schema, existing_comment=op.before.get("comment"))]
        return [ops.CreateTableCommentOp(table, comment, schema=schema, existing_comment=op.before.get("comment"))]
    if kind == "add_column":
        return [ops.AddColumnOp(table, _column(src), schema=schema)]
    if kind == "drop_column":
        return [ops.DropColumnOp(table, op.name or "", schema=schema)]
    if kind == "rename_column":
        existing = _existing(src) if src is not None else {}
        return [ops.AlterColumnOp(table, op.before["name"], schema=schema, modify_name=op.name, **existing)]
    if kind == "replace_computed_column":
        return [
            ops.DropColumnOp(table, op.name or "", schema=schema),
            ops.AddColumnOp(table, _column(src), schema=schema),
        ]
    if kind == "alter_column_type":
        extra: dict[str, Any] = {}
        if dialect == "postgresql":
            type_sql = src.type.compile(dialect=ctx.dialect)
            extra["postgresql_using"] = f"{ctx.dialect.identifier_preparer.quote(src.name)}::{type_sql}"
        return [_alter(op, src, dialect, modify_type=src.type, **extra)]
    if kind == "alter_column_nullable":
        return [_alter(op, src, dialect, modify_nullable=src.nullable)]
    if kind == "alter_column_default":
        return [_alter(op, src, dialect, modify_server_default=_default(src) if src.identity is None else None)]
    if kind == "alter_column_comment":
        alter = _alter(op, src, dialect, modify_comment=src.comment)
        alter.existing_comment = op.before.get("comment")
        return [alter]
    if kind == "alter_column_identity":
        return _identity(op, src, dialect)
    if kind in ("add_index", "replace_index"):
        create = ops.CreateIndexOp.from_index(src)
        if op.concurrent:
            create.kw["postgresql_concurrently"] = True
        if kind == "add_index":
            return [create]
        drop = ops.DropIndexOp(op.name or "", table, schema=schema)
        if op.concurrent:
            drop.kw["postgresql_concurrently"] = True
        return [drop, create]
    if kind == "drop_index":
        return [ops.DropIndexOp(op.name or "", table, schema=schema)]
    if kind == "add_constraint":
        return _constraint_ops(op, op.after, op.name, table)
    if kind == "replace_constraint":
        keep_name = op.after.get("name") if op.after.get("name") == op.name else None
        return [_drop_constraint(op, op.before), *_constraint_ops(op, op.after, keep_name or op.name, table)]
    if kind == "drop_constraint":
        return [_drop_constraint(op, op.before)]
    raise ValueError(f"cannot render {kind}")  # pragma: no cover - alter_enum is blocked before rendering


def _identity(op: Operation, src: sa.Column[Any], dialect: str) -> list[ops.MigrateOperation]:
    """Identity added, removed or changed; a serial's default goes first (a column has one or the other)."""
    out: list[ops.MigrateOperation] = []
    before = op.before.get("identity")
    if dialect == "mysql":
        return [_alter(op, src, dialect, modify_type=src.type)]  # MODIFY restates AUTO_INCREMENT
    if not before and op.before.get("default") is not None and src.identity is not None:
        drop = _alter(op, src, dialect, modify_server_default=None)
        drop.existing_server_default = sa.text(str(op.before["default"]))
        out.append(drop)
    alter = _alter(op, src, dialect, modify_server_default=src.identity)
    alter.existing_server_default = sa.Identity(always=before == "always") if before else None
    out.append(alter)
    return out


def _enum_values(op: Operation, ctx: RenderContext) -> list[ops.MigrateOperation]:
    """``ALTER TYPE ... ADD VALUE`` (no SQLAlchemy construct exists), quoted by the dialect's preparer."""
    preparer = ctx.dialect.identifier_preparer
    name = preparer.format_type(_enum(op.meta_schema, op.name or ""))
    old, new = list(op.before["values"]), list(op.after["values"])
    out: list[ops.MigrateOperation] = []
    for i, value in enumerate(new):
        if value in old:
            continue
        after = next((v for v in reversed(new[:i]) if v in old or v in new[:i]), None)
        literal = sa.literal(value).compile(dialect=ctx.dialect, compile_kwargs={"literal_binds": True})
        place = (
            f" AFTER {sa.literal(after).compile(dialect=ctx.dialect, compile_kwargs={'literal_binds': True})}"
            if after
            else (
                f" BEFORE {sa.literal(old[0]).compile(dialect=ctx.dialect, compile_kwargs={'literal_binds': True})}"
                if old
                else ""
            )
        )
        out.append(ops.ExecuteSQLOp(f"ALTER TYPE {name} ADD VALUE IF NOT EXISTS {literal}{place}"))
        old.insert(old.index(after) + 1 if after in old else 0, value)
    return out


def _sqlite_rebuild(table_ops: list[Operation], ctx: RenderContext) -> Step:
    """SQLite's documented table rebuild: new table, copy the rows, drop, rename, indexes."""
    first = table_ops[0]
    key = (first.schema, first.table or "")
    desired = ctx.tables[key]
    temp = f"_storeroom_rebuild_{desired.name}"
    scratch_md = sa.MetaData()
    for other in ctx.tables.values():  # the tables its foreign keys name must be there to render them
        if other is not desired:
            other.to_metadata(scratch_md)
    new = desired.to_metadata(scratch_md, name=temp)
    for index in list(new.indexes):
        new.indexes.discard(index)
    live = set(ctx.live_columns.get(key, ()))
    renamed = {o.name: o.before["name"] for o in table_ops if o.kind == "rename_column"}
    columns = [c for c in new.columns if c.computed is None and renamed.get(c.name, c.name) in live]
    source = sa.table(desired.name, *(sa.column(renamed.get(c.name, c.name)) for c in columns), schema=desired.schema)
    copy = new.insert().from_select([c.name for c in columns], sa.select(*source.columns))
    alembic: list[ops.MigrateOperation] = [
        ops.ExecuteSQLOp(str(sa.schema.CreateTable(new).compile(dialect=ctx.dialect)).strip()),
        ops.ExecuteSQLOp(str(copy.compile(dialect=ctx.dialect)).strip()),
        ops.DropTableOp(desired.name, schema=desired.schema),
        ops.RenameTableOp(temp, desired.name, schema=desired.schema),
    ]
    alembic += [ops.CreateIndexOp.from_index(index) for index in desired.indexes]
    return Step(first, alembic, covers=table_ops[1:])


def _needs_rebuild(op: Operation) -> bool:
    if op.kind == "add_column":  # SQLite adds a NOT NULL column only with a default
        return not op.after.get("nullable") and op.after.get("default") is None
    return op.kind in _SQLITE_REBUILD


def _sqlite_steps(operations: list[Operation], ctx: RenderContext) -> list[Step]:
    """Every change to a table that needs a rebuild goes into that one rebuild."""
    rebuilt = {(o.schema, o.table) for o in operations if _needs_rebuild(o)}
    groups: dict[tuple[str, str | None], list[Operation]] = {}
    for op in operations:
        if (op.schema, op.table) in rebuilt and op.kind not in ("create_table", "drop_table", "rename_table"):
            groups.setdefault((op.schema, op.table), []).append(op)
    out: list[Step] = []
    for op in operations:
        group = groups.get((op.schema, op.table))
        if group is None or op not in group:
            out.append(Step(op, _operation(op, ctx)))
        elif op is group[0]:
            out.append(_sqlite_rebuild(group, ctx))
    return out


def steps(operations: Iterable[Operation], ctx: RenderContext) -> list[Step]:
    """The plan's operations as Alembic operations, in order."""
    operations = list(operations)
    if ctx.dialect.name == "sqlite":
        return _sqlite_steps(operations, ctx)
    return [Step(op, _operation(op, ctx)) for op in operations]


class _AllNamedTypes(set[Any]):
    """Every named type counts as handled: plans create enums in their own operations."""

    def __contains__(self, item: object) -> bool:
        return True


def alembic_operations(context: MigrationContext) -> Operations:
    """Alembic ``Operations`` that never create a named type as a side effect of a table."""
    operations = Operations(context)
    memo = operations.impl.memo  # type: ignore[union-attr]  # a DefaultImpl: batch mode is not used
    memo["pg_enum"] = _AllNamedTypes()
    memo["pg_domain"] = _AllNamedTypes()
    return operations


def offline_sql(steps_: Iterable[Step], dialect: Any) -> list[str]:
    """Each step's statements as SQL text for ``dialect`` (Alembic's offline mode)."""
    texts = []
    for step in steps_:
        buffer = io.StringIO()
        context = MigrationContext.configure(
            dialect=dialect, opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True}
        )
        operations = alembic_operations(context)
        for alembic_op in step.alembic:
            operations.invoke(alembic_op)
        texts.append(buffer.getvalue().strip())
    return texts
