"""What the ORM benchmarks share: the benchmark model, its raw DDL-free table, backends, contenders.

The model has the shape the issue's targets talk about: five user fields (text, a status,
a Decimal, an int, a JSON object) plus the injected system fields (id, tenant_id, two
timestamps, two actors): 11 columns.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from storeroom_orm import Field, Model

__all__ = ["SQL_COLUMNS", "bench_model", "make_items", "sqlmodel_class"]

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


def bench_model(table: str, metadata: sa.MetaData) -> Any:
    class Item(Model, table=table, metadata=metadata):
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
