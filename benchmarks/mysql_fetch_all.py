"""MariaDB/MySQL: ``fetch_all`` of 10k rows x 5 columns and ``bulk_insert`` of 100k rows,
storeroom vs the raw drivers, same run.

fetch_all: storeroom sync vs raw PyMySQL with a ``DictCursor``, storeroom async vs raw
asyncmy with a ``DictCursor``; target ratio <= 1.15 each. Each storeroom call includes
the pool checkout (with pre-ping), the statement and COMMIT; the raw side reuses one open
connection and never commits. Raw tuples zipped into dicts show the floor.

bulk_insert (reference, no target): 100k rows in one transaction vs PyMySQL's
``executemany``, which already rewrites an INSERT into multi-row statements.

Runs are interleaved (the order rotates every round) so drift in machine load hits every
contender alike; medians and ratios against the raw driver are printed.

    python benchmarks/mysql_fetch_all.py [--url mysql://root@127.0.0.1/test] [--rows 10000]
        [--rounds 30] [--bulk-rows 100000] [--bulk-rounds 5] [--check]

Without ``--url`` the server is found like the integration tests find it
(``STOREROOM_TEST_MYSQL_URL``, else MariaDB on 127.0.0.1:3306).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from itertools import repeat
from pathlib import Path
from typing import Any

from _common import atimed, report, rotate, timed

TARGET = 1.15


def find_url() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests-integration"))
    from _services import SERVICES, resolve

    found = resolve(SERVICES["mariadb"], use_starters=False)
    if found.url is None:
        sys.exit(f"no MariaDB/MySQL server: {found.detail} (pass --url)")
    return found.url


def raw_args(url: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 3306,
        "user": parsed.username or "root",
        "password": parsed.password or "",
        "database": parsed.database,
        "charset": "utf8mb4",
    }


def rows_for(n: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "name": f"name-{i}", "score": i * 1.5, "flag": i % 2, "note": f"note number {i} " * 2}
        for i in range(n)
    ]


def create(args: dict[str, Any], table: str, rows: int) -> None:
    import pymysql

    conn = pymysql.connect(**args)
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {table} (id INT PRIMARY KEY, name VARCHAR(50), score DOUBLE, flag TINYINT, note TEXT) "
            "ENGINE=InnoDB"
        )
        cur.executemany(f"INSERT INTO {table} VALUES (%(id)s, %(name)s, %(score)s, %(flag)s, %(note)s)", rows_for(rows))
    conn.commit()
    conn.close()


def drop(args: dict[str, Any], *tables: str) -> None:
    import pymysql

    conn = pymysql.connect(**args)
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
    conn.close()


def bench_sync(url: str, args: dict[str, Any], table: str, rows: int, rounds: int) -> dict[str, float]:
    import pymysql
    import pymysql.cursors

    from storeroom_mysql import MySQLDatabase

    sql = f"SELECT id, name, score, flag, note FROM {table} ORDER BY id"
    raw = pymysql.connect(**args, cursorclass=pymysql.cursors.DictCursor)
    plain = pymysql.connect(**args)
    db = MySQLDatabase(url, name="bench")

    def raw_dict_cursor() -> list[dict[str, Any]]:
        with raw.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def raw_map() -> list[dict[str, Any]]:
        with plain.cursor() as cur:
            cur.execute(sql)
            keys = tuple(d[0] for d in cur.description)
            return list(map(dict, map(zip, repeat(keys), cur.fetchall())))

    def storeroom_fetch_all() -> list[dict[str, Any]]:
        return db.fetch_all(sql)

    contenders = {
        "raw PyMySQL + DictCursor (baseline)": raw_dict_cursor,
        "raw PyMySQL tuples + map(dict, map(zip, ...))": raw_map,
        "storeroom MySQLDatabase.fetch_all": storeroom_fetch_all,
    }
    for func in contenders.values():
        assert len(func()) == rows
    assert raw_dict_cursor() == storeroom_fetch_all()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        for name in rotate(list(contenders), r):
            samples[name].append(timed(contenders[name]))
    db.close()
    raw.close()
    plain.close()
    return report(f"sync: fetch_all of {rows} rows x 5 columns, median of {rounds}", samples, next(iter(contenders)))


async def bench_async(url: str, args: dict[str, Any], table: str, rows: int, rounds: int) -> dict[str, float]:
    import asyncmy
    import asyncmy.cursors

    from storeroom_mysql import AsyncMySQLDatabase

    sql = f"SELECT id, name, score, flag, note FROM {table} ORDER BY id"
    raw = await asyncmy.connect(**args)
    db = AsyncMySQLDatabase(url, name="bench")

    async def raw_dict_cursor() -> list[dict[str, Any]]:
        async with raw.cursor(asyncmy.cursors.DictCursor) as cur:
            await cur.execute(sql)
            return list(await cur.fetchall())

    async def storeroom_fetch_all() -> list[dict[str, Any]]:
        return await db.fetch_all(sql)

    contenders = {
        "raw asyncmy + DictCursor (baseline)": raw_dict_cursor,
        "storeroom AsyncMySQLDatabase.fetch_all": storeroom_fetch_all,
    }
    for func in contenders.values():
        assert len(await func()) == rows
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        for name in rotate(list(contenders), r):
            samples[name].append(await atimed(contenders[name]))
    await db.close()
    raw.close()
    return report(f"async: fetch_all of {rows} rows x 5 columns, median of {rounds}", samples, next(iter(contenders)))


def bench_bulk(url: str, args: dict[str, Any], rows: int, rounds: int) -> dict[str, float]:
    import pymysql

    from storeroom_mysql import AsyncMySQLDatabase, MySQLDatabase

    table = f"bench_bulk_{uuid.uuid4().hex[:8]}"
    create(args, table, 0)
    data = rows_for(rows)
    insert = (
        f"INSERT INTO {table} (id, name, score, flag, note) VALUES (%(id)s, %(name)s, %(score)s, %(flag)s, %(note)s)"
    )
    raw = pymysql.connect(**args)
    db = MySQLDatabase(url, name="bench")
    adb = AsyncMySQLDatabase(url, name="bench")
    loop = asyncio.new_event_loop()

    def truncate() -> None:
        with raw.cursor() as cur:
            cur.execute(f"TRUNCATE TABLE {table}")
        raw.commit()

    def raw_executemany() -> None:
        with raw.cursor() as cur:
            cur.executemany(insert, data)
        raw.commit()

    def storeroom_bulk() -> None:
        assert db.bulk_insert(table, data) == rows

    def storeroom_async_bulk() -> None:
        assert loop.run_until_complete(adb.bulk_insert(table, data)) == rows

    contenders = {
        "raw PyMySQL executemany (baseline)": raw_executemany,
        "storeroom MySQLDatabase.bulk_insert": storeroom_bulk,
        "storeroom AsyncMySQLDatabase.bulk_insert": storeroom_async_bulk,
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for r in range(rounds + 1):
            for name in rotate(list(contenders), r):
                truncate()
                elapsed = timed(contenders[name])
                if r:  # the first round warms up
                    samples[name].append(elapsed)
    finally:
        db.close()
        loop.run_until_complete(adb.close())
        loop.close()
        raw.close()
        drop(args, table)
    return report(
        f"reference: bulk_insert of {rows} rows x 5 columns in one transaction, median of {rounds}",
        samples,
        next(iter(contenders)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--bulk-rows", type=int, default=100_000)
    parser.add_argument("--bulk-rounds", type=int, default=5)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if a fetch_all ratio is above {TARGET}")
    args = parser.parse_args(argv)

    url = args.url or find_url()
    connect = raw_args(url)
    table = f"bench_fetch_{uuid.uuid4().hex[:8]}"
    create(connect, table, args.rows)
    try:
        sync = bench_sync(url, connect, table, args.rows, args.rounds)
        asyn = asyncio.run(bench_async(url, connect, table, args.rows, args.rounds))
    finally:
        drop(connect, table)
    if args.bulk_rows:
        bench_bulk(url, connect, args.bulk_rows, args.bulk_rounds)

    failed = False
    for label, ratio in (
        ("sync  storeroom / raw PyMySQL DictCursor", sync["storeroom MySQLDatabase.fetch_all"]),
        ("async storeroom / raw asyncmy DictCursor", asyn["storeroom AsyncMySQLDatabase.fetch_all"]),
    ):
        verdict = "within" if ratio <= TARGET else "ABOVE"
        failed |= ratio > TARGET
        print(f"\n{label} = {ratio:.3f} ({verdict} the {TARGET} target)", end="")
    print()
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
