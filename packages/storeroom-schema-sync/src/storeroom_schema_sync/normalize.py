"""The one normalizer both sides pass through.

The server already spells both sides the same way (they were read by the same queries on
the same server); what is left is what scratch space changes by construction: the schema
names (scratch -> real, also inside texts such as ``REFERENCES pg_temp_3.users(id)``) and the
names of sequences behind serial columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from storeroom.schema import Catalog, ColumnInfo, ConstraintInfo, IndexInfo

__all__ = ["comparable_default", "rename_schemas", "unqualify"]

_NEXTVAL = re.compile(r"nextval\('[^']*'(::regclass)?\)")


def _renamer(mapping: Mapping[str, str], dot: bool = False) -> Callable[[str], str]:
    if not mapping:
        return lambda text: text
    # a qualified name: the scratch schema, bare or quoted, right before a dot
    pattern = re.compile(
        r"(?<![\w$\"`\[])(?:"
        + "|".join(
            rf"\"{re.escape(s)}\"|`{re.escape(s)}`|\[{re.escape(s)}\]|{re.escape(s)}"
            for s in sorted(mapping, key=len, reverse=True)
        )
        + (r")\." if dot else r")(?=\.)")
    )

    def rename(text: str) -> str:
        def sub(match: re.Match[str]) -> str:
            found = match.group(0)
            if dot:
                return mapping[found[:-1].strip('"`[]')]
            bare = found.strip('"`[]')
            real = mapping[bare]
            return found.replace(bare, real) if found != bare else real

        return pattern.sub(sub, text)

    return rename


def unqualify(catalog: Catalog, schemas: frozenset[str]) -> Catalog:
    """``catalog`` with ``schema.`` dropped from its texts for ``schemas`` (names stay as they are)."""
    if not schemas:
        return catalog
    return _rewrite(catalog, {s: s for s in schemas}, _renamer(dict.fromkeys(schemas, ""), dot=True))


def rename_schemas(catalog: Catalog, mapping: Mapping[str, str]) -> Catalog:
    """``catalog`` with each scratch schema named as the real one it stands for."""
    return _rewrite(catalog, mapping, _renamer(mapping))


def _rewrite(catalog: Catalog, mapping: Mapping[str, str], rename: Callable[[str], str]) -> Catalog:
    """The catalog with schemas mapped and texts renamed; unchanged objects are kept as they are
    (a thousand-table catalog is mostly unchanged, and copying it would double its cost)."""

    def text(value: str | None) -> str | None:
        return None if value is None else rename(value)

    def column(c: ColumnInfo) -> ColumnInfo:
        type_, default, computed = rename(c.type), text(c.default), text(c.computed)
        if (type_, default, computed) == (c.type, c.default, c.computed):
            return c
        return replace(c, type=type_, default=default, computed=computed)

    def index(i: IndexInfo) -> IndexInfo:
        definition = rename(i.definition)
        return i if definition == i.definition else replace(i, definition=definition)

    def constraint(c: ConstraintInfo) -> ConstraintInfo:
        definition = rename(c.definition)
        referred = None if c.referred_schema is None else mapping.get(c.referred_schema, c.referred_schema)
        if (definition, referred) == (c.definition, c.referred_schema):
            return c
        return replace(c, definition=definition, referred_schema=referred)

    tables = {}
    for table in catalog.tables.values():
        schema = mapping.get(table.schema, table.schema)
        columns = tuple(column(c) for c in table.columns)
        indexes = tuple(index(i) for i in table.indexes)
        constraints = tuple(constraint(c) for c in table.constraints)
        same = schema == table.schema and all(
            a is b
            for a, b in zip(
                (*columns, *indexes, *constraints), (*table.columns, *table.indexes, *table.constraints), strict=True
            )
        )
        tables[(schema, table.name)] = (
            table if same else replace(table, schema=schema, columns=columns, indexes=indexes, constraints=constraints)
        )
    enums = {(mapping.get(s, s), n): replace(e, schema=mapping.get(s, s)) for (s, n), e in catalog.enums.items()}
    return Catalog(frozenset(mapping.get(s, s) for s in catalog.schemas), tables, enums)


def comparable_default(text: str | None) -> str | None:
    """A default as compared: a serial's ``nextval('<its sequence>')`` is one value, whatever the sequence's name."""
    if text is None:
        return None
    return _NEXTVAL.sub("nextval(<sequence>)", text)
