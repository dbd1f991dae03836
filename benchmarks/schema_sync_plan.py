"""Planning 1,000 PostgreSQL tables: storeroom-schema-sync's ``plan`` beside Alembic's ``compare_metadata``.

Each table has 10 columns, 3 indexes and 2 foreign keys. The live schema is created from
the same models, so both tools should find nothing to do; both run on the same server in
the same process, and every statement each sends is counted with SQLAlchemy's
``before_cursor_execute`` event (catalog queries apart from the scratch DDL batch).

``plan`` is timed cold (its first plan in the process: the models are rendered into scratch
space) and warm (the same models planned again: the scratch render is memoized per
process, keyed by the DDL text and the server). Targets: <= 1 s and <= 20 catalog queries.

    python benchmarks/schema_sync_plan.py [--url postgresql://...] [--tables 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

DEFAULT_URL = os.environ.get("STOREROOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_SECONDS = 1.0
TARGET_QUERIES = 20


def models(schema: str | None, count: int, expressions: bool = True) -> sa.MetaData:
    """``count`` tables of 10 columns, 3 indexes and 2 foreign keys each (in ``schema``, or the default one).

    ``expressions=False`` makes the third index a plain one (MariaDB has no expression indexes).
    """
    md = sa.MetaData(schema=schema)
    prefix = f"{schema}." if schema else ""
    for i in range(count):
        t = sa.Table(
            f"t{i:04d}",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("a", sa.Integer, nullable=False, server_default="0"),
            sa.Column("b", sa.String(50)),
            sa.Column("c", sa.Numeric(12, 2), server_default="0"),
            sa.Column("d", sa.DateTime(timezone=True), server_default=sa.func.now()),
            sa.Column("e", sa.Boolean, server_default=sa.false()),
            sa.Column("f", sa.Text),
            sa.Column("g", sa.BigInteger),
            sa.Column("r1", sa.Integer, sa.ForeignKey(f"{prefix}t{max(i - 1, 0):04d}.id")),
            sa.Column("r2", sa.Integer, sa.ForeignKey(f"{prefix}t{max(i - 2, 0):04d}.id", ondelete="CASCADE")),
        )
        sa.Index(f"ix_t{i:04d}_a", t.c.a)
        sa.Index(f"ix_t{i:04d}_bc", t.c.b, t.c.c)
        if expressions:
            sa.Index(f"ix_t{i:04d}_f", sa.func.lower(t.c.f), postgresql_where=t.c.f.isnot(None))
        else:
            sa.Index(f"ix_t{i:04d}_g", t.c.g)
    return md


@contextmanager
def counting(engine: sa.Engine) -> Iterator[Counter[str]]:
    """Statements by kind, and the seconds the server took for them (``... s`` keys)."""
    counts: Counter[str] = Counter()
    started: list[float] = []

    def kind(statement: str) -> str:
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if head in ("SELECT", "WITH", "SHOW"):
            return "catalog queries"
        return "scratch DDL" if head in ("CREATE", "ALTER", "COMMENT") else "other (savepoints, SET)"

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counts[kind(statement)] += 1
        if kind(statement) == "scratch DDL":
            counts["scratch DDL statements"] += statement.count(";\n")
        started.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counts[f"{kind(statement)} s"] += time.perf_counter() - started.pop()

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield counts
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def measure(engine: sa.Engine, func: Callable[[], Any]) -> tuple[float, Counter[str], Any]:
    with counting(engine) as counts:
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
    return elapsed, counts, result


def drop(db: Any, schema: str) -> None:
    """Drop the schema a hundred tables at a time (one transaction would run out of lock slots)."""
    names = [
        r["tablename"] for r in db.fetch_all("SELECT tablename FROM pg_tables WHERE schemaname = :s", {"s": schema})
    ]
    for at in range(0, len(names), 100):
        db.execute("DROP TABLE IF EXISTS " + ", ".join(f"{schema}.{n}" for n in names[at : at + 100]) + " CASCADE")
    db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 if the warm plan misses a target")
    args = parser.parse_args(argv)

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storeroom_postgres import PostgresDatabase
    from storeroom_schema_sync import plan
    from storeroom_schema_sync.desired import clear_memo

    schema = f"bench_sync_{uuid.uuid4().hex[:8]}"
    md = models(schema, args.tables)
    db = PostgresDatabase(args.url, name="bench")
    engine = db.engine
    try:
        db.execute(f"CREATE SCHEMA {schema}")
        started = time.perf_counter()
        ordered = md.sorted_tables
        for at in range(0, len(ordered), 100):  # the live side, from the same models (100 tables per transaction)
            with engine.begin() as conn:
                md.create_all(conn, tables=ordered[at : at + 100], checkfirst=False)
        print(f"created {args.tables} tables in {time.perf_counter() - started:.1f} s")

        cold: list[float] = []
        warm: list[float] = []
        ours_counts: dict[str, Counter[str]] = {}
        for _ in range(args.rounds):
            clear_memo()
            seconds, counts, p = measure(engine, lambda: plan(db, md))
            assert p.is_empty, f"false drift:\n{p}"
            cold.append(seconds)
            ours_counts["cold"] = counts
            seconds, counts, p = measure(engine, lambda: plan(db, md))
            assert p.is_empty
            warm.append(seconds)
            ours_counts["warm"] = counts

        def alembic() -> list[Any]:
            with engine.connect() as conn:
                context = MigrationContext.configure(
                    conn,
                    opts={
                        "include_schemas": True,
                        "include_name": lambda name, kind, parent: kind != "schema" or name == schema,
                        "compare_type": True,
                        "compare_server_default": True,
                    },
                )
                return list(compare_metadata(context, md))

        theirs: list[float] = []
        their_counts: Counter[str] = Counter()
        diffs: list[Any] = []
        for _ in range(args.rounds):
            seconds, their_counts, diffs = measure(engine, alembic)
            theirs.append(seconds)
    finally:
        drop(db, schema)
        db.close()

    def row(name: str, seconds: list[float], counts: Counter[str], note: str = "") -> None:
        shown = ", ".join(
            f"{k[:-2]} {counts[k]:.2f} s" if k.endswith(" s") else f"{k} {counts[k]}" for k in sorted(counts)
        )
        print(f"  {name:<34} {statistics.median(seconds):6.2f} s   {shown}{note}")

    print(f"\nplan {args.tables} PostgreSQL tables (10 columns, 3 indexes, 2 FKs each), median of {args.rounds}")
    row("storeroom-schema-sync plan, cold", cold, ours_counts["cold"])
    row("storeroom-schema-sync plan, warm", warm, ours_counts["warm"])
    row("alembic compare_metadata", theirs, their_counts, f"   ({len(diffs)} differences reported)")
    best = statistics.median(warm)
    queries = ours_counts["warm"]["catalog queries"]
    ratio = statistics.median(theirs) / best
    print(
        f"\nwarm plan: {best:.2f} s (target {TARGET_SECONDS} s), {queries} catalog queries (target {TARGET_QUERIES}); "
        f"alembic takes x{ratio:.1f} the time and x{their_counts['catalog queries'] / max(queries, 1):.0f} the queries"
    )
    missed = best > TARGET_SECONDS or queries > TARGET_QUERIES
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
