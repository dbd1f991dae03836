"""Repository operations as I/O-free step machines, and the two loops that run them.

An operation is a generator: it yields :class:`Query` and :class:`Bulk` steps, receives
each step's result, and returns the operation's result. It decides everything (SQL,
parameters, tenancy, what a result means); the loops only do the I/O, so sync and async
repositories share every line of logic. A :class:`Plan` says whether its steps must run
atomically: then the loop joins the ambient transaction of the database (a unit of work's
``uow.tx``, or ``db.transaction()``) when there is one, and opens one otherwise; a plan
that can be made again (``again``) is retried after a deadlock or serialization failure in
a transaction of its own.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from storeroom.database import AsyncDatabaseInterface, DatabaseInterface, ambient_transaction
from storeroom.errors import TransactionError

__all__ = ["RETRY_DELAYS", "Bulk", "Plan", "Query", "Step", "arun", "retry_delay", "run"]

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
    #: fresh steps of the same operation: set, a plan in a transaction of its own is run
    #: again after a deadlock or serialization failure (never inside the caller's transaction,
    #: whose earlier work the server has rolled back too)
    again: Callable[[], Steps[T]] | None = None


#: pauses before the further attempts of a retried plan (each spread by +-50 % jitter)
RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4)


def retry_delay(plan: Plan[Any], error: TransactionError, attempt: int) -> float | None:
    """How long to wait before attempt ``attempt + 1`` of ``plan`` after ``error``; None: give up."""
    if plan.again is None or not error.retryable or attempt >= len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempt] * (0.5 + random.random())


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
    steps, attempt = plan.steps, 0
    while True:
        try:
            with database.transaction() as tx:
                return _drive(tx, steps)
        except TransactionError as exc:
            delay = retry_delay(plan, exc, attempt)
            if delay is None or plan.again is None:
                raise
        time.sleep(delay)
        steps, attempt = plan.again(), attempt + 1


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
    steps, attempt = plan.steps, 0
    while True:
        try:
            async with database.transaction() as tx:
                return await _adrive(tx, steps)
        except TransactionError as exc:
            delay = retry_delay(plan, exc, attempt)
            if delay is None or plan.again is None:
                raise
        await asyncio.sleep(delay)
        steps, attempt = plan.again(), attempt + 1
