"""``list()`` of 10k rows into validated models: storeroom-orm vs the raw driver vs SQLModel.

Same run, same table, interleaved rounds (the order rotates each round). Baselines:
PostgreSQL, raw psycopg with ``dict_row`` (dicts, no validation); SQLite, raw sqlite3 with
the Python docs' dict row factory. The ORM side returns pydantic models validated by
pydantic (``TypeAdapter(list[Model])``, one call into pydantic-core for all rows), with the
tenant filter applied. SQLModel's ``session.exec(select(...)).all()`` is the peer reference.
Targets: ORM <= 2.0x the raw dict fetch, and >= 3x faster than SQLModel.

Also measured, for the record: the ways to validate the same 10k dicts (TypeAdapter over
the list, model_validate per row, the constructor per row).

    python benchmarks/orm_list.py [--backend postgres|sqlite|all] [--rows 10000] [--rounds 15]
        [--postgres-url postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import sqlite3
import sys
import uuid
from typing import Any

import pydantic
import sqlalchemy as sa

from _common import report, rotate, timed
from _orm_common import bench_model, each_backend, make_items, parser as _parser, sqlmodel_class
from storeroom_orm import Repository

LIST_TARGET = 2.0
SQLMODEL_TARGET = 3.0


def _dict_factory(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    fields = [column[0] for column in cursor.description]
    return {key: value for key, value in zip(fields, row, strict=True)}  # noqa: C416 - the recipe as published


def run(backend: str, url: str, rows: int, rounds: int) -> dict[str, float]:
    from sqlmodel import Session, select

    table = f"bench_orm_{uuid.uuid4().hex[:8]}"
    metadata = sa.MetaData()
    Item = bench_model(table, metadata)
    if backend == "postgres":
        import psycopg
        from psycopg.rows import dict_row

        from storeroom_postgres import PostgresDatabase

        db = PostgresDatabase(url, name="bench")
        raw = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), row_factory=dict_row, autocommit=True)
        sql = f"SELECT * FROM {table} WHERE tenant_id = %s"

        def raw_fetch() -> list[dict[str, Any]]:
            return raw.execute(sql, ("acme",)).fetchall()

        baseline = "raw psycopg dict_row (baseline)"
    else:
        from storeroom_sqlite import SQLiteDatabase

        db = SQLiteDatabase(url, name="bench")
        raw = sqlite3.connect(url.removeprefix("sqlite:///"))
        raw.row_factory = _dict_factory
        sql = f"SELECT * FROM {table} WHERE tenant_id = ?"

        def raw_fetch() -> list[dict[str, Any]]:
            return raw.execute(sql, ("acme",)).fetchall()

        baseline = "raw sqlite3 dict_factory (baseline)"
    metadata.create_all(db.engine)
    try:
        repo = Repository(Item, db, tenant="acme")
        repo.bulk_create(make_items(Item, rows))
        engine = sa.create_engine(url if backend == "sqlite" else url.replace("postgresql://", "postgresql+psycopg://"))
        SMItem = sqlmodel_class(table)

        def sqlmodel_select() -> list[Any]:
            with Session(engine) as session:
                return list(session.exec(select(SMItem).where(SMItem.tenant_id == "acme")).all())

        dicts = [dict(m) for m in repo.list()]
        adapter = pydantic.TypeAdapter(list[Item])

        contenders = {
            baseline: raw_fetch,
            "storeroom-orm Repository.list (validated models)": repo.list,
            "SQLModel session.exec(select(...)).all()": sqlmodel_select,
            "  (validation only) TypeAdapter(list[Model])": lambda: adapter.validate_python(dicts),
            "  (validation only) Model.model_validate per row": lambda: [Item.model_validate(d) for d in dicts],
            "  (validation only) Model(**row) per row": lambda: [Item(**d) for d in dicts],
        }
        for func in contenders.values():
            assert len(func()) == rows
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for r in range(rounds):
            for name in rotate(list(contenders), r):
                samples[name].append(timed(contenders[name]))
        engine.dispose()
        return report(f"{backend}: list() of {rows} rows x 11 columns, median of {rounds}", samples, baseline)
    finally:
        metadata.drop_all(db.engine)
        db.close()
        raw.close()


def verdict(backend: str, ratios: dict[str, float]) -> bool:
    orm = ratios["storeroom-orm Repository.list (validated models)"]
    sqlmodel = ratios["SQLModel session.exec(select(...)).all()"] / orm
    ok = orm <= LIST_TARGET and sqlmodel >= SQLMODEL_TARGET
    print(
        f"{backend}: ORM / raw = {orm:.2f} (target <= {LIST_TARGET}); SQLModel / ORM = {sqlmodel:.2f} "
        f"(target >= {SQLMODEL_TARGET}): {'within' if ok else 'MISSED'}"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = _parser(__doc__, rounds=15)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    results = each_backend(args, lambda backend, url: run(backend, url, args.rows, args.rounds))
    ok = True
    for backend, ratios in results.items():
        ok = verdict(backend, ratios) and ok
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
