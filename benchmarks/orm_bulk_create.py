"""``bulk_create`` of 100k models: storeroom-orm vs raw binary COPY vs SQLModel ``add_all``.

Same run, same table shape. PostgreSQL baseline: raw psycopg binary ``COPY`` of the same
rows, already as tuples of the right Python types (the floor). SQLite baseline: raw
sqlite3 ``executemany`` of tuples in one transaction. The ORM side starts from validated
model instances (as an application has them), fills the system fields, checks the tenant
and encodes, then goes through the database's ``bulk_insert`` (binary COPY on PostgreSQL).
SQLModel: ``session.add_all(models); session.commit()`` (one round, it is slow).
Targets: ORM <= 1.3x raw COPY, and >= 20x faster than SQLModel.

    python benchmarks/orm_bulk_create.py [--backend postgres|sqlite|all] [--rows 100000] [--rounds 5]
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import uuid
from typing import Any

import sqlalchemy as sa

from _common import report, rotate, timed
from _orm_common import SQL_COLUMNS, bench_model, each_backend, make_items, parser as _parser, sqlmodel_class
from storeroom_orm import Repository

COPY_TARGET = 1.3
SQLMODEL_TARGET = 20.0


def _raw_tuples(items: list[Any], json_text: bool) -> list[tuple[Any, ...]]:
    import json

    now = dt.datetime.now(dt.UTC)
    rows = []
    for m in items:
        meta: Any = json.dumps(m.meta) if json_text else m.meta
        stamp: Any = now if not json_text else now.replace(tzinfo=None).isoformat(sep=" ")
        ident: Any = uuid.uuid4() if not json_text else uuid.uuid4().hex
        price: Any = m.price if not json_text else str(m.price)
        rows.append((ident, m.title, m.status, price, m.qty, meta, "acme", stamp, stamp, None, None))
    return rows


def run(backend: str, url: str, n: int, rounds: int, sqlmodel_rows: int) -> dict[str, float]:
    from sqlmodel import Session

    table = f"bench_bulk_{uuid.uuid4().hex[:8]}"
    metadata = sa.MetaData()
    Item = bench_model(table, metadata)
    items = make_items(Item, n)
    columns = ", ".join(f'"{c}"' for c in SQL_COLUMNS)
    if backend == "postgres":
        import psycopg
        from psycopg.types.json import Jsonb  # noqa: F401 - the jsonb dumper is registered by set_types

        from storeroom_postgres import PostgresDatabase

        db = PostgresDatabase(url, name="bench")
        raw = psycopg.connect(url)
        tuples = _raw_tuples(items, json_text=False)
        oids = [
            "uuid",
            "varchar",
            "varchar",
            "numeric",
            "int8",
            "jsonb",
            "varchar",
            "timestamptz",
            "timestamptz",
            "varchar",
            "varchar",
        ]

        def raw_insert() -> None:
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(oids)
                for row in tuples:
                    copy.write_row(row)
            raw.commit()

        baseline = "raw psycopg binary COPY (baseline)"
    else:
        from storeroom_sqlite import SQLiteDatabase

        db = SQLiteDatabase(url, name="bench")
        raw = sqlite3.connect(url.removeprefix("sqlite:///"))
        tuples = _raw_tuples(items, json_text=True)
        marks = ", ".join("?" * len(SQL_COLUMNS))

        def raw_insert() -> None:
            with raw:
                raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuples)

        baseline = "raw sqlite3 executemany (baseline)"
    metadata.create_all(db.engine)
    repo = Repository(Item, db, tenant="acme")

    def clear() -> None:
        db.execute(f"DELETE FROM {table}")

    def orm_insert() -> None:
        repo.bulk_create(items)

    try:
        contenders = {baseline: raw_insert, "storeroom-orm Repository.bulk_create": orm_insert}
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for r in range(rounds):
            for name in rotate(list(contenders), r):
                clear()
                samples[name].append(timed(contenders[name]))
        assert db.fetch_value(f"SELECT count(*) FROM {table}") == n
        ratios = report(f"{backend}: bulk insert of {n} rows x 11 columns, median of {rounds}", samples, baseline)
        # SQLModel: one round on fewer rows, scaled linearly (its cost is per row)
        clear()
        engine = sa.create_engine(url if backend == "sqlite" else url.replace("postgresql://", "postgresql+psycopg://"))
        SMItem = sqlmodel_class(table)
        models = [
            SMItem(title=m.title, price=m.price, qty=m.qty, meta=m.meta, tenant_id="acme")
            for m in items[:sqlmodel_rows]
        ]

        def sqlmodel_insert() -> None:
            with Session(engine) as session:
                session.add_all(models)
                session.commit()

        seconds = timed(sqlmodel_insert) * n / sqlmodel_rows
        engine.dispose()
        orm_seconds = ratios["storeroom-orm Repository.bulk_create"]
        base = min(samples[baseline])
        print(f"  SQLModel add_all + commit ({sqlmodel_rows} rows, scaled to {n})      {seconds * 1000:9.2f} ms")
        ratios["sqlmodel_over_orm"] = seconds / (orm_seconds * sorted(samples[baseline])[len(samples[baseline]) // 2])
        del base
        return ratios
    finally:
        metadata.drop_all(db.engine)
        db.close()
        raw.close()


def main(argv: list[str] | None = None) -> int:
    parser = _parser(__doc__, rounds=5)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sqlmodel-rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    results = each_backend(args, lambda backend, url: run(backend, url, args.rows, args.rounds, args.sqlmodel_rows))
    ok = True
    for backend, ratios in results.items():
        orm = ratios["storeroom-orm Repository.bulk_create"]
        sqlmodel = ratios["sqlmodel_over_orm"]
        good = orm <= COPY_TARGET and sqlmodel >= SQLMODEL_TARGET
        ok = ok and good
        print(
            f"{backend}: ORM / raw = {orm:.2f} (target <= {COPY_TARGET}); SQLModel / ORM = {sqlmodel:.1f} "
            f"(target >= {SQLMODEL_TARGET}): {'within' if good else 'MISSED'}"
        )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
