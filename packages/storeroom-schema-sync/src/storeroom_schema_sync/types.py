"""Whether a column type change widens, narrows, or changes the kind of value (server spellings)."""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["TypeChange", "type_change", "type_family"]

TypeChange = Literal["same", "widen", "narrow", "other"]

_INTS = {
    "tinyint": 1,
    "smallint": 2,
    "int2": 2,
    "mediumint": 3,
    "integer": 4,
    "int": 4,
    "int4": 4,
    "bigint": 8,
    "int8": 8,
}
_FLOATS = {"real": 4, "float4": 4, "float": 4, "double precision": 8, "double": 8, "float8": 8}
_TEXTS = {"tinytext": 255, "text": 1 << 30, "mediumtext": 1 << 24, "longtext": 1 << 32, "clob": 1 << 32}
_VARCHAR = re.compile(r"^(?:character varying|varchar|nvarchar|varchar2|character|char|nchar)\s*\((\d+)\)$")
_NUMERIC = re.compile(r"^(?:numeric|decimal)\s*(?:\((\d+)(?:\s*,\s*(\d+))?\))?$")
_ENUM = re.compile(r"^enum\((.*)\)$")


def _parse(text: str) -> tuple[str, tuple[int, ...]]:
    t = (
        re.sub(r"\(\d+\)( unsigned)?$", "", text.lower().strip())
        if text.lower().split("(")[0] in _INTS
        else text.lower()
    )
    t = t.strip()
    unsigned = " unsigned" in text.lower()
    base = t.replace(" unsigned", "")
    if base in _INTS:
        return "int", (_INTS[base] * 2 + (1 if unsigned else 0),)
    if base in _FLOATS:
        return "float", (_FLOATS[base],)
    if base in _TEXTS:
        return "text", (_TEXTS[base],)
    if base in ("character varying", "varchar", "nvarchar(max)", "varchar(max)"):
        return "text", (1 << 30,)
    if m := _VARCHAR.match(base):
        return "text", (int(m.group(1)),)
    if m := _NUMERIC.match(base):
        precision = int(m.group(1) or 1000)
        scale = int(m.group(2) or 0)
        return "numeric", (precision - scale, scale)
    if m := _ENUM.match(base):
        return "enum", tuple(hash(v) for v in m.group(1).split(","))
    return base, ()


def type_change(before: str, after: str) -> TypeChange:
    if before == after:
        return "same"
    (fa, sa_), (fb, sb) = _parse(before), _parse(after)
    if fa == "int" and fb == "numeric" and sb[0] >= {2: 5, 4: 10, 8: 19}.get(sa_[0] // 2, 20):
        return "widen"  # every integer of the old size fits the new precision
    if fa != fb:
        return "other"
    if fa == "enum":
        return "widen" if list(sb[: len(sa_)]) == list(sa_) else "narrow"
    if not sa_ or not sb:
        return "other"
    if fa == "int":
        # unsigned and signed of one size hold different ranges: only a bigger size always widens
        if sb[0] // 2 > sa_[0] // 2 and (sb[0] % 2 == 0 or sa_[0] % 2 == 1):
            return "widen"
        return "narrow"
    return "widen" if all(b >= a for a, b in zip(sa_, sb, strict=False)) else "narrow"


def type_family(text: str) -> str:
    """``int``, ``float``, ``text``, ``numeric``, ``enum`` or the type's own name."""
    return _parse(text)[0]
