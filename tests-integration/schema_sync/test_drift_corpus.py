"""The drift corpus (``_drift_corpus.py``) on PostgreSQL, MariaDB and SQLite.

An *equal* case must plan nothing. A *not equal* case must plan an operation on the named
object; then applying it (every flag allowed) must leave a database whose re-plan is empty.
"""

from __future__ import annotations

import pytest

from _drift_corpus import CASES, Case
from storeroom_schema_sync import apply, plan
from storeroom_schema_sync.operations import Operation


def names(op: Operation, expect: str) -> bool:
    return expect in (op.table, op.name, f"{op.table}.{op.name}")


@pytest.mark.parametrize(("live", "case"), [pytest.param(c.dialect, c, id=c.id) for c in CASES], indirect=["live"])
def test_drift_case(live, case: Case) -> None:
    if case.ddl is not None:
        live.run(*case.ddl)
    else:
        live.create(case.live_models or case.desired)
    md = live.metadata()
    case.desired(md)
    p = plan(live.db, md)
    if case.expect is None:
        assert p.is_empty, f"false drift on an equal case:\n{p}"
        return
    assert any(names(o, case.expect) for o in p.operations), f"nothing planned on {case.expect}:\n{p}"
    if p.blocked:
        return  # refused on purpose (for example enum values removed); nothing to apply
    report = apply(live.db, p, allow_destructive=True, allow_hazards=True)
    assert report.in_sync, str(report)
    again = plan(live.db, md)
    assert again.is_empty, f"re-plan after apply is not empty:\n{again}"


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 150
    assert {c.dialect for c in CASES} == {"postgresql", "mysql", "sqlite"}
    assert sum(c.expect is None for c in CASES) >= 60
    assert sum(c.expect is not None for c in CASES) >= 50
