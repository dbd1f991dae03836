"""One change to the schema, named, classified and with its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["DESTRUCTIVE", "HAZARDOUS", "SAFE", "Operation", "Safety"]

Safety = Literal["safe", "hazardous", "destructive"]
SAFE: Safety = "safe"
HAZARDOUS: Safety = "hazardous"
DESTRUCTIVE: Safety = "destructive"

_VERBS = {
    "create_schema": "create schema",
    "create_enum": "create enum",
    "add_enum_values": "add values to enum",
    "alter_enum": "change enum",
    "drop_enum": "drop enum",
    "create_table": "create table",
    "drop_table": "drop table",
    "rename_table": "rename table",
    "alter_table_comment": "change comment of table",
    "add_column": "add column",
    "drop_column": "drop column",
    "rename_column": "rename column",
    "alter_column_type": "change type of column",
    "alter_column_nullable": "change nullability of column",
    "alter_column_default": "change default of column",
    "alter_column_identity": "change identity of column",
    "alter_column_comment": "change comment of column",
    "replace_computed_column": "change computed column",
    "add_index": "create index",
    "drop_index": "drop index",
    "replace_index": "rebuild index",
    "add_constraint": "add constraint",
    "drop_constraint": "drop constraint",
    "replace_constraint": "replace constraint",
}


@dataclass(eq=False)
class Operation:
    """A change the plan makes. ``str(op)`` names the object: ``add column public.users.email``.

    ``before`` / ``after`` hold the facts compared (the server's spelling); ``safety`` is
    ``safe``, ``hazardous`` or ``destructive``, with ``reasons``; ``blocked`` says why the
    change cannot succeed as planned (it is refused even with every allow flag).
    """

    kind: str
    schema: str
    table: str | None = None
    name: str | None = None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    safety: Safety = SAFE
    reasons: list[str] = field(default_factory=list)
    blocked: str | None = None
    #: built outside the transaction without blocking writes (PostgreSQL CREATE INDEX CONCURRENTLY)
    concurrent: bool = False
    #: the desired SQLAlchemy object (Table, Column, Index) rendering uses; never serialized
    source: Any = field(default=None, repr=False)
    #: the MetaData schema of the object (None: the database's default schema), for rendering
    meta_schema: str | None = field(default=None, repr=False)

    @property
    def object_name(self) -> str:
        """``schema.table.name`` (or as much of it as applies)."""
        return ".".join(part for part in (self.schema, self.table, self.name) if part)

    @property
    def key(self) -> str:
        """Identity of the change (kind and object), stable across plans of the same drift."""
        return f"{self.kind}:{self.object_name}"

    def __str__(self) -> str:
        what = self.object_name if self.kind not in ("create_schema",) else self.schema
        text = f"{_VERBS.get(self.kind, self.kind)} {what}"
        detail = self.detail()
        return f"{text} ({detail})" if detail else text

    def detail(self) -> str:
        keys = [
            k
            for k in ("type", "nullable", "default", "identity", "comment", "values", "definition", "name")
            if k in self.before or k in self.after
        ]
        parts = []
        for k in keys:
            old, new = self.before.get(k), self.after.get(k)
            if k in self.before and k in self.after and old == new:
                continue
            if k in self.before and k in self.after:
                parts.append(
                    f"{k}: {old!r} -> {new!r}"
                    if k != "nullable"
                    else ("NULL -> NOT NULL" if not new else "NOT NULL -> NULL")
                )
            elif k in self.after and new is not None and k != "name":
                if k == "nullable":
                    parts.append("NULL" if new else "NOT NULL")
                else:
                    parts.append(f"{new}" if k in ("type", "definition") else f"{k} {new!r}")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "object": self.object_name,
            "schema": self.schema,
            "table": self.table,
            "name": self.name,
            "description": str(self),
            "safety": self.safety,
            "reasons": list(self.reasons),
            "blocked": self.blocked,
            "concurrent": self.concurrent,
            "before": self.before,
            "after": self.after,
        }
