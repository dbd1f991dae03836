"""Open transactions: a pinned connection plus nestable savepoints.

A transaction object is a view of one connection; ``savepoint()`` returns another
view of the same connection whose scope is a SAVEPOINT. Leaving a scope with an
exception rolls it back and lets the exception propagate unchanged; leaving it
normally releases (savepoint) or is committed by the database (root).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from storeroom.database import AsyncTransaction, Transaction
from storeroom.errors import TransactionError
from storeroom.sqla.base import normalise_isolation_level
from storeroom.sqla.queries import AsyncQueries, SyncQueries

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection

    from storeroom.sqla.base import SqlaBase

__all__ = ["AsyncSqlaTransaction", "SqlaTransaction", "TransactionState", "arollback_quietly"]


class TransactionState:
    """What sync and async transactions share: identity, options, liveness, nesting rules."""

    def __init__(
        self,
        database: SqlaBase,
        connection: Any,
        *,
        read_only: bool = False,
        isolation_level: str | None = None,
        depth: int = 0,
    ) -> None:
        self.database = database
        self.connection = connection
        self.read_only = read_only
        self.isolation_level = isolation_level
        self.depth = depth
        self._active = True

    @property
    def _db(self) -> SqlaBase:
        return self.database

    @property
    def active(self) -> bool:
        return self._active

    def _ensure_active(self) -> None:
        if not self._active:
            what = "savepoint" if self.depth else "transaction"
            raise TransactionError(f"this {what} on database {self.database.name!r} has already ended")

    def _precheck(self) -> None:
        self._ensure_active()

    def _child_options(self) -> dict[str, Any]:
        return {"read_only": self.read_only, "isolation_level": self.isolation_level, "depth": self.depth + 1}

    def check_nested(self, isolation_level: str | None, read_only: bool) -> None:
        """A nested ``transaction()`` becomes a savepoint, which cannot change these options."""
        level = normalise_isolation_level(isolation_level)
        if level is not None and level != self.isolation_level:
            raise TransactionError(
                f"cannot use isolation level {level!r} inside the transaction already open on database "
                f"{self.database.name!r} (opened with {self.isolation_level or 'the default level'})"
            )
        if read_only and not self.read_only:
            raise TransactionError(
                f"cannot open a read-only transaction inside the read-write transaction already open on "
                f"database {self.database.name!r}"
            )

    def __repr__(self) -> str:
        state = "active" if self._active else "ended"
        kind = f"savepoint depth={self.depth}" if self.depth else "transaction"
        return f"<{type(self).__name__} {kind} database={self.database.name!r} {state}>"


class SqlaTransaction(TransactionState, SyncQueries, Transaction):
    connection: Connection

    @contextmanager
    def _use(self, statement: str | None, single: bool = True) -> Iterator[Connection]:
        self._ensure_active()
        with self.database._errors(statement):
            yield self.connection

    @contextmanager
    def savepoint(self) -> Iterator[SqlaTransaction]:
        """A nested scope: rolled back alone on an exception, released otherwise."""
        self._ensure_active()
        with self.database._errors(None, "transaction"):
            nested = self.connection.begin_nested()
        child = SqlaTransaction(self.database, self.connection, **self._child_options())
        try:
            yield child
        except BaseException:
            child._active = False
            if nested.is_active:
                self.database._rollback_quietly(nested.rollback)
            raise
        child._active = False
        with self.database._errors(None, "transaction"):
            nested.commit()


class AsyncSqlaTransaction(TransactionState, AsyncQueries, AsyncTransaction):
    connection: AsyncConnection

    @asynccontextmanager
    async def _use(self, statement: str | None, single: bool = True) -> AsyncIterator[AsyncConnection]:
        self._ensure_active()
        with self.database._errors(statement):
            yield self.connection

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[AsyncSqlaTransaction]:
        self._ensure_active()
        with self.database._errors(None, "transaction"):
            nested = await self.connection.begin_nested()
        child = AsyncSqlaTransaction(self.database, self.connection, **self._child_options())
        try:
            yield child
        except BaseException:
            child._active = False
            if nested.is_active:
                await arollback_quietly(self.database, nested.rollback)
            raise
        child._active = False
        with self.database._errors(None, "transaction"):
            await nested.commit()


async def arollback_quietly(database: SqlaBase, rollback: Any) -> None:
    """Async twin of ``SqlaBase._rollback_quietly``: a failed rollback must not mask the error."""
    try:
        await rollback()
    except Exception as exc:  # noqa: BLE001 - the propagating exception matters more
        database._log_rollback_failure(exc)
