"""A MariaDB apply killed midway (SIGKILL, right after a DDL statement committed and before its
journal row said so) is resumed by applying the same plan again: finished steps are skipped,
the interrupted one is recognised as done, the rest run, and the re-plan is empty."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from storeroom_schema_sync import apply, check, plan
from storeroom_schema_sync.apply import plan_id
from storeroom_schema_sync.journal import JOURNAL_TABLE

MODELS = """
import sqlalchemy as sa

def models(extra):
    md = sa.MetaData()
    t = sa.Table("orders", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("total", sa.Integer),
                 *(sa.Column(f"c{i}", sa.Integer) for i in range(extra)))
    if extra:
        sa.Index("ix_orders_total", t.c.total)
        sa.Index("ix_orders_c0", t.c.c0)
    return md
"""

CHILD = """
import os, signal, sys
import sqlalchemy as sa
from storeroom_mysql import MySQLDatabase
from storeroom_schema_sync import apply, plan
from models import models

db = MySQLDatabase(sys.argv[1], name="main")
p = plan(db, models(4))
ddl = []

@sa.event.listens_for(db.engine, "after_cursor_execute")
def crash(conn, cursor, statement, *args):
    text = statement.lstrip().upper()
    if text.startswith(("ALTER TABLE ORDERS", "CREATE INDEX")) and "STOREROOM_SCRATCH" not in text:
        ddl.append(statement)
        if len(ddl) == 3:  # the third DDL step has committed; its journal row still says "started"
            os.kill(os.getpid(), signal.SIGKILL)

apply(db, p)
print("not killed")
"""


def test_apply_killed_midway_resumes(live_mariadb: Any, tmp_path: Path) -> None:
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "child.py").write_text(CHILD)
    sys.path.insert(0, str(tmp_path))
    try:
        from models import models  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    db = live_mariadb.db
    assert apply(db, plan(db, models(0))).in_sync
    db.execute("INSERT INTO orders (id, total) VALUES (1, 10), (2, 20)")

    p = plan(db, models(4))
    assert len(p.operations) == 6  # four columns, two indexes: six journaled steps
    url = db.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.run(
        [sys.executable, str(tmp_path / "child.py"), url], env=env, capture_output=True, text=True, timeout=300
    )
    assert child.returncode == -9, child.stdout + child.stderr

    journal = f"SELECT step, state FROM {JOURNAL_TABLE} WHERE plan_id = :id ORDER BY step"
    states = db.fetch_all(journal, {"id": plan_id(p)})
    assert [(r["step"], r["state"]) for r in states] == [(0, "done"), (1, "done"), (2, "started")]
    assert len(plan(db, models(4)).operations) == 3  # the third step did commit

    report = apply(db, p)
    assert [str(o) for o in report.resumed] == [str(o) for o in p.operations[:3]]
    assert [str(o) for o in report.applied] == [str(o) for o in p.operations[3:]]
    assert report.in_sync
    states = db.fetch_all(journal, {"id": plan_id(p)})
    assert {r["state"] for r in states} == {"done"} and len(states) == 6
    assert check(db, models(4)).is_empty
    assert db.fetch_all("SELECT id, total FROM orders ORDER BY id") == [{"id": 1, "total": 10}, {"id": 2, "total": 20}]


def test_journal_table_is_never_planned_or_dropped(live_mariadb: Any) -> None:
    md = sa.MetaData()
    sa.Table("t", md, sa.Column("id", sa.Integer, primary_key=True))
    assert apply(live_mariadb.db, plan(live_mariadb.db, md)).in_sync
    tables = {
        r["TABLE_NAME"]
        for r in live_mariadb.db.fetch_all(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        )
    }
    assert JOURNAL_TABLE in tables
    assert check(live_mariadb.db, md).is_empty
