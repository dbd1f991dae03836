"""Desired catalog versus live catalog -> operations (unclassified), in the order they must run.

Both catalogs come from the same provider on the same server, so facts compare as text.
Names are matched where the code gave one; constraints the code left unnamed (the server
named them) are matched by their definition. Renames are made only when declared
(``info={"renamed_from": "old"}`` on a Table or Column), never guessed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from storeroom.schema import Catalog, ColumnInfo, ConstraintInfo, IndexInfo, TableInfo, TableKey
from storeroom_schema_sync.normalize import comparable_default
from storeroom_schema_sync.operations import Operation
from storeroom_schema_sync.target import Target, explicit_name

__all__ = ["IGNORED_TABLES", "Desired", "diff"]

#: storeroom's own bookkeeping tables: never planned, never dropped
IGNORED_TABLES = frozenset({"storeroom_schema_journal", "storeroom_uow_journal"})

_ORDER = [
    "create_schema",
    "create_enum",
    "add_enum_values",
    "alter_enum",
    "rename_table",
    "drop_constraint",
    "drop_index",
    "rename_column",
    "create_table",
    "add_column",
    "replace_computed_column",
    "alter_column_type",
    "alter_column_default",
    "alter_column_identity",
    "alter_column_nullable",
    "alter_column_comment",
    "alter_table_comment",
    "replace_index",
    "add_index",
    "replace_constraint",
    "add_constraint",
    "drop_column",
    "drop_table",
    "drop_enum",
]


@dataclass(frozen=True, slots=True)
class Desired:
    """The SQLAlchemy objects behind the desired catalog, by real key."""

    tables: Mapping[TableKey, sa.Table]
    default_schema: str
    truncate: Callable[[str], str]

    @classmethod
    def of(cls, target: Target, default_schema: str, max_length: int) -> Desired:
        def truncate(name: str) -> str:
            data = name.encode()
            return data[:max_length].decode(errors="ignore") if len(data) > max_length else name

        tables = {(t.schema or default_schema, truncate(t.name)): t for t in target.tables}
        return cls(tables, default_schema, truncate)

    def meta_schema(self, key: TableKey) -> str | None:
        table = self.tables.get(key)
        return table.schema if table is not None else (None if key[0] == self.default_schema else key[0])

    def explicit_names(self, key: TableKey) -> set[str]:
        table = self.tables[key]
        names = {explicit_name(c) for c in table.constraints} | {explicit_name(i) for i in table.indexes}
        return {self.truncate(n) for n in names if n}

    def index(self, key: TableKey, name: str) -> sa.Index | None:
        return next((i for i in self.tables[key].indexes if i.name and self.truncate(str(i.name)) == name), None)


def _column_facts(c: ColumnInfo) -> dict[str, Any]:
    return {"type": c.type, "nullable": c.nullable, "default": c.default, "identity": c.identity, "comment": c.comment}


def _constraint_facts(c: ConstraintInfo) -> dict[str, Any]:
    facts: dict[str, Any] = {"name": c.name, "kind": c.kind, "columns": list(c.columns), "definition": c.definition}
    if c.kind == "foreign_key":
        facts.update(
            referred_schema=c.referred_schema,
            referred_table=c.referred_table,
            referred_columns=list(c.referred_columns),
            on_delete=c.on_delete,
            on_update=c.on_update,
        )
    return facts


def _index_facts(i: IndexInfo) -> dict[str, Any]:
    return {"name": i.name, "unique": i.unique, "columns": list(i.columns), "definition": i.definition}


def _is_primary_key(c: ConstraintInfo) -> bool:
    return c.kind == "primary_key"


def _same_name(want: ConstraintInfo, c: ConstraintInfo) -> bool:
    return c.name == want.name and c.kind == want.kind


def _same_definition(want: ConstraintInfo, c: ConstraintInfo) -> bool:
    return c.kind == want.kind and c.definition == want.definition


def _same_columns(want: ConstraintInfo, c: ConstraintInfo) -> bool:
    return c.kind == want.kind and c.columns == want.columns


class _Differ:
    def __init__(
        self,
        desired: Catalog,
        live: Catalog,
        objects: Desired,
        only: Collection[str] | None,
        same_values: Callable[[list[tuple[str, str, str]]], list[bool]],
        fk_rebuild: bool = False,
    ) -> None:
        self.desired, self.live, self.objects, self.only = desired, live, objects, only
        self.same_values = same_values
        self.fk_rebuild = fk_rebuild
        self.ops: list[Operation] = []
        self._defaults: list[tuple[Operation, str, str, str]] = []

    def op(self, kind: str, key: TableKey | tuple[str, None], name: str | None = None, **kw: Any) -> Operation:
        operation = Operation(kind, key[0], key[1], name, meta_schema=self._meta(key), **kw)
        self.ops.append(operation)
        return operation

    def _meta(self, key: TableKey | tuple[str, None]) -> str | None:
        if key[1] is None:
            return None if key[0] == self.objects.default_schema else key[0]
        return self.objects.meta_schema((key[0], key[1]))

    def run(self) -> list[Operation]:
        for schema in sorted(
            s for s in {k[0] for k in self.desired.tables} | self.desired.schemas if s not in self.live.schemas
        ):
            self.op("create_schema", (schema, None))
        self._enums()
        live_tables = {  # storeroom's bookkeeping is never dropped, but compared when the models name it
            k: t for k, t in self.live.tables.items() if k[1] not in IGNORED_TABLES or k in self.desired.tables
        }
        if self.only is not None:
            live_tables = {k: t for k, t in live_tables.items() if k[1] in self.only or k in self.desired.tables}
        consumed: set[TableKey] = set()
        order = self._creation_order(live_tables)
        for key in order:
            wanted = self.desired.tables[key]
            source = self.objects.tables.get(key)
            current = live_tables.get(key)
            renamed_from = (source.info.get("renamed_from") if source is not None else None) or None
            if current is None and renamed_from:
                old = (key[0], self.objects.truncate(str(renamed_from)))
                if old in live_tables and old not in self.desired.tables:
                    self.op("rename_table", key, before={"name": old[1]}, after={"name": key[1]}, source=source)
                    current = live_tables[old]
                    consumed.add(old)
            if current is None:
                self.op("create_table", key, after={"columns": [c.name for c in wanted.columns]}, source=source)
                for index in wanted.indexes:
                    source_index = self.objects.index(key, index.name)
                    if source_index is not None:  # else the server makes it with the table (a MySQL FK's index)
                        self.op("add_index", key, index.name, after=_index_facts(index), source=source_index)
                continue
            consumed.add(key)
            self._table(key, wanted, current, source)
        if self.only is None:
            for key in sorted(set(live_tables) - consumed - set(self.desired.tables)):
                self.op("drop_table", key, before={"columns": [c.name for c in live_tables[key].columns]})
        self._resolve_defaults()
        if self.fk_rebuild:
            self._rebuild_foreign_keys()
        rank = {kind: i for i, kind in enumerate(_ORDER)}
        drops = [o for o in self.ops if o.kind == "drop_table"]
        others = sorted((o for o in self.ops if o.kind != "drop_table"), key=lambda o: rank[o.kind])
        tail = [o for o in others if o.kind == "drop_enum"]
        others = [o for o in others if o.kind != "drop_enum"]
        return others + self._drop_order(drops) + tail

    def _creation_order(self, live_tables: Mapping[TableKey, TableInfo]) -> list[TableKey]:
        """Existing tables as given; tables to create sorted so referenced ones come first."""
        keys = [k for k in self.objects.tables if k in self.desired.tables]
        keys += [k for k in self.desired.tables if k not in self.objects.tables]
        new = [k for k in keys if k not in live_tables and k in self.objects.tables]
        if len(new) < 2:
            return keys
        position = {id(t): i for i, t in enumerate(sa.schema.sort_tables([self.objects.tables[k] for k in new]))}
        ordered_new = sorted(new, key=lambda k: position[id(self.objects.tables[k])])
        slots, fresh = iter(ordered_new), set(new)
        return [next(slots) if k in fresh else k for k in keys]

    def _drop_order(self, drops: list[Operation]) -> list[Operation]:
        """Referencing tables before the tables they reference."""
        by_key = {(o.schema, o.table): o for o in drops}
        done: list[Operation] = []
        seen: set[Any] = set()

        def visit(key: Any, path: frozenset[Any]) -> None:
            if key in seen or key not in by_key:
                return
            for other, table in self.live.tables.items():
                if (
                    other in by_key
                    and other != key
                    and other not in path
                    and any(
                        c.kind == "foreign_key" and (c.referred_schema, c.referred_table) == key
                        for c in table.constraints
                    )
                ):
                    visit(other, path | {key})
            seen.add(key)
            done.append(by_key[key])

        for key in sorted(by_key):
            visit(key, frozenset())
        return done

    def _rebuild_foreign_keys(self) -> None:
        """MySQL refuses a type change on a column a foreign key uses: drop those keys first, add them after."""
        changed: set[tuple[str, str | None, str | None]] = {
            (o.schema, o.table, o.name) for o in self.ops if o.kind == "alter_column_type"
        }
        if not changed:
            return
        touched = {(o.schema, o.table, o.name) for o in self.ops if o.kind in ("drop_constraint", "replace_constraint")}
        for key, table in self.live.tables.items():
            for fk in (c for c in table.constraints if c.kind == "foreign_key"):
                uses: set[tuple[str, str | None, str | None]] = {(key[0], key[1], c) for c in fk.columns}
                uses |= {(fk.referred_schema or key[0], fk.referred_table, c) for c in fk.referred_columns}
                if not uses & changed or (key[0], key[1], fk.name) in touched:
                    continue
                wanted = self.desired.tables.get(key)
                again = next(
                    (
                        c
                        for c in (wanted.constraints if wanted else ())
                        if c.kind == "foreign_key" and c.columns == fk.columns and c.referred_table == fk.referred_table
                    ),
                    None,
                )
                self.op("drop_constraint", key, fk.name, before=_constraint_facts(fk) | {"rebuild": again is not None})
                if again is not None:
                    self.op(
                        "add_constraint",
                        key,
                        fk.name,
                        after=_constraint_facts(again) | {"name": fk.name, "rebuild": True},
                    )

    def _enums(self) -> None:
        for key, enum in sorted(self.desired.enums.items()):
            live = self.live.enums.get(key)
            if live is None:
                self.op("create_enum", (key[0], None), key[1], after={"values": list(enum.values)})
            elif live.values != enum.values:
                kept = [v for v in enum.values if v in live.values]
                kind = "add_enum_values" if kept == list(live.values) else "alter_enum"
                self.op(
                    kind,
                    (key[0], None),
                    key[1],
                    before={"values": list(live.values)},
                    after={"values": list(enum.values)},
                )
        if self.only is None:
            for key, enum in sorted(self.live.enums.items()):
                if key not in self.desired.enums and key[0] in {k[0] for k in self.desired.enums} | {
                    k[0] for k in self.desired.tables
                }:
                    self.op("drop_enum", (key[0], None), key[1], before={"values": list(enum.values)})

    def _table(self, key: TableKey, wanted: TableInfo, current: TableInfo, source: sa.Table | None) -> None:
        live_columns = {c.name: c for c in current.columns}
        renamed: dict[str, str] = {}
        for column in wanted.columns:
            if column.name in live_columns or source is None or column.name not in source.c:
                continue
            old = source.c[column.name].info.get("renamed_from")
            if old and old in live_columns and wanted.column(old) is None:
                renamed[old] = column.name
                self.op(
                    "rename_column",
                    key,
                    column.name,
                    before={"name": old},
                    after={"name": column.name},
                    source=source.c[column.name],
                )
        live_columns = {renamed.get(n, n): c for n, c in live_columns.items()}
        for column in wanted.columns:
            col_source = source.c[column.name] if source is not None and column.name in source.c else None
            have = live_columns.get(column.name)
            if have is None:
                self.op("add_column", key, column.name, after=_column_facts(column), source=col_source)
                continue
            self._column(key, column, have, col_source)
        for name, have in live_columns.items():
            if wanted.column(name) is None:
                self.op("drop_column", key, name, before=_column_facts(have))
        if (wanted.comment or None) != (current.comment or None):
            self.op(
                "alter_table_comment",
                key,
                before={"comment": current.comment},
                after={"comment": wanted.comment},
                source=source,
            )
        self._indexes(key, wanted, current)
        self._constraints(key, wanted, current)

    def _column(self, key: TableKey, want: ColumnInfo, have: ColumnInfo, source: Any) -> None:
        if (want.computed, want.persisted) != (have.computed, have.persisted):
            self.op(
                "replace_computed_column",
                key,
                want.name,
                before=_column_facts(have) | {"computed": have.computed},
                after=_column_facts(want) | {"computed": want.computed},
                source=source,
            )
            return
        facts = {"before": _column_facts(have), "after": _column_facts(want), "source": source}
        if want.type != have.type:
            self.op("alter_column_type", key, want.name, **facts)
        if want.identity != have.identity:
            self.op("alter_column_identity", key, want.name, **facts)
        if want.nullable != have.nullable:
            self.op("alter_column_nullable", key, want.name, **facts)
        if want.comment != have.comment:
            self.op("alter_column_comment", key, want.name, **facts)
        if want.identity is None and have.identity is None:
            wd, hd = comparable_default(want.default), comparable_default(have.default)
            if wd != hd:
                operation = self.op("alter_column_default", key, want.name, **facts)
                if wd is not None and hd is not None and "nextval(" not in wd + hd:
                    self._defaults.append((operation, wd, hd, want.type))

    def _resolve_defaults(self) -> None:
        """Value-equal defaults (``1.50`` / ``1.5``, ``now()`` / ``CURRENT_TIMESTAMP``) are not changes."""
        if not self._defaults:
            return
        equal = self.same_values([(a, b, t) for _, a, b, t in self._defaults])
        dropped = {id(op) for (op, *_), same in zip(self._defaults, equal, strict=True) if same}
        self.ops = [o for o in self.ops if id(o) not in dropped]

    def _indexes(self, key: TableKey, wanted: TableInfo, current: TableInfo) -> None:
        have = {i.name: i for i in current.indexes}
        for index in wanted.indexes:
            source = self.objects.index(key, index.name)
            old = have.pop(index.name, None)
            if source is None:  # the server makes it along with something else (a MySQL FK's index)
                if old is None:  # whatever the server named it
                    same = next((i for i in have.values() if i.definition == index.definition), None)
                    if same is not None:
                        have.pop(same.name)
                continue
            if old is None:
                same = next(
                    (i for i in have.values() if i.definition == index.definition and i.unique == index.unique), None
                )
                if same is not None and self.objects.truncate(index.name) not in self.objects.explicit_names(key):
                    have.pop(same.name)
                    continue
                self.op("add_index", key, index.name, after=_index_facts(index), source=source)
            elif (old.definition, old.unique) != (index.definition, index.unique):
                self.op(
                    "replace_index", key, index.name, before=_index_facts(old), after=_index_facts(index), source=source
                )
        for old in have.values():
            self.op("drop_index", key, old.name, before=_index_facts(old))

    def _constraints(self, key: TableKey, wanted: TableInfo, current: TableInfo) -> None:
        explicit = self.objects.explicit_names(key)
        have = list(current.constraints)

        def take(match: Callable[[ConstraintInfo], bool]) -> ConstraintInfo | None:
            found = next((c for c in have if match(c)), None)
            if found is not None:
                have.remove(found)
            return found

        pending = []
        for want in wanted.constraints:  # first pass: explicit names, and exact definitions
            if want.kind == "primary_key":
                old = take(_is_primary_key)
            elif want.name in explicit:
                old = take(functools.partial(_same_name, want))
            else:
                old = take(functools.partial(_same_definition, want))
            if old is None:
                pending.append(want)
            elif old.definition != want.definition:
                self.op(
                    "replace_constraint", key, old.name, before=_constraint_facts(old), after=_constraint_facts(want)
                )
        for want in pending:  # unnamed, changed: pair with a same-kind constraint on the same columns
            old = None if want.name in explicit else take(functools.partial(_same_columns, want))
            if old is None:
                self.op(
                    "add_constraint", key, want.name if want.name in explicit else None, after=_constraint_facts(want)
                )
            else:
                self.op(
                    "replace_constraint", key, old.name, before=_constraint_facts(old), after=_constraint_facts(want)
                )
        for old in have:
            self.op("drop_constraint", key, old.name, before=_constraint_facts(old))


def diff(
    desired: Catalog,
    live: Catalog,
    objects: Desired,
    only: Collection[str] | None,
    same_values: Callable[[list[tuple[str, str, str]]], list[bool]],
    fk_rebuild: bool = False,
) -> list[Operation]:
    return _Differ(desired, live, objects, only, same_values, fk_rebuild).run()


def referenced(ops: Iterable[Operation]) -> set[TableKey]:
    """Existing tables the operations change (for the data probes classification needs)."""
    return {
        (o.schema, o.table) for o in ops if o.table and o.kind not in ("create_table", "drop_table", "rename_table")
    }
