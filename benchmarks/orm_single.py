"""One row at a time: ``get(id)`` and ``create()`` latency, storeroom-orm vs the raw driver.

Same run, interleaved. ``get``: the raw side fetches one row by primary key into a dict
(psycopg ``dict_row`` / sqlite3 dict factory); the ORM side also applies the tenant filter
and returns a validated model. ``create``: the raw side runs ``INSERT ... RETURNING *`` of
the same values; the ORM side builds the row from a validated model (ids, timestamps,
tenant, actor) and inserts it. Both raw sides commit each statement like the ORM (one
transaction per call): on PostgreSQL a non-autocommit connection (BEGIN ... COMMIT), on
SQLite one statement in autocommit. Also shown: raw PostgreSQL in autocommit mode.
The ORM is also shown on a pool without ``pre_ping`` (the default pings every connection it
hands out: one more round trip per call). Targets: get <= 1.3x raw, create <= 1.5x raw.

    python benchmarks/orm_single.py [--backend postgres|sqlite|all] [--calls 2000] [--rounds 9]
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from _orm_common import SQL_COLUMNS, bench_model, each_backend, interleaved, make_items, parser as _parser
from storeroom.config.models import PoolSettings
from storeroom_orm import Repository

GET_TARGET = 1.3
CREATE_TARGET = 1.5


def _dict_factory(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    fields = [column[0] for column in cursor.description]
    return {key: value for key, value in zip(fields, row, strict=True)}  # noqa: C416


def run(backend: str, url: str, calls: int, rounds: int) -> dict[str, dict[str, float]]:
    table = f"bench_one_{uuid.uuid4().hex[:8]}"
    metadata = sa.MetaData()
    Item = bench_model(table, metadata)
    columns = ", ".join(f'"{c}"' for c in SQL_COLUMNS)
    extra: dict[str, Any] = {}
    if backend == "postgres":
        import psycopg
        from psycopg.rows import dict_row
        from psycopg.types.json import Jsonb

        from storeroom_postgres import PostgresDatabase

        db = PostgresDatabase(url, name="bench")
        raw = psycopg.connect(url, row_factory=dict_row)
        auto = psycopg.connect(url, row_factory=dict_row, autocommit=True)
        get_sql = f"SELECT * FROM {table} WHERE id = %s"
        insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(SQL_COLUMNS))}) RETURNING *"

        def values(i: int) -> tuple[Any, ...]:
            now = dt.datetime.now(dt.UTC)
            meta = Jsonb({"n": i, "tag": "größe"})
            return (uuid.uuid4(), f"raw {i}", "draft", Decimal(i % 1000) / 4, i, meta, "acme", now, now, None, None)

        def raw_get(key: Any) -> Any:
            row = raw.execute(get_sql, (key,)).fetchone()
            raw.commit()
            return row

        def raw_insert(i: int) -> Any:
            row = raw.execute(insert_sql, values(i)).fetchone()
            raw.commit()
            return row

        extra["raw psycopg autocommit get"] = lambda key: auto.execute(get_sql, (key,)).fetchone()
        label = "raw psycopg dict_row"
    else:
        from storeroom_sqlite import SQLiteDatabase

        db = SQLiteDatabase(url, name="bench")
        raw = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        raw.row_factory = _dict_factory
        get_sql = f"SELECT * FROM {table} WHERE id = ?"
        insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['?'] * len(SQL_COLUMNS))}) RETURNING *"

        def values(i: int) -> tuple[Any, ...]:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
            meta = json.dumps({"n": i, "tag": "größe"})
            return (
                uuid.uuid4().hex,
                f"raw {i}",
                "draft",
                str(Decimal(i % 1000) / 4),
                i,
                meta,
                "acme",
                now,
                now,
                None,
                None,
            )

        def raw_get(key: Any) -> Any:
            return raw.execute(get_sql, (key.hex,)).fetchone()

        def raw_insert(i: int) -> Any:
            return raw.execute(insert_sql, values(i)).fetchone()

        label = "raw sqlite3 dict_factory"
    metadata.create_all(db.engine)
    repo = Repository(Item, db, tenant="acme")
    # the pool pings each connection it hands out by default (pre_ping): one more round trip
    lean_db = type(db)(url, name="lean", pool=PoolSettings(pre_ping=False))
    lean = Repository(Item, lean_db, tenant="acme")
    stored = [m.id for m in make_items(Item, 100)]
    repo.bulk_create(Item(id=i, title=f"t{n}") for n, i in enumerate(stored))
    keys = [stored[i % len(stored)] for i in range(calls)]
    counter = iter(range(10**9))
    try:
        gets = {
            f"{label} get (baseline)": lambda: [raw_get(k) for k in keys],
            "storeroom-orm Repository.get": lambda: [repo.get(k) for k in keys],
            "storeroom-orm Repository.get, pool pre_ping off": lambda: [lean.get(k) for k in keys],
            **{name: (lambda f=f: [f(k) for k in keys]) for name, f in extra.items()},
        }
        creates = {
            f"{label} INSERT ... RETURNING * (baseline)": lambda: [raw_insert(next(counter)) for _ in range(calls)],
            "storeroom-orm Repository.create": lambda: [
                repo.create(Item(title=f"orm {n}", price=Decimal(n % 1000) / 4, qty=n, meta={"n": n, "tag": "größe"}))
                for n in (next(counter) for _ in range(calls))
            ],
            "storeroom-orm Repository.create, pool pre_ping off": lambda: [
                lean.create(Item(title=f"orm {n}", price=Decimal(n % 1000) / 4, qty=n, meta={"n": n, "tag": "größe"}))
                for n in (next(counter) for _ in range(calls))
            ],
        }
        return {
            title: interleaved(
                f"{backend}: {title}, per call (x{calls} calls), median of {rounds}", contenders, rounds, calls
            )
            for title, contenders in (("get(id)", gets), ("create()", creates))
        }
    finally:
        metadata.drop_all(db.engine)
        lean_db.close()
        db.close()
        raw.close()


def main(argv: list[str] | None = None) -> int:
    parser = _parser(__doc__, rounds=9)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    results = each_backend(args, lambda backend, url: run(backend, url, args.calls, args.rounds))
    ok = True
    for backend, by_op in results.items():
        get = by_op["get(id)"]["storeroom-orm Repository.get"]
        create = by_op["create()"]["storeroom-orm Repository.create"]
        good = get <= GET_TARGET and create <= CREATE_TARGET
        ok = ok and good
        print(
            f"{backend}: get / raw = {get:.2f} (target <= {GET_TARGET}); create / raw = {create:.2f} "
            f"(target <= {CREATE_TARGET}): {'within' if good else 'MISSED'}"
        )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
