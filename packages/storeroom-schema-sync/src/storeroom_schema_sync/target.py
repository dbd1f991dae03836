"""What a plan is computed for: the desired tables, from a MetaData or model classes."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from storeroom.errors import SchemaSyncError

__all__ = ["Target", "explicit_name", "resolve_target"]


@dataclass(frozen=True, slots=True)
class Target:
    """The desired tables and the MetaData schemas they live in.

    Tables are in the order given; sorting by dependency happens only where order matters
    (the tables a plan creates), since sorting a thousand tables costs more than reading them.
    """

    tables: tuple[sa.Table, ...]
    #: every MetaData schema of the tables (None = the database's default schema)
    schemas: tuple[str | None, ...]
    #: the ``tables=`` filter: table names the plan is limited to, or None for all
    only: frozenset[str] | None


def _tables_of(metadata: Any) -> list[sa.Table]:
    if isinstance(metadata, sa.MetaData):
        return list(metadata.tables.values())
    if isinstance(metadata, sa.Table):
        return [metadata]
    table = getattr(metadata, "__table__", None)
    if isinstance(table, sa.Table):
        return [table]
    if isinstance(metadata, Iterable) and not isinstance(metadata, str | bytes):
        found: dict[int, sa.Table] = {}
        for item in metadata:
            for t in _tables_of(item):
                found[id(t)] = t
        return list(found.values())
    raise SchemaSyncError(
        f"expected a SQLAlchemy MetaData, a Table, a model class with __table__, or a list of them; "
        f"got {type(metadata).__name__}"
    )


def resolve_target(metadata: Any, tables: Collection[str] | None = None) -> Target:
    """Desired tables from ``metadata``; ``tables`` names limit them (unknown names are an error)."""
    if isinstance(tables, str):
        tables = [tables]
    found = _tables_of(metadata)
    if not found and tables is None:
        raise SchemaSyncError("the target has no tables: nothing to compare (an empty MetaData would drop everything)")
    by_name: dict[str, sa.Table] = {}
    for table in found:
        by_name.setdefault(table.name, table)
        by_name.setdefault(table.fullname, table)
    only = None
    if tables is not None:
        unknown = sorted(set(tables) - set(by_name))
        if unknown:
            raise SchemaSyncError(f"tables= names tables the target does not define: {', '.join(unknown)}")
        only = frozenset(by_name[n].name for n in tables)
        found = [t for t in found if t.name in only]
    schemas = tuple(dict.fromkeys(t.schema for t in found)) or (None,)
    return Target(tuple(found), schemas, only)


def explicit_name(constraint: Any) -> str | None:
    """The name the code gave (directly or by naming convention), else None (the server picks one)."""
    name = getattr(constraint, "name", None)
    return str(name) if isinstance(name, str) and name else None
