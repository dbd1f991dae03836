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

from storeroom.schema import Catalog, ColumnInfo

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

    def column(c: ColumnInfo) -> ColumnInfo:
        return replace(
            c,
            type=rename(c.type),
            default=None if c.default is None else rename(c.default),
            computed=None if c.computed is None else rename(c.computed),
        )

    tables = {}
    for table in catalog.tables.values():
        schema = mapping.get(table.schema, table.schema)
        tables[(schema, table.name)] = replace(
            table,
            schema=schema,
            columns=tuple(column(c) for c in table.columns),
            indexes=tuple(replace(i, definition=rename(i.definition)) for i in table.indexes),
            constraints=tuple(
                replace(
                    c,
                    definition=rename(c.definition),
                    referred_schema=None
                    if c.referred_schema is None
                    else mapping.get(c.referred_schema, c.referred_schema),
                )
                for c in table.constraints
            ),
        )
    enums = {(mapping.get(s, s), n): replace(e, schema=mapping.get(s, s)) for (s, n), e in catalog.enums.items()}
    return Catalog(frozenset(mapping.get(s, s) for s in catalog.schemas), tables, enums)


def comparable_default(text: str | None) -> str | None:
    """A default as compared: a serial's ``nextval('<its sequence>')`` is one value, whatever the sequence's name."""
    if text is None:
        return None
    return _NEXTVAL.sub("nextval(<sequence>)", text)
