from __future__ import annotations

from storeroom.schema import Catalog, ColumnInfo, ConstraintInfo, IndexInfo, TableInfo
from storeroom_schema_sync.normalize import comparable_default, rename_schemas, unqualify


def _catalog(schema: str) -> Catalog:
    table = TableInfo(
        schema,
        "c",
        (
            ColumnInfo("id", "integer", False, f"nextval('{schema}.c_id_seq'::regclass)"),
            ColumnInfo("m", f"{schema}.mood", True, f"'ok'::{schema}.mood"),
        ),
        (IndexInfo("ix", False, ("id",), "USING btree (id)"),),
        (
            ConstraintInfo(
                "fk", "foreign_key", ("p",), f'FOREIGN KEY (p) REFERENCES "{schema}".p(id)', schema, "p", ("id",)
            ),
        ),
    )
    return Catalog(frozenset({schema}), {(schema, "c"): table}, {})


def test_scratch_names_become_the_real_ones_everywhere_they_are_spelled() -> None:
    renamed = rename_schemas(_catalog("pg_temp_3"), {"pg_temp_3": "app"})
    table = renamed.tables[("app", "c")]
    assert table.columns[0].default == "nextval('app.c_id_seq'::regclass)"
    assert table.columns[1].type == "app.mood" and table.columns[1].default == "'ok'::app.mood"
    assert table.constraints[0].definition == 'FOREIGN KEY (p) REFERENCES "app".p(id)'
    assert table.constraints[0].referred_schema == "app"


def test_only_whole_qualifiers_are_renamed() -> None:
    renamed = rename_schemas(_catalog("s"), {"s": "app"})
    assert renamed.tables[("app", "c")].columns[1].default == "'ok'::app.mood"
    untouched = rename_schemas(_catalog("s"), {"x": "app"})
    assert untouched.tables[("s", "c")].columns[1].type == "s.mood"


def test_unqualify_drops_the_schema_from_texts_but_keeps_names() -> None:
    plain = unqualify(_catalog("app"), frozenset({"app"}))
    table = plain.tables[("app", "c")]
    assert table.columns[1].type == "mood"
    assert table.constraints[0].definition == "FOREIGN KEY (p) REFERENCES p(id)"


def test_a_serial_is_one_value_whatever_its_sequence_is_called() -> None:
    assert comparable_default("nextval('a.t_id_seq'::regclass)") == comparable_default(
        "nextval('t_old_id_seq'::regclass)"
    )
    assert comparable_default("0") == "0" and comparable_default(None) is None
