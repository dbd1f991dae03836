"""The drift corpus scored for storeroom-schema-sync and for Alembic's ``compare_metadata``, side by side.

Every case of ``tests-integration/_drift_corpus.py`` is built on a live server (PostgreSQL,
MariaDB, SQLite) and compared with its models by both tools. A tool scores a case when it
reports nothing on an *equal* case, and reports a difference naming the object on a
*not equal* one; an exception scores nothing. Alembic runs with ``compare_type`` and
``compare_server_default`` on (its most thorough settings).

    python benchmarks/schema_sync_corpus.py [--postgres URL] [--mariadb URL] [--only postgresql,mysql,sqlite] [-v]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests-integration"))

from _drift_corpus import CASES, Case

POSTGRES = os.environ.get("STOREROOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MARIADB = os.environ.get("STOREROOM_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")


@contextmanager
def live(dialect: str, urls: dict[str, str]) -> Iterator[tuple[Any, str | None, str]]:
    """A database of its own: ``(storeroom database, MetaData schema, DDL prefix)``."""
    name = f"corpus_{uuid.uuid4().hex[:10]}"
    if dialect == "postgresql":
        from storeroom_postgres import PostgresDatabase

        db = PostgresDatabase(urls["postgresql"], name="main")
        db.execute(f"CREATE SCHEMA {name}")
        try:
            yield db, name, f"{name}."
        finally:
            db.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            db.close()
    elif dialect == "mysql":
        from storeroom_mysql import MySQLDatabase

        admin = MySQLDatabase(urls["mysql"], name="admin")
        admin.execute(f"CREATE DATABASE {name}")
        db = MySQLDatabase(sa.engine.make_url(urls["mysql"]).set(database=name), name="main")
        try:
            yield db, None, ""
        finally:
            db.close()
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.close()
    else:
        from storeroom_sqlite import SQLiteDatabase

        with tempfile.TemporaryDirectory() as folder:
            db = SQLiteDatabase(f"sqlite:///{Path(folder) / 'corpus.db'}", name="main")
            try:
                yield db, None, ""
            finally:
                db.close()


def _mentions(diff: Any, expect: str) -> bool:
    text = repr(diff)
    return all(part in text for part in expect.split("."))


def alembic_verdict(db: Any, md: sa.MetaData, schema: str | None, case: Case) -> tuple[bool, str]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    try:
        with db.engine.connect() as conn:
            opts: dict[str, Any] = {"compare_type": True, "compare_server_default": True}
            if schema:
                opts["include_schemas"] = True
                opts["include_name"] = lambda name, kind, parent: kind != "schema" or name == schema
            diffs = list(compare_metadata(MigrationContext.configure(conn, opts=opts), md))
    except Exception as exc:  # noqa: BLE001 - a crash is a miss, reported with its type
        return False, f"raised {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
    if case.expect is None:
        return not diffs, f"reported {len(diffs)} false difference(s): {diffs[:2]!r}"[:160] if diffs else "ok"
    hit = any(_mentions(d, case.expect) for d in diffs)
    return hit, "ok" if hit else f"missed {case.expect} ({len(diffs)} other difference(s))"


def ours_verdict(db: Any, md: sa.MetaData, case: Case) -> tuple[bool, str]:
    from storeroom_schema_sync import plan
    from storeroom_schema_sync.desired import clear_memo

    clear_memo()
    try:
        p = plan(db, md)
    except Exception as exc:  # noqa: BLE001
        return False, f"raised {type(exc).__name__}: {exc}"[:160]
    if case.expect is None:
        return p.is_empty, "ok" if p.is_empty else f"false drift: {'; '.join(map(str, p.operations))}"[:160]
    hit = any(case.expect in (o.table, o.name, f"{o.table}.{o.name}") for o in p.operations)
    return hit, "ok" if hit else f"missed {case.expect}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--mariadb", default=MARIADB)
    parser.add_argument("--only", default="postgresql,mysql,sqlite")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case Alembic misses")
    args = parser.parse_args(argv)
    urls = {"postgresql": args.postgres, "mysql": args.mariadb}
    dialects = args.only.split(",")

    score: Counter[tuple[str, str]] = Counter()
    total: Counter[str] = Counter()
    misses: list[str] = []
    for case in (c for c in CASES if c.dialect in dialects):
        with live(case.dialect, urls) as (db, schema, prefix):
            if case.ddl is not None:
                for statement in case.ddl:
                    db.execute(statement.replace("{s}", prefix))
            else:
                live_md = sa.MetaData(schema=schema)
                (case.live_models or case.desired)(live_md)
                live_md.create_all(db.engine)
            md = sa.MetaData(schema=schema)
            case.desired(md)
            kind = "equal" if case.expect is None else "not equal"
            total[case.dialect] += 1
            total[kind] += 1
            for tool, (good, why) in (
                ("storeroom", ours_verdict(db, md, case)),
                ("alembic", alembic_verdict(db, md, schema, case)),
            ):
                if good:
                    score[(tool, case.dialect)] += 1
                    score[(tool, kind)] += 1
                else:
                    misses.append(f"  {tool:<9} {case.id}: {why}")

    print(f"\ndrift corpus: {sum(total[d] for d in dialects)} cases; a case scores when the tool is right")
    print(f"  {'':<22}{'cases':>7}{'storeroom-schema-sync':>24}{'alembic compare_metadata':>27}")
    for group in [*dialects, "equal", "not equal"]:
        n = total[group]
        ours, theirs = score[("storeroom", group)], score[("alembic", group)]
        print(f"  {group:<22}{n:>7}{ours:>17} ({ours / n:4.0%}){theirs:>19} ({theirs / n:4.0%})")
    n = sum(total[d] for d in dialects)
    ours = sum(score[("storeroom", d)] for d in dialects)
    theirs = sum(score[("alembic", d)] for d in dialects)
    print(f"  {'all':<22}{n:>7}{ours:>17} ({ours / n:4.0%}){theirs:>19} ({theirs / n:4.0%})")
    shown = misses if args.verbose else [m for m in misses if m.lstrip().startswith("storeroom")]
    if shown:
        print("\nmisses:" if args.verbose else "\nstoreroom misses:")
        print("\n".join(shown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
