"""Temporal models: what a version or an audit trail costs per update, and time travel's reads.

Same run, interleaved rounds (the order rotates each round), one database. ``update``: each
call changes three fields (title, price, qty) of one of 100 rows, by id: a plain model
(``SELECT ... FOR UPDATE`` + ``UPDATE``), an scd2 model (+ the replaced version copied into
the history table) and a copy_on_change model (+ three audit rows). Also shown: the raw
driver running the plain model's two statements in a transaction. ``as_of``: ``get(id)``
against ``get(id, as_of=t)`` of an scd2 entity with 1,000 versions, ``t`` spread over its
life. Targets (PostgreSQL): scd2 update <= 2.5x a plain update, copy_on_change update of
3 fields <= 2x, ``get(id, as_of=...)`` <= 2x ``get(id)``.

    python benchmarks/orm_temporal.py [--backend postgres|sqlite|all] [--calls 1000] [--rounds 7]
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from _orm_common import bench_model, each_backend, interleaved, parser as _parser
from storeroom_orm import Repository

SCD2_TARGET = 2.5
AUDIT_TARGET = 2.0
AS_OF_TARGET = 2.0
ROWS = 100
VERSIONS = 1000


def _database(backend: str, url: str) -> Any:
    if backend == "postgres":
        from storeroom_postgres import PostgresDatabase

        return PostgresDatabase(url, name="bench")
    from storeroom_sqlite import SQLiteDatabase

    return SQLiteDatabase(url, name="bench")


def _raw_update(backend: str, url: str, table: str) -> tuple[Any, Any]:
    """The plain model's update on the raw driver: lock the row, update three fields, commit."""
    if backend == "postgres":
        import psycopg

        conn = psycopg.connect(url)
        select = f"SELECT * FROM {table} WHERE id = %s AND tenant_id = %s FOR UPDATE"
        update = (
            f"UPDATE {table} SET title = %s, price = %s, qty = %s, updated_at = %s WHERE id = %s AND tenant_id = %s"
        )

        def run(key: uuid.UUID, n: int) -> None:
            conn.execute(select, (key, "acme")).fetchone()
            conn.execute(update, (f"raw {n}", Decimal(n % 100_000) / 4, n, dt.datetime.now(dt.UTC), key, "acme"))
            conn.commit()

        return conn, run
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)

    def run_sqlite(key: uuid.UUID, n: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"SELECT * FROM {table} WHERE id = ? AND tenant_id = ?", (key.hex, "acme")).fetchone()
        conn.execute(
            f"UPDATE {table} SET title = ?, price = ?, qty = ?, updated_at = ? WHERE id = ? AND tenant_id = ?",
            (
                f"raw {n}",
                str(Decimal(n % 100_000) / 4),
                n,
                dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" "),
                key.hex,
                "acme",
            ),
        )
        conn.execute("COMMIT")

    return conn, run_sqlite


def run(backend: str, url: str, calls: int, rounds: int) -> dict[str, dict[str, float]]:
    suffix = uuid.uuid4().hex[:8]
    metadata = sa.MetaData()
    Plain = bench_model(f"bench_plain_{suffix}", metadata)
    Scd2 = bench_model(f"bench_scd2_{suffix}", metadata, temporal="scd2")
    Audit = bench_model(f"bench_audit_{suffix}", metadata, temporal="copy_on_change")
    db = _database(backend, url)
    metadata.create_all(db.engine)
    raw, raw_update = _raw_update(backend, url, Plain.__table__.name)
    try:
        repos = {model: Repository(model, db, tenant="acme") for model in (Plain, Scd2, Audit)}
        keys = {model: [repo.create(model(title=f"r{i}")).id for i in range(ROWS)] for model, repo in repos.items()}
        counter = iter(range(1, 10**9))

        def updates(model: Any) -> Any:
            repo, ids = repos[model], keys[model]

            def call() -> None:
                for i in range(calls):
                    n = next(counter)
                    repo.update(ids[i % ROWS], title=f"t{n}", price=Decimal(n % 100_000) / 4, qty=n)

            return call

        def raw_updates() -> None:
            for i in range(calls):
                raw_update(keys[Plain][i % ROWS], next(counter))

        update_contenders = {
            "Repository.update, plain model (baseline)": updates(Plain),
            "Repository.update, scd2": updates(Scd2),
            "Repository.update, copy_on_change (3 fields)": updates(Audit),
            "raw driver SELECT FOR UPDATE + UPDATE": raw_updates,
        }
        # one entity with VERSIONS versions, and instants spread over its life
        scd2 = repos[Scd2]
        entity = scd2.create(Scd2(title="long"))
        for n in range(1, VERSIONS):
            scd2.update(entity.id, qty=n)
        versions = scd2.history(entity.id)
        assert len(versions) == VERSIONS
        instants = [versions[(i * 7919) % VERSIONS].valid_from for i in range(calls)]
        read_contenders = {
            "Repository.get(id) (baseline)": lambda: [scd2.get(entity.id) for _ in range(calls)],
            "Repository.get(id, as_of=t), 1,000 versions": lambda: [scd2.get(entity.id, as_of=t) for t in instants],
        }
        return {
            title: interleaved(
                f"{backend}: {title}, per call (x{calls} calls), median of {rounds}", contenders, rounds, calls
            )
            for title, contenders in (("update", update_contenders), ("as_of", read_contenders))
        }
    finally:
        raw.close()
        metadata.drop_all(db.engine)
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = _parser(__doc__, rounds=7)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args(argv)
    results = each_backend(args, lambda backend, url: run(backend, url, args.calls, args.rounds))
    ok = True
    for backend, by_kind in results.items():
        scd2 = by_kind["update"]["Repository.update, scd2"]
        audit = by_kind["update"]["Repository.update, copy_on_change (3 fields)"]
        as_of = by_kind["as_of"]["Repository.get(id, as_of=t), 1,000 versions"]
        good = scd2 <= SCD2_TARGET and audit <= AUDIT_TARGET and as_of <= AS_OF_TARGET
        if backend == "postgres":
            ok = ok and good
        print(
            f"{backend}: scd2 update / plain = {scd2:.2f} (target <= {SCD2_TARGET}); copy_on_change / plain = "
            f"{audit:.2f} (target <= {AUDIT_TARGET}); get as_of / get = {as_of:.2f} (target <= {AS_OF_TARGET}): "
            f"{'within' if good else 'MISSED'}{'' if backend == 'postgres' else ' (targets are for PostgreSQL)'}"
        )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
