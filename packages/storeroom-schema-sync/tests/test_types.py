from __future__ import annotations

import pytest

from storeroom_schema_sync.types import type_change


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        ("integer", "bigint", "widen"),
        ("int(11)", "bigint(20)", "widen"),
        ("smallint", "integer", "widen"),
        ("bigint", "integer", "narrow"),
        ("int(10) unsigned", "int(11)", "narrow"),
        ("int(10) unsigned", "bigint(20)", "widen"),
        ("character varying(20)", "character varying(30)", "widen"),
        ("character varying(30)", "character varying(20)", "narrow"),
        ("character varying(30)", "text", "widen"),
        ("text", "character varying(30)", "narrow"),
        ("numeric(10,2)", "numeric(12,2)", "widen"),
        ("numeric(10,2)", "numeric(10,3)", "narrow"),
        ("numeric(10,2)", "numeric(11,3)", "widen"),
        ("real", "double precision", "widen"),
        ("enum('a','b')", "enum('a','b','c')", "widen"),
        ("enum('a','b')", "enum('b','a')", "narrow"),
        ("integer", "text", "other"),
        ("jsonb", "json", "other"),
        ("integer", "integer", "same"),
    ],
)
def test_type_changes(before: str, after: str, change: str) -> None:
    assert type_change(before, after) == change
