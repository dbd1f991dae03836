"""Database adapters: give a one-sided database plugin the other side.

A transaction is pinned to one connection, and drivers want that connection used
from one thread (sync) or one task (async) at a time. So each adapted transaction
runs inside an *actor*: a dedicated thread (sync inner) or a single task on the
portal's loop (async inner) that opens the transaction, executes the commands sent
to it in order, and finally commits or rolls back. Savepoints nest on the actor's
stack. Calls outside a transaction simply run in a worker thread / on the portal.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from storeroom.adapters.portal import DONE, BlockingPortal, PortalBacked
from storeroom.database import (
    SQL,
    AmbientTransaction,
    AsyncDatabaseInterface,
    AsyncTransaction,
    DatabaseInterface,
    Params,
    Transaction,
    ambient_transaction,
    check_connection_allowed,
    current_owner,
    reset_ambient,
    set_ambient,
)
from storeroom.errors import DatabaseError, TransactionError
from storeroom.health import HealthResult
from storeroom.pool import PoolInfo

__all__ = ["AsyncDatabaseFromSync", "SyncDatabaseFromAsync"]

_QUERY_METHODS = ("fetch_all", "fetch_one", "fetch_value", "execute", "execute_many", "bulk_insert")
_STOP = object()


class _Rollback(Exception):
    """Raised inside an actor's transaction to roll it back when the caller's block failed."""


# -- the actor for a sync inner database (a thread) ---------------------------------------------


class _ThreadActor:
    """Runs ``with db.transaction(...)`` in its own thread; executes commands in order."""

    def __init__(self, db: DatabaseInterface, isolation_level: str | None, read_only: bool) -> None:
        self._commands: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], Future[Any]]] = queue.SimpleQueue()
        self._stack: list[tuple[Any, Any]] = []
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(db, isolation_level, read_only, started), name="storeroom-tx", daemon=True
        )
        self._thread.start()
        started.result()

    def _run(self, db: DatabaseInterface, isolation_level: str | None, read_only: bool, started: Future[None]) -> None:
        try:
            cm = db.transaction(isolation_level=isolation_level, read_only=read_only)
            self._stack.append((cm, cm.__enter__()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            started.set_exception(exc)
            return
        started.set_result(None)
        while self._stack:
            func, args, future = self._commands.get()
            try:
                future.set_result(func(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

    def check_open(self, depth: int) -> None:
        if depth >= len(self._stack):
            what = "savepoint" if depth else "transaction"
            raise TransactionError(f"this {what} has ended; open a new one")

    def submit(self, func: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._commands.put((func, args, future))
        return future

    def top(self) -> Any:
        return self._stack[-1][1]

    # commands (run in the actor thread)
    def enter_savepoint(self) -> None:
        cm = self.top().savepoint()
        self._stack.append((cm, cm.__enter__()))

    def exit_scope(self, failed: bool) -> None:
        cm, _ = self._stack.pop()
        if failed:
            try:
                cm.__exit__(_Rollback, _Rollback(), None)
            except _Rollback:
                pass
        else:
            cm.__exit__(None, None, None)


class _ThreadTxProxy(AsyncTransaction):
    """What ``async with adapted.transaction()`` yields: forwards to the actor thread."""

    def __init__(self, actor: _ThreadActor, depth: int) -> None:
        self._actor = actor
        self._depth = depth

    async def _call(self, name: str, *args: Any) -> Any:
        actor = self._actor
        actor.check_open(self._depth)
        return await asyncio.wrap_future(actor.submit(lambda: getattr(actor.top(), name)(*args)))

    async def fetch_all(self, sql: SQL, params: Params = None) -> list[dict[str, Any]]:
        return await self._call("fetch_all", sql, params)  # type: ignore[no-any-return]

    async def fetch_one(self, sql: SQL, params: Params = None) -> dict[str, Any] | None:
        return await self._call("fetch_one", sql, params)  # type: ignore[no-any-return]

    async def fetch_value(self, sql: SQL, params: Params = None) -> Any:
        return await self._call("fetch_value", sql, params)

    async def execute(self, sql: SQL, params: Params = None) -> int:
        return await self._call("execute", sql, params)  # type: ignore[no-any-return]

    async def execute_many(self, sql: SQL, seq: Sequence[Mapping[str, Any]]) -> int:
        return await self._call("execute_many", sql, list(seq))  # type: ignore[no-any-return]

    async def bulk_insert(
        self, table: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None
    ) -> int:
        return await self._call("bulk_insert", table, list(rows), columns)  # type: ignore[no-any-return]

    async def stream(self, sql: SQL, params: Params = None, batch_size: int = 1000) -> AsyncIterator[dict[str, Any]]:
        actor = self._actor
        actor.check_open(self._depth)
        iterator = await asyncio.wrap_future(actor.submit(lambda: iter(actor.top().stream(sql, params, batch_size))))
        try:
            while (row := await asyncio.wrap_future(actor.submit(next, iterator, DONE))) is not DONE:
                yield row
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                await asyncio.wrap_future(actor.submit(close))

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[AsyncTransaction]:
        self._actor.check_open(self._depth)
        await asyncio.wrap_future(self._actor.submit(self._actor.enter_savepoint))
        try:
            yield _ThreadTxProxy(self._actor, self._depth + 1)
        except BaseException:
            await asyncio.wrap_future(self._actor.submit(self._actor.exit_scope, True))
            raise
        await asyncio.wrap_future(self._actor.submit(self._actor.exit_scope, False))


class AsyncDatabaseFromSync(AsyncDatabaseInterface):
    """An :class:`AsyncDatabaseInterface` over a sync plugin (worker threads + transaction actors)."""

    def __init__(self, inner: DatabaseInterface) -> None:
        self.inner = inner
        self.name = inner.name
        self.PLUGIN_NAME = inner.PLUGIN_NAME  # type: ignore[misc]
        self.transactional_ddl = inner.transactional_ddl  # type: ignore[misc]
        self.concurrent_writers = inner.concurrent_writers  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} over {self.inner!r}>"

    @property
    def engine(self) -> Any:
        return self.inner.engine

    def _joined(self) -> _ThreadTxProxy | None:
        check_connection_allowed(self.name)
        ambient = ambient_transaction()
        if ambient is not None and isinstance(ambient.transaction, _ThreadTxProxy):
            return ambient.transaction
        return None

    async def _run(self, name: str, *args: Any) -> Any:
        tx = self._joined()
        if tx is not None:
            return await tx._call(name, *args)
        return await asyncio.to_thread(getattr(self.inner, name), *args)

    async def fetch_all(self, sql: SQL, params: Params = None) -> list[dict[str, Any]]:
        return await self._run("fetch_all", sql, params)  # type: ignore[no-any-return]

    async def fetch_one(self, sql: SQL, params: Params = None) -> dict[str, Any] | None:
        return await self._run("fetch_one", sql, params)  # type: ignore[no-any-return]

    async def fetch_value(self, sql: SQL, params: Params = None) -> Any:
        return await self._run("fetch_value", sql, params)

    async def execute(self, sql: SQL, params: Params = None) -> int:
        return await self._run("execute", sql, params)  # type: ignore[no-any-return]

    async def execute_many(self, sql: SQL, seq: Sequence[Mapping[str, Any]]) -> int:
        return await self._run("execute_many", sql, list(seq))  # type: ignore[no-any-return]

    async def bulk_insert(
        self, table: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None
    ) -> int:
        return await self._run("bulk_insert", table, list(rows), columns)  # type: ignore[no-any-return]

    async def stream(self, sql: SQL, params: Params = None, batch_size: int = 1000) -> AsyncIterator[dict[str, Any]]:
        tx = self._joined()
        if tx is not None:
            async for row in tx.stream(sql, params, batch_size):
                yield row
            return
        iterator = iter(self.inner.stream(sql, params, batch_size))
        try:
            while (row := await asyncio.to_thread(next, iterator, DONE)) is not DONE:
                yield row
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                await asyncio.to_thread(close)

    @asynccontextmanager
    async def transaction(
        self, isolation_level: str | None = None, read_only: bool = False
    ) -> AsyncIterator[AsyncTransaction]:
        joined = self._joined()
        if joined is not None:  # nested transaction() is a savepoint, as on native backends
            async with joined.savepoint() as sp:
                yield sp
            return
        actor = await asyncio.to_thread(_ThreadActor, self.inner, isolation_level, read_only)
        proxy = _ThreadTxProxy(actor, 0)
        token = set_ambient(AmbientTransaction(self.name, current_owner(), proxy))
        try:
            try:
                yield proxy
            except BaseException:
                await asyncio.wrap_future(actor.submit(actor.exit_scope, True))
                raise
            await asyncio.wrap_future(actor.submit(actor.exit_scope, False))
        finally:
            reset_ambient(token)

    async def health_check(self, timeout: float = 5.0) -> HealthResult:
        return await asyncio.to_thread(self.inner.health_check, timeout)

    async def server_version(self) -> str | None:
        return await asyncio.to_thread(self.inner.server_version)

    def pool_info(self) -> PoolInfo:
        return self.inner.pool_info()

    def session(self) -> Any:
        raise DatabaseError(
            f"the {self.PLUGIN_NAME!r} plugin has no async driver, so there is no AsyncSession; "
            "use room.database().session()"
        )

    async def close(self) -> None:
        await asyncio.to_thread(self.inner.close)


# -- the actor for an async inner database (one task on the portal loop) ---------------------


class _TaskActor:
    """Runs ``async with db.transaction(...)`` as one task on the portal's loop."""

    def __init__(
        self, portal: BlockingPortal, db: AsyncDatabaseInterface, isolation_level: str | None, read_only: bool
    ) -> None:
        self._portal = portal
        self._stack: list[tuple[Any, Any]] = []
        self._commands: asyncio.Queue[Any] = portal.call(_make_queue)
        started: Future[None] = Future()
        portal.spawn(self._run(db, isolation_level, read_only, started))
        started.result()

    async def _run(
        self, db: AsyncDatabaseInterface, isolation_level: str | None, read_only: bool, started: Future[None]
    ) -> None:
        try:
            cm = db.transaction(isolation_level=isolation_level, read_only=read_only)
            self._stack.append((cm, await cm.__aenter__()))
        except BaseException as exc:  # noqa: BLE001
            started.set_exception(exc)
            return
        started.set_result(None)
        while self._stack:
            func, args, future = await self._commands.get()
            try:
                future.set_result(await func(*args))
            except BaseException as exc:  # noqa: BLE001
                future.set_exception(exc)

    def check_open(self, depth: int) -> None:
        if depth >= len(self._stack):
            what = "savepoint" if depth else "transaction"
            raise TransactionError(f"this {what} has ended; open a new one")

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        future: Future[Any] = Future()
        self._portal.loop.call_soon_threadsafe(self._commands.put_nowait, (func, args, future))
        return future.result()

    def top(self) -> Any:
        return self._stack[-1][1]

    async def enter_savepoint(self) -> None:
        cm = self.top().savepoint()
        self._stack.append((cm, await cm.__aenter__()))

    async def exit_scope(self, failed: bool) -> None:
        cm, _ = self._stack.pop()
        if failed:
            try:
                await cm.__aexit__(_Rollback, _Rollback(), None)
            except _Rollback:
                pass
        else:
            await cm.__aexit__(None, None, None)


async def _make_queue() -> asyncio.Queue[Any]:
    return asyncio.Queue()


class _TaskTxProxy(Transaction):
    """What ``with adapted.transaction()`` yields: forwards to the actor task."""

    def __init__(self, actor: _TaskActor, depth: int) -> None:
        self._actor = actor
        self._depth = depth

    def _call(self, name: str, *args: Any) -> Any:
        actor = self._actor
        actor.check_open(self._depth)

        async def run() -> Any:
            return await getattr(actor.top(), name)(*args)

        return actor.call(run)

    def fetch_all(self, sql: SQL, params: Params = None) -> list[dict[str, Any]]:
        return self._call("fetch_all", sql, params)  # type: ignore[no-any-return]

    def fetch_one(self, sql: SQL, params: Params = None) -> dict[str, Any] | None:
        return self._call("fetch_one", sql, params)  # type: ignore[no-any-return]

    def fetch_value(self, sql: SQL, params: Params = None) -> Any:
        return self._call("fetch_value", sql, params)

    def execute(self, sql: SQL, params: Params = None) -> int:
        return self._call("execute", sql, params)  # type: ignore[no-any-return]

    def execute_many(self, sql: SQL, seq: Sequence[Mapping[str, Any]]) -> int:
        return self._call("execute_many", sql, list(seq))  # type: ignore[no-any-return]

    def bulk_insert(self, table: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> int:
        return self._call("bulk_insert", table, list(rows), columns)  # type: ignore[no-any-return]

    def stream(self, sql: SQL, params: Params = None, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
        actor = self._actor
        actor.check_open(self._depth)

        async def start() -> Any:
            return actor.top().stream(sql, params, batch_size)

        agen = actor.call(start)

        async def step() -> Any:
            try:
                return await agen.__anext__()
            except StopAsyncIteration:
                return DONE

        try:
            while (row := actor.call(step)) is not DONE:
                yield row
        finally:
            actor.call(agen.aclose)

    @contextmanager
    def savepoint(self) -> Iterator[Transaction]:
        self._actor.check_open(self._depth)
        self._actor.call(self._actor.enter_savepoint)
        try:
            yield _TaskTxProxy(self._actor, self._depth + 1)
        except BaseException:
            self._actor.call(self._actor.exit_scope, True)
            raise
        self._actor.call(self._actor.exit_scope, False)


class SyncDatabaseFromAsync(PortalBacked, DatabaseInterface):
    """A :class:`DatabaseInterface` over an async plugin, via a :class:`BlockingPortal`."""

    inner: AsyncDatabaseInterface

    def __init__(self, inner: AsyncDatabaseInterface, portal: BlockingPortal | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.PLUGIN_NAME = inner.PLUGIN_NAME  # type: ignore[misc]
        self.transactional_ddl = inner.transactional_ddl  # type: ignore[misc]
        self.concurrent_writers = inner.concurrent_writers  # type: ignore[misc]
        self._use_portal(portal)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} over {self.inner!r}>"

    @property
    def engine(self) -> Any:
        return self.inner.engine

    def _joined(self) -> _TaskTxProxy | None:
        check_connection_allowed(self.name)
        ambient = ambient_transaction()
        if ambient is not None and isinstance(ambient.transaction, _TaskTxProxy):
            return ambient.transaction
        return None

    def _run(self, name: str, *args: Any) -> Any:
        tx = self._joined()
        if tx is not None:
            return tx._call(name, *args)
        return self.portal.call(getattr(self.inner, name), *args)

    def fetch_all(self, sql: SQL, params: Params = None) -> list[dict[str, Any]]:
        return self._run("fetch_all", sql, params)  # type: ignore[no-any-return]

    def fetch_one(self, sql: SQL, params: Params = None) -> dict[str, Any] | None:
        return self._run("fetch_one", sql, params)  # type: ignore[no-any-return]

    def fetch_value(self, sql: SQL, params: Params = None) -> Any:
        return self._run("fetch_value", sql, params)

    def execute(self, sql: SQL, params: Params = None) -> int:
        return self._run("execute", sql, params)  # type: ignore[no-any-return]

    def execute_many(self, sql: SQL, seq: Sequence[Mapping[str, Any]]) -> int:
        return self._run("execute_many", sql, list(seq))  # type: ignore[no-any-return]

    def bulk_insert(self, table: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> int:
        return self._run("bulk_insert", table, list(rows), columns)  # type: ignore[no-any-return]

    def stream(self, sql: SQL, params: Params = None, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
        tx = self._joined()
        if tx is not None:
            return tx.stream(sql, params, batch_size)
        return self.portal.iterate(self.inner.stream(sql, params, batch_size))

    @contextmanager
    def transaction(self, isolation_level: str | None = None, read_only: bool = False) -> Iterator[Transaction]:
        joined = self._joined()
        if joined is not None:
            with joined.savepoint() as sp:
                yield sp
            return
        actor = _TaskActor(self.portal, self.inner, isolation_level, read_only)
        proxy = _TaskTxProxy(actor, 0)
        token = set_ambient(AmbientTransaction(self.name, current_owner(), proxy))
        try:
            try:
                yield proxy
            except BaseException:
                actor.call(actor.exit_scope, True)
                raise
            actor.call(actor.exit_scope, False)
        finally:
            reset_ambient(token)

    def health_check(self, timeout: float = 5.0) -> HealthResult:
        return self.portal.call(self.inner.health_check, timeout)

    def server_version(self) -> str | None:
        return self.portal.call(self.inner.server_version)

    def pool_info(self) -> PoolInfo:
        return self.inner.pool_info()

    def session(self) -> Any:
        raise DatabaseError(
            f"the {self.PLUGIN_NAME!r} plugin has no sync driver, so there is no Session; "
            "use room.async_database().session()"
        )
