"""Safe, hazardous or destructive - and why - for each operation, from the facts and the data.

The data probes (row estimates, NULLs in columns about to become NOT NULL) run once for all
the tables a plan touches. A change that cannot succeed (NOT NULL over NULLs, a NOT NULL
column without a default on a table with rows) is ``blocked``: refused whatever the flags.
"""

from __future__ import annotations

from collections.abc import Mapping

from storeroom.schema import TableKey, TableStats
from storeroom_schema_sync.operations import DESTRUCTIVE, HAZARDOUS, SAFE, Operation
from storeroom_schema_sync.types import type_change, type_family

__all__ = ["LARGE_TABLE_ROWS", "classify"]

#: from this many (estimated) rows a blocking index build is a hazard
LARGE_TABLE_ROWS = 100_000

_ADDITIVE = {
    "create_schema": "additive: a new schema",
    "create_enum": "additive: a new type",
    "add_enum_values": "additive: enum values appended, existing values keep their meaning",
    "create_table": "additive: a new table",
    "rename_table": "declared rename (renamed_from): data is kept",
    "rename_column": "declared rename (renamed_from): data is kept",
    "alter_column_default": "default-only change: existing rows are untouched",
    "alter_column_comment": "comment-only change",
    "alter_table_comment": "comment-only change",
}

#: type changes the server does in place, without rewriting the table
_IN_PLACE = {"postgresql": ("text",), "mysql": ("enum",), "sqlite": (), "mssql": ("text",)}


def _rows(stats: TableStats | None) -> str:
    return "a table with rows" if stats is None else f"a table of ~{stats.rows:,} rows"


def classify(
    ops: list[Operation],
    stats: Mapping[TableKey, TableStats],
    nulls: set[tuple[TableKey, str]],
    dialect: str,
    concurrent_indexes: bool,
    large_table_rows: int = LARGE_TABLE_ROWS,
) -> None:
    """Set ``safety``, ``reasons``, ``blocked`` and ``concurrent`` on each operation, in place."""
    new_tables = {(o.schema, o.table) for o in ops if o.kind == "create_table"}
    for op in ops:
        key = (op.schema, op.table or "")
        st = stats.get(key)
        populated = key not in new_tables and (st is None or st.populated) and op.table is not None
        large = populated and st is not None and st.rows >= large_table_rows
        kind = op.kind
        if kind in _ADDITIVE:
            op.safety, op.reasons = SAFE, [_ADDITIVE[kind]]
        elif kind == "alter_enum":
            op.safety = DESTRUCTIVE
            op.reasons = ["enum values removed or reordered: rows holding them would have no value"]
            op.blocked = "removing or reordering enum values needs the type rebuilt by hand"
        elif kind in ("drop_constraint", "add_constraint") and (op.before.get("rebuild") or op.after.get("rebuild")):
            op.safety = HAZARDOUS if populated and kind == "add_constraint" else SAFE
            op.reasons = ["foreign key dropped and added again around a type change of a column it uses"]
            if populated and kind == "add_constraint":
                op.reasons.append(f"validates {_rows(st)} under a lock")
        elif kind.startswith("drop_"):
            what = {
                "drop_table": "the table and all its rows",
                "drop_column": "the column and its values",
                "drop_index": "an index (queries relying on it slow down)",
                "drop_constraint": "a constraint (the rule it enforced is gone)",
                "drop_enum": "a type",
            }[kind]
            op.safety, op.reasons = DESTRUCTIVE, [f"drops {what}"]
        elif kind == "add_column":
            after = op.after
            if after.get("nullable") or after.get("default") is not None or after.get("identity"):
                op.safety, op.reasons = SAFE, ["additive: a nullable column or one with a default"]
            elif populated and (st is None or st.populated):
                op.safety, op.reasons = HAZARDOUS, ["NOT NULL without a default on a table with rows"]
                op.blocked = (
                    f"a NOT NULL column without a default cannot be added to {_rows(st)}; give it a server_default"
                )
            else:
                op.safety, op.reasons = SAFE, ["additive: the table is empty"]
        elif kind == "alter_column_nullable":
            if op.after.get("nullable"):
                op.safety, op.reasons = SAFE, ["NOT NULL -> NULL: every existing value stays valid"]
            elif (key, op.name or "") in nulls:
                op.safety, op.reasons = HAZARDOUS, ["NULL -> NOT NULL over existing NULLs"]
                op.blocked = f"column {op.object_name} holds NULLs: NOT NULL cannot be added until they are filled"
            elif populated:
                op.safety, op.reasons = HAZARDOUS, [f"NULL -> NOT NULL scans {_rows(st)} under an exclusive lock"]
            else:
                op.safety, op.reasons = SAFE, ["NULL -> NOT NULL on an empty table"]
        elif kind == "alter_column_type":
            change = type_change(str(op.before.get("type")), str(op.after.get("type")))
            described = f"{op.before.get('type')} -> {op.after.get('type')}"
            if change in ("narrow", "other"):
                op.safety = DESTRUCTIVE
                op.reasons = [
                    f"type {described} {'narrows' if change == 'narrow' else 'changes'} the values a column holds: "
                    "existing values may be cut or the change may fail"
                ]
            elif populated and not _in_place(dialect, str(op.before.get("type")), str(op.after.get("type"))):
                op.safety, op.reasons = HAZARDOUS, [f"type {described} rewrites {_rows(st)} under an exclusive lock"]
            else:
                op.safety, op.reasons = SAFE, [f"type {described} widens: every value fits"]
        elif kind == "alter_column_identity":
            if populated:
                op.safety = HAZARDOUS
                op.reasons = ["identity changed on a table with rows: its sequence must start past the existing values"]
            else:
                op.safety, op.reasons = SAFE, ["identity change on an empty table"]
        elif kind == "replace_computed_column":
            op.safety = HAZARDOUS if populated else SAFE
            op.reasons = [
                "computed expression changed: the column is dropped and added again"
                + (f", rewriting {_rows(st)}" if populated else "")
            ]
        elif kind in ("add_index", "replace_index"):
            unique = bool(op.after.get("unique"))
            reasons = []
            safety = SAFE
            if populated and concurrent_indexes and large:
                op.concurrent = True
                reasons.append(f"built CONCURRENTLY after the transaction ({_rows(st)}): writes are not blocked")
            elif large:
                safety = HAZARDOUS
                reasons.append(f"built without CONCURRENTLY on {_rows(st)}: writes wait until it is done")
            if populated and unique:
                safety = HAZARDOUS
                reasons.append("unique over existing rows: fails if they hold duplicates")
            if kind == "replace_index":
                reasons.append("definition changed: dropped and built again")
            op.safety, op.reasons = safety, reasons or ["additive: a new index"]
        elif kind in ("add_constraint", "replace_constraint"):
            if populated:
                op.safety = HAZARDOUS
                op.reasons = [f"validates {_rows(st)} under a lock; fails if a row breaks it"]
            else:
                op.safety, op.reasons = SAFE, ["additive: the table is empty"]
        else:  # pragma: no cover - every kind the differ makes is listed above
            op.safety, op.reasons = HAZARDOUS, [f"unclassified change {kind}"]


def _in_place(dialect: str, before: str, after: str) -> bool:
    """Widenings the server does as a catalog change (PostgreSQL varchar(n) -> varchar(m > n) / text)."""
    families = _IN_PLACE.get(dialect, ())
    return type_family(before) in families and type_family(after) in families
