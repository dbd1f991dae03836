"""Repository operations as I/O-free step machines, and the two loops that run them.

An operation is a generator: it yields :class:`Query` and :class:`Bulk` steps, receives
each step's result, and returns the operation's result. It decides everything (SQL,
parameters, tenancy, what a result means); the loops only do the I/O, so sync and async
repositories share every line of logic. A :class:`Plan` says whether its steps must run
atomically: then the loop joins the ambient transaction of the database (a unit of work's
``uow.tx``, or ``db.transaction()``) when there is one, and opens one otherwise.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from storeroom.database import AsyncDatabaseInterface, DatabaseInterface, ambient_transaction

__all__ = ["Bulk", "Plan", "Query", "Step", "arun", "run"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Query:
    """One statement; ``mode``: what the operation wants back (rows, one row, a value, a rowcount)."""

    statement: Any
    params: Mapping[str, Any]
    mode: Literal["all", "one", "value", "rowcount"]


@dataclass(frozen=True, slots=True)
class Bulk:
    """Rows for the database's ``bulk_insert`` fast path (COPY on PostgreSQL)."""

    table: str
    rows: Iterable[Mapping[str, Any]]
    columns: tuple[str, ...]


Step = Query | Bulk
Steps = Generator[Any, Any, T]


@dataclass(slots=True)
class Plan(Generic[T]):
    steps: Steps[T]
    #: several statements that must commit together (or RLS settings that last one transaction)
    atomic: bool


def _joins(database: Any) -> bool:
    """Whether calls on ``database`` join a transaction already open in this thread/task."""
    ambient = ambient_transaction()
    return ambient is not None and ambient.database == database.name


def _step(target: Any, step: Step) -> Any:
    if isinstance(step, Bulk):
        return target.bulk_insert(step.table, step.rows, step.columns)
    if step.mode == "all":
        return target.fetch_all(step.statement, step.params)
    if step.mode == "one":
        return target.fetch_one(step.statement, step.params)
    if step.mode == "value":
        return target.fetch_value(step.statement, step.params)
    return target.execute(step.statement, step.params)


def _drive(target: Any, steps: Steps[T]) -> T:
    try:
        step = next(steps)
        while True:
            step = steps.send(_step(target, step))
    except StopIteration as done:
        return done.value


def run(database: DatabaseInterface, plan: Plan[T]) -> T:
    """Run ``plan`` on a sync database: in the ambient or a new transaction when atomic."""
    if not plan.atomic or _joins(database):
        return _drive(database, plan.steps)
    with database.transaction() as tx:
        return _drive(tx, plan.steps)


async def _adrive(target: Any, steps: Steps[T]) -> T:
    try:
        step = next(steps)
        while True:
            step = steps.send(await _step(target, step))
    except StopIteration as done:
        return done.value


async def arun(database: AsyncDatabaseInterface, plan: Plan[T]) -> T:
    """The async twin of :func:`run` (the same steps; only the awaiting differs)."""
    if not plan.atomic or _joins(database):
        return await _adrive(database, plan.steps)
    async with database.transaction() as tx:
        return await _adrive(tx, plan.steps)
