"""Every model this repository defines plans nothing against the tables it creates itself.

The unit-of-work journal is created by storeroom with its own DDL (``create_table_sql``); the
schema-sync journal by ``create_all``; the benchmark's models by ``create_all``. A plan of each
against what was created must be empty on PostgreSQL, MariaDB and SQLite.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from storeroom.uow import journal as uow_journal
from storeroom_schema_sync import apply, check, plan
from storeroom_schema_sync.journal import _metadata as schema_journal_metadata

ALL = ["postgresql", "mysql", "sqlite"]


def _in(live: Any, *tables: sa.Table) -> sa.MetaData:
    md = live.metadata()
    for table in tables:
        table.to_metadata(md, schema=live.schema)
    return md


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_the_unit_of_work_journal(live: Any) -> None:
    ddl = uow_journal.create_table_sql(live.db)
    if live.schema:
        ddl = ddl.replace(
            f"CREATE TABLE {uow_journal.JOURNAL_TABLE}", f"CREATE TABLE {live.prefix}{uow_journal.JOURNAL_TABLE}"
        )
    live.db.execute(ddl)
    md = _in(live, uow_journal._table())
    assert check(live.db, md).is_empty, str(plan(live.db, md))


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_the_schema_sync_journal(live: Any) -> None:
    md = _in(live, *schema_journal_metadata.tables.values())
    assert apply(live.db, plan(live.db, md)).in_sync
    assert check(live.db, md).is_empty


@pytest.mark.parametrize("live", ALL, indirect=True)
def test_the_benchmark_models(live: Any) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        from schema_sync_plan import models  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    md = models(live.schema, 5, expressions=live.dialect != "mysql")
    assert apply(live.db, plan(live.db, md)).in_sync
    assert check(live.db, md).is_empty
