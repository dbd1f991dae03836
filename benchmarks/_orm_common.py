"""What the ORM benchmarks share: the benchmark model, its raw DDL-free table, backends, contenders.

The model has the shape the issue's targets talk about: five user fields (text, a status,
a Decimal, an int, a JSON object) plus the injected system fields (id, tenant_id, two
timestamps, two actors): 11 columns.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from _common import report, rotate, timed
from storeroom_orm import Field, Model

__all__ = [
    "SQL_COLUMNS",
    "bench_model",
    "each_backend",
    "interleaved",
    "make_items",
    "parser",
    "sqlmodel_class",
]

SQL_COLUMNS = (
    "id",
    "title",
    "status",
    "price",
    "qty",
    "meta",
    "tenant_id",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)


def bench_model(table: str, metadata: sa.MetaData, **options: Any) -> Any:
    """The benchmark model; ``options``: more class keywords (``temporal="scd2"`` ...)."""

    class Item(Model, table=table, metadata=metadata, **options):
        title: str = Field(max_length=255)
        status: str = Field("draft", max_length=20)
        price: Decimal = Field(Decimal("0"), max_digits=12, decimal_places=2)
        qty: int = 0
        meta: dict[str, Any] = Field(default_factory=dict)

    return Item


def make_items(model: Any, n: int) -> list[Any]:
    return [
        model(title=f"item {i} ü", price=Decimal(i % 1000) / 4, qty=i, meta={"n": i, "tag": "größe"}) for i in range(n)
    ]


def sqlmodel_class(table: str) -> Any:
    """The same table as a SQLModel model (a separate MetaData: SQLModel keeps its own)."""
    import datetime as dt

    from sqlalchemy import JSON, Column
    from sqlmodel import Field as SMField, SQLModel

    namespace: dict[str, Any] = {
        "__tablename__": table,
        "__annotations__": {
            "id": uuid.UUID,
            "title": str,
            "status": str,
            "price": Decimal,
            "qty": int,
            "meta": dict,
            "tenant_id": str,
            "created_at": dt.datetime,
            "updated_at": dt.datetime,
            "created_by": str | None,
            "updated_by": str | None,
        },
        "id": SMField(default_factory=uuid.uuid4, primary_key=True),
        "title": SMField(max_length=255),
        "status": SMField(default="draft", max_length=20),
        "price": SMField(default=Decimal("0"), max_digits=12, decimal_places=2),
        "qty": 0,
        "meta": SMField(default_factory=dict, sa_column=Column(JSON)),
        "tenant_id": SMField(max_length=255, index=True),
        "created_at": SMField(default_factory=lambda: dt.datetime.now(dt.UTC)),
        "updated_at": SMField(default_factory=lambda: dt.datetime.now(dt.UTC)),
        "created_by": None,
        "updated_by": None,
    }
    return type("SMItem", (SQLModel,), namespace, table=True)


def interleaved(title: str, contenders: dict[str, Callable[[], Any]], rounds: int, per: int = 1) -> dict[str, float]:
    """Warm each contender up once, time ``rounds`` interleaved rounds (the order rotating) and
    report the medians per ``per`` calls against the first contender; the ratios."""
    for func in contenders.values():
        func()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        for name in rotate(list(contenders), r):
            samples[name].append(timed(contenders[name]) / per)
    return report(title, samples, next(iter(contenders)))


R = TypeVar("R")


def parser(doc: str, rounds: int) -> argparse.ArgumentParser:
    """The options every ORM benchmark takes; each adds its own sizes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--backend", choices=("postgres", "sqlite", "all"), default="all")
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    return parser


def each_backend(args: argparse.Namespace, run: Callable[[str, str], R]) -> dict[str, R]:
    """``run(backend, url)`` for PostgreSQL and/or SQLite (a file in a temporary folder)."""
    results: dict[str, R] = {}
    with tempfile.TemporaryDirectory(prefix="storeroom-bench-") as tmp:
        for backend in ("postgres", "sqlite") if args.backend == "all" else (args.backend,):
            url = args.postgres_url if backend == "postgres" else f"sqlite:///{Path(tmp) / 'bench.db'}"
            results[backend] = run(backend, url)
    print()
    return results
