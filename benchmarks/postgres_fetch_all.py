"""``fetch_all`` of 10k rows x 5 columns: storeroom vs raw psycopg with ``dict_row``, same run.

Sync and async. Both sides read the same table on the same server. Runs are interleaved
(the order rotates every round) so drift in machine or server load hits every contender
alike; the median per contender and the ratio against raw psycopg are printed.
Target: storeroom <= 1.10x raw psycopg + ``dict_row`` on both sides.

Each storeroom call includes the pool checkout (with ``pre_ping``), BEGIN and COMMIT;
the raw side reuses one open autocommit connection, so it pays for none of them.
Two references show where the time goes: raw psycopg returning tuples (the floor),
and storeroom with ``native=False`` (the same call through SQLAlchemy's result objects).

    python benchmarks/postgres_fetch_all.py [--url postgresql://...] [--rows 10000] [--rounds 30] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from _common import atimed, report, rotate, timed

DEFAULT_URL = os.environ.get("STOREROOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TARGET = 1.10


def create(url: str, table: str, rows: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name varchar(50), score float8, flag int, note text)")
        with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
            for i in range(rows):
                copy.write_row((i, f"name-{i}", i * 1.5, i % 2, f"note number {i} " * 2))
        conn.execute(f"ANALYZE {table}")


def drop(url: str, table: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def bench_sync(url: str, sql: str, rows: int, rounds: int) -> dict[str, float]:
    import psycopg
    from psycopg.rows import dict_row

    from storeroom_postgres import PostgresDatabase

    raw = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    plain = psycopg.connect(url, autocommit=True)
    db = PostgresDatabase(url, name="bench")
    generic = PostgresDatabase(url, name="generic", native=False)

    contenders: dict[str, Callable[[], Any]] = {
        "raw psycopg + dict_row (baseline)": lambda: raw.execute(sql).fetchall(),
        "raw psycopg tuples (floor)": lambda: plain.execute(sql).fetchall(),
        "storeroom PostgresDatabase.fetch_all": lambda: db.fetch_all(sql),
        "storeroom fetch_all, native=False (SQLAlchemy)": lambda: generic.fetch_all(sql),
    }
    for func in contenders.values():  # warm up (and let psycopg prepare the statement)
        for _ in range(6):
            assert len(func()) == rows
    assert raw.execute(sql).fetchall() == db.fetch_all(sql) == generic.fetch_all(sql)
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        for name in rotate(list(contenders), r):
            samples[name].append(timed(contenders[name]))
    db.close()
    generic.close()
    raw.close()
    plain.close()
    return report(
        f"sync: fetch_all of {rows} rows x 5 columns, median of {rounds}", samples, "raw psycopg + dict_row (baseline)"
    )


async def bench_async(url: str, sql: str, rows: int, rounds: int) -> dict[str, float]:
    import psycopg
    from psycopg.rows import dict_row

    from storeroom_postgres import AsyncPostgresDatabase

    raw = await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row)
    db = AsyncPostgresDatabase(url, name="bench")
    generic = AsyncPostgresDatabase(url, name="generic", native=False)

    async def raw_dict_row() -> list[Any]:
        cursor = await raw.execute(sql)
        return await cursor.fetchall()

    contenders: dict[str, Callable[[], Awaitable[Any]]] = {
        "raw psycopg async + dict_row (baseline)": raw_dict_row,
        "storeroom AsyncPostgresDatabase.fetch_all": lambda: db.fetch_all(sql),
        "storeroom async fetch_all, native=False": lambda: generic.fetch_all(sql),
    }
    for func in contenders.values():
        for _ in range(6):
            assert len(await func()) == rows
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        for name in rotate(list(contenders), r):
            samples[name].append(await atimed(contenders[name]))
    await db.close()
    await generic.close()
    await raw.close()
    return report(
        f"async: fetch_all of {rows} rows x 5 columns, median of {rounds}",
        samples,
        "raw psycopg async + dict_row (baseline)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if a ratio is above {TARGET}")
    args = parser.parse_args(argv)

    table = f"bench_fetch_{uuid.uuid4().hex[:8]}"
    sql = f"SELECT id, name, score, flag, note FROM {table} ORDER BY id"
    create(args.url, table, args.rows)
    try:
        sync = bench_sync(args.url, sql, args.rows, args.rounds)["storeroom PostgresDatabase.fetch_all"]
        asyn = asyncio.run(bench_async(args.url, sql, args.rows, args.rounds))[
            "storeroom AsyncPostgresDatabase.fetch_all"
        ]
    finally:
        drop(args.url, table)

    worst = max(sync, asyn)
    print(
        f"\nstoreroom / raw psycopg + dict_row: sync {sync:.3f}, async {asyn:.3f} "
        f"({'within' if worst <= TARGET else 'ABOVE'} the {TARGET} target)"
    )
    return 1 if args.check and worst > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
