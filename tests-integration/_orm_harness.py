"""Harness for the ORM tests (see orm/conftest.py): one set of repository behaviour tests over SQLite, PostgreSQL and MariaDB, sync and async.

``orm`` is an :class:`OrmEnv`: it defines models on a MetaData of its own with unique table
names, creates the tables with ``metadata.create_all`` on the backend's engine, and hands
out repositories. On the async side a repository is wrapped so each call runs on the test's
event loop (in a task, which copies the test's ``tenant()``/``actor()`` context): the tests
read the same for both sides, and the async code path is the one exercised.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from storeroom_orm import AsyncRepository, Field, Model, Repository

BACKENDS = ("sqlite", "postgres", "mariadb")
SIDES = ("sync", "async")


def temporal_doc(define: Any, prefix: str, temporal: str, *, create: OrmEnv | None = None, **options: Any) -> Any:
    """The document model the temporal tests share: a business key, a Decimal, a nullable text.

    ``create``: the env whose tables to create right away.
    """

    class Doc(Model, **define(prefix, temporal=temporal, **options)):
        title: str = Field(max_length=100, unique=True)
        price: Decimal = Field(Decimal("0"), max_digits=12, decimal_places=2)
        note: str | None = None

    if create is not None:
        create.create_all()
    return Doc


def unique(prefix: str = "orm") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


class Awaiting:
    """A repository whose coroutine results are run to completion on ``loop``."""

    def __init__(self, repo: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._repo = repo
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._repo, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            return self._loop.run_until_complete(result) if inspect.isawaitable(result) else result

        return call


class SqlCounter:
    """Connections checked out and statements sent, from the engine's own events.

    A checkout is counted even where a native path runs the statement on the raw driver
    cursor (which SQLAlchemy's cursor events do not see): no checkout, no SQL.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.checkouts = 0
        self.statements: list[str] = []
        event.listen(engine.pool, "checkout", self._checkout)
        event.listen(engine, "before_cursor_execute", self._execute)

    def _checkout(self, *args: Any) -> None:
        self.checkouts += 1

    def _execute(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @property
    def total(self) -> int:
        return self.checkouts + len(self.statements)


class OrmEnv:
    def __init__(self, backend: str, side: str, database: Any, sync_database: Any, loop: asyncio.AbstractEventLoop):
        self.backend = backend
        self.side = side
        self.database = database
        self.sync_database = sync_database
        self.loop = loop
        self.metadata = sa.MetaData()
        self.counter = SqlCounter(self.sync_engine)

    @property
    def sync_engine(self) -> sa.Engine:
        engine = self.database.engine
        return engine.sync_engine if hasattr(engine, "sync_engine") else engine

    def name(self, prefix: str = "orm") -> str:
        return unique(prefix)

    def create_all(self) -> None:
        self.metadata.create_all(self.sync_database.engine)

    def repo(self, model: type[Any], **options: Any) -> Any:
        if self.side == "sync":
            return Repository(model, self.database, **options)
        return Awaiting(AsyncRepository(model, self.database, **options), self.loop)

    def run(self, value: Any) -> Any:
        return self.loop.run_until_complete(value) if inspect.isawaitable(value) else value

    def raw(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Raw SQL through the sync database (outside the ORM)."""
        return self.sync_database.fetch_all(sql, params)

    def close(self) -> None:
        self.metadata.drop_all(self.sync_database.engine)
        self.run(self.database.close()) if self.side == "async" else self.database.close()
        self.sync_database.close()
