"""``fetch_all`` of 10k rows x 5 columns: storeroom vs raw sqlite3 (and aiosqlite), same run.

Both sides read the same WAL file database. Runs are interleaved (the order rotates every
round) so drift in machine load hits every contender alike; the median per contender and
the ratio against the raw driver are printed. Target: storeroom sync <= 1.15x raw sqlite3
with a dict row factory (the Python docs' ``dict_factory``). Two faster raw variants
(tuples zipped into dicts in Python, and the same in C via ``map``) show the floor.
Each storeroom call includes the pool checkout, BEGIN and COMMIT; the raw side reuses
one open connection.

    python benchmarks/sqlite_fetch_all.py [--rows 10000] [--rounds 40] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
from itertools import repeat
from pathlib import Path
from typing import Any

from _common import atimed, report, timed

SQL = "SELECT id, name, score, flag, note FROM bench ORDER BY id"
TARGET = 1.15


def dict_factory(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    """The row factory from the Python sqlite3 documentation."""
    fields = [column[0] for column in cursor.description]
    return {key: value for key, value in zip(fields, row, strict=True)}  # noqa: C416 - the recipe as published


def create(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE bench (id INTEGER PRIMARY KEY, name VARCHAR(50), score REAL, flag INTEGER, note TEXT)")
    conn.executemany(
        "INSERT INTO bench VALUES (?, ?, ?, ?, ?)",
        ((i, f"name-{i}", i * 1.5, i % 2, f"note number {i} " * 2) for i in range(rows)),
    )
    conn.commit()
    conn.close()


def bench_sync(path: Path, rows: int, rounds: int) -> dict[str, float]:
    from storeroom_sqlite import SQLiteDatabase

    raw = sqlite3.connect(path)
    raw.row_factory = dict_factory
    plain = sqlite3.connect(path)
    db = SQLiteDatabase(f"sqlite:///{path}", name="bench")

    def raw_dict_factory() -> list[dict[str, Any]]:
        return raw.execute(SQL).fetchall()

    def raw_zip() -> list[dict[str, Any]]:
        cursor = plain.execute(SQL)
        keys = [d[0] for d in cursor.description]
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def raw_map() -> list[dict[str, Any]]:
        cursor = plain.execute(SQL)
        keys = tuple(d[0] for d in cursor.description)
        return list(map(dict, map(zip, repeat(keys), cursor.fetchall())))

    def storeroom_fetch_all() -> list[dict[str, Any]]:
        return db.fetch_all(SQL)

    contenders = {
        "raw sqlite3 + dict_factory (baseline)": raw_dict_factory,
        "raw sqlite3 tuples + [dict(zip(keys, row))]": raw_zip,
        "raw sqlite3 tuples + map(dict, map(zip, ...))": raw_map,
        "storeroom SQLiteDatabase.fetch_all": storeroom_fetch_all,
    }
    for func in contenders.values():  # warm up; also checks the results agree
        assert len(func()) == rows
    assert raw_dict_factory() == storeroom_fetch_all()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            samples[name].append(timed(contenders[name]))
    db.close()
    raw.close()
    plain.close()
    return report(f"sync: fetch_all of {rows} rows x 5 columns, median of {rounds}", samples, names[0])


async def bench_async(path: Path, rows: int, rounds: int) -> dict[str, float]:
    import aiosqlite

    from storeroom_sqlite import AsyncSQLiteDatabase

    raw = await aiosqlite.connect(path)
    raw.row_factory = dict_factory  # type: ignore[assignment]
    db = AsyncSQLiteDatabase(f"sqlite:///{path}", name="bench")

    async def raw_aiosqlite() -> list[Any]:
        async with raw.execute(SQL) as cursor:
            return list(await cursor.fetchall())

    async def storeroom_fetch_all() -> list[dict[str, Any]]:
        return await db.fetch_all(SQL)

    contenders = {
        "raw aiosqlite + dict_factory (baseline)": raw_aiosqlite,
        "storeroom AsyncSQLiteDatabase.fetch_all": storeroom_fetch_all,
    }
    for func in contenders.values():
        assert len(await func()) == rows
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            samples[name].append(await atimed(contenders[name]))
    await db.close()
    await raw.close()
    return report(f"async (reference): fetch_all of {rows} rows x 5 columns, median of {rounds}", samples, names[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if the sync ratio is above {TARGET}")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="storeroom-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        create(path, args.rows)
        ratios = bench_sync(path, args.rows, args.rounds)
        asyncio.run(bench_async(path, args.rows, args.rounds))

    ratio = ratios["storeroom SQLiteDatabase.fetch_all"]
    verdict = "within" if ratio <= TARGET else "ABOVE"
    print(f"\nstoreroom sync / raw sqlite3 + dict_factory = {ratio:.3f} ({verdict} the {TARGET} target)")
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
