"""``bulk_insert`` of 100k rows x 5 columns: storeroom vs raw psycopg binary COPY, same run.

Every contender inserts the same list of dicts into its own empty table (truncated before
each run, outside the timing) and commits. Rounds are interleaved (the order rotates every
round); the median per contender and the ratio against raw psycopg binary COPY are printed.
Target: storeroom sync <= 1.2x raw psycopg binary COPY.

The raw side is as fast as psycopg allows: one open connection, ``set_types`` given, and
each dict turned into a tuple by ``operator.itemgetter`` (in C). storeroom's call also checks
out a pooled connection, reads the column types from the catalog, validates every row and
range-checks integer columns. For reference, the same rows through SQLAlchemy Core's
``executemany`` (``insert()``, insertmanyvalues) and SQLModel's ``add_all`` + ``commit``
run in the first ``--reference-rounds`` rounds only (they are one to two orders slower).

    python benchmarks/postgres_bulk_insert.py [--url postgresql://...] [--rows 100000] [--rounds 15] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from operator import itemgetter
from typing import Any

from _common import report, rotate

DEFAULT_URL = os.environ.get("STOREROOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TARGET = 1.2
COLUMNS = ("id", "name", "score", "flag", "note")
DDL = "(id int PRIMARY KEY, name varchar(50), score float8, flag int, note text)"


def make_rows(n: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "name": f"name-{i}", "score": i * 1.5, "flag": i % 2, "note": f"note number {i}"} for i in range(n)
    ]


def bench_sync(url: str, rows: list[dict[str, Any]], rounds: int, reference_rounds: int) -> dict[str, float]:
    import psycopg
    import sqlalchemy as sa
    from sqlmodel import Field, Session, SQLModel, create_engine

    from storeroom_postgres import PostgresDatabase

    suffix = uuid.uuid4().hex[:8]
    tables = {name: f"bench_bulk_{name}_{suffix}" for name in ("raw", "storeroom", "core", "sqlmodel")}
    admin = psycopg.connect(url, autocommit=True)
    for table in tables.values():
        admin.execute(f"CREATE TABLE {table} {DDL}")

    raw = psycopg.connect(url)
    db = PostgresDatabase(url, name="bench")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    core_table = sa.Table(
        tables["core"],
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50)),
        sa.Column("score", sa.Float),
        sa.Column("flag", sa.Integer),
        sa.Column("note", sa.Text),
    )

    class BenchRow(SQLModel, table=True):
        __tablename__ = tables["sqlmodel"]
        id: int = Field(primary_key=True)
        name: str
        score: float
        flag: int
        note: str

    model_engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    get = itemgetter(*COLUMNS)
    copy_sql = f"COPY {tables['raw']} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"

    def raw_copy() -> None:
        with raw.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.set_types(["int4", "varchar", "float8", "int4", "text"])
            write = copy.write_row
            for row in rows:
                write(get(row))
        raw.commit()

    def storeroom_bulk() -> None:
        assert db.bulk_insert(tables["storeroom"], rows) == len(rows)

    def core_executemany() -> None:
        with engine.begin() as conn:
            conn.execute(sa.insert(core_table), rows)

    def sqlmodel_add_all() -> None:
        with Session(model_engine) as session:
            session.add_all([BenchRow(**row) for row in rows])
            session.commit()

    contenders: dict[str, Callable[[], Any]] = {
        "raw psycopg binary COPY (baseline)": raw_copy,
        "storeroom PostgresDatabase.bulk_insert": storeroom_bulk,
        "SQLAlchemy Core executemany (reference)": core_executemany,
        "SQLModel add_all + commit (reference)": sqlmodel_add_all,
    }
    references = {
        "SQLAlchemy Core executemany (reference)": "core",
        "SQLModel add_all + commit (reference)": "sqlmodel",
    }
    owner = {
        "raw psycopg binary COPY (baseline)": "raw",
        "storeroom PostgresDatabase.bulk_insert": "storeroom",
        **references,
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for r in range(rounds + 1):  # round 0 warms up and is not counted
            for name in rotate(list(contenders), r):
                if name in references and r > reference_rounds:
                    continue
                admin.execute(f"TRUNCATE {tables[owner[name]]}")
                gc.collect()
                start = time.perf_counter()
                contenders[name]()
                elapsed = time.perf_counter() - start
                if r:
                    samples[name].append(elapsed)
                count = admin.execute(f"SELECT count(*) FROM {tables[owner[name]]}").fetchone()
                assert count is not None and count[0] == len(rows), (name, count)
    finally:
        db.close()
        engine.dispose()
        model_engine.dispose()
        raw.close()
        for table in tables.values():
            admin.execute(f"DROP TABLE IF EXISTS {table}")
        admin.close()
    return report(
        f"sync: bulk insert of {len(rows)} rows x 5 columns, median", samples, "raw psycopg binary COPY (baseline)"
    )


async def bench_async(url: str, rows: list[dict[str, Any]], rounds: int) -> dict[str, float]:
    import psycopg

    from storeroom_postgres import AsyncPostgresDatabase

    suffix = uuid.uuid4().hex[:8]
    tables = {"raw": f"bench_abulk_raw_{suffix}", "storeroom": f"bench_abulk_sr_{suffix}"}
    admin = await psycopg.AsyncConnection.connect(url, autocommit=True)
    for table in tables.values():
        await admin.execute(f"CREATE TABLE {table} {DDL}")
    raw = await psycopg.AsyncConnection.connect(url)
    db = AsyncPostgresDatabase(url, name="bench")
    get = itemgetter(*COLUMNS)
    copy_sql = f"COPY {tables['raw']} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"

    async def raw_copy() -> None:
        async with raw.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.set_types(["int4", "varchar", "float8", "int4", "text"])
            for row in rows:
                await copy.write_row(get(row))
        await raw.commit()

    async def storeroom_bulk() -> None:
        assert await db.bulk_insert(tables["storeroom"], rows) == len(rows)

    contenders: dict[str, tuple[str, Callable[[], Awaitable[Any]]]] = {
        "raw psycopg async binary COPY (baseline)": ("raw", raw_copy),
        "storeroom AsyncPostgresDatabase.bulk_insert": ("storeroom", storeroom_bulk),
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for r in range(rounds + 1):
            for name in rotate(list(contenders), r):
                key, func = contenders[name]
                await admin.execute(f"TRUNCATE {tables[key]}")
                gc.collect()
                start = time.perf_counter()
                await func()
                if r:
                    samples[name].append(time.perf_counter() - start)
    finally:
        await db.close()
        await raw.close()
        for table in tables.values():
            await admin.execute(f"DROP TABLE IF EXISTS {table}")
        await admin.close()
    return report(
        f"async: bulk insert of {len(rows)} rows x 5 columns, median",
        samples,
        "raw psycopg async binary COPY (baseline)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reference-rounds", type=int, default=3)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if the sync ratio is above {TARGET}")
    args = parser.parse_args(argv)

    rows = make_rows(args.rows)
    ratio = bench_sync(args.url, rows, args.rounds, args.reference_rounds)["storeroom PostgresDatabase.bulk_insert"]
    asyncio.run(bench_async(args.url, rows, args.rounds))
    print(
        f"\nstoreroom sync / raw psycopg binary COPY = {ratio:.3f} "
        f"({'within' if ratio <= TARGET else 'ABOVE'} the {TARGET} target)"
    )
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
