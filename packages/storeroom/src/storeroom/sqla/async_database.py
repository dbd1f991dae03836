"""The async SQLAlchemy-backed :class:`~storeroom.database.AsyncDatabaseInterface`.

It mirrors :mod:`storeroom.sqla.database` line for line where awaiting differs, and
shares everything else through :class:`~storeroom.sqla.base.SqlaBase` (dialect
hooks run on the sync connection via ``AsyncConnection.run_sync``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL

from storeroom.database import AsyncDatabaseInterface
from storeroom.health import HealthResult
from storeroom.sqla.base import SqlaBase, normalise_isolation_level
from storeroom.sqla.engine import build_async_engine
from storeroom.sqla.queries import AsyncQueries
from storeroom.sqla.transaction import AsyncSqlaTransaction, arollback_quietly

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from storeroom.config.models import PoolSettings

__all__ = ["AsyncSqlaDatabase"]


def _forget(tasks: set[asyncio.Future[Any]]) -> Any:
    def done(task: asyncio.Future[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: an abandoned probe's failure is already reported

    return done


class AsyncSqlaDatabase(SqlaBase, AsyncQueries, AsyncDatabaseInterface):
    """A named, pooled database on a SQLAlchemy ``AsyncEngine``."""

    _is_async = True

    def __init__(
        self,
        url: str | URL,
        *,
        name: str = "default",
        pool: PoolSettings | None = None,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        SqlaBase.__init__(self, url, name=name, pool=pool, engine_options=engine_options)
        self._background: set[asyncio.Future[Any]] = set()

    def _create_engine(self, url: URL, options: Mapping[str, Any]) -> AsyncEngine:
        return build_async_engine(url, options)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine  # type: ignore[no-any-return]

    @property
    def _db(self) -> SqlaBase:
        return self

    # -- connections ---------------------------------------------------------------------------

    async def _connect(self) -> AsyncConnection:
        with self._errors(None, "connect"):
            return await self._engine.connect()  # type: ignore[no-any-return]

    @asynccontextmanager
    async def _use(self, statement: str | None, single: bool = True) -> AsyncIterator[AsyncConnection]:
        self._precheck()
        tx = self._joined()
        if tx is not None:
            tx._ensure_active()
            with self._errors(statement):
                yield tx.connection
            return
        conn = await self._connect()
        try:
            if single:
                self._single_statement(conn.sync_connection)  # type: ignore[arg-type]
            with self._errors(statement):
                async with conn.begin():
                    yield conn
        finally:
            await conn.close()

    # -- transactions --------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(
        self, isolation_level: str | None = None, read_only: bool = False
    ) -> AsyncIterator[AsyncSqlaTransaction]:
        """Commit on success, roll back on an exception (which propagates unchanged).

        Joined by calls from the same task only: child tasks get their own connection.
        """
        self._precheck()
        outer = self._joined()
        if outer is not None:
            outer.check_nested(isolation_level, read_only)
            async with outer.savepoint() as savepoint:
                yield savepoint
            return
        level = normalise_isolation_level(isolation_level)
        conn = await self._connect()
        try:
            with self._errors(None, "transaction"):
                await conn.run_sync(self._begin, level, read_only)
            tx = AsyncSqlaTransaction(self, conn, read_only=read_only, isolation_level=level)
            token = self._enter_ambient(tx)
            try:
                yield tx
            except BaseException:
                tx._active = False
                self._leave_ambient(token)
                await arollback_quietly(self, conn.rollback)
                raise
            tx._active = False
            self._leave_ambient(token)
            with self._errors(None, "transaction"):
                try:
                    await conn.commit()
                except BaseException:
                    await arollback_quietly(self, conn.invalidate)  # see SqlaDatabase.transaction
                    raise
        finally:
            try:
                if read_only and not conn.invalidated:
                    await conn.run_sync(self._finish_read_only)
            finally:
                await conn.close()

    # -- health, sessions, lifecycle -----------------------------------------------------------

    async def _probe(self) -> str | None:
        conn = await self._connect()
        try:
            with self._errors(self.health_query):
                return await conn.run_sync(self._probe_on)
        finally:
            await conn.close()

    async def _probe_within(self, timeout: float) -> str | None:
        """Like ``asyncio.wait_for``, but without waiting for a hung probe to finish cancelling.

        A driver running the query in a worker thread (aiosqlite) can only close the
        connection after the query ends; the report must not wait for that.
        """
        task = asyncio.ensure_future(self._probe())
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if task in done:
            return task.result()
        task.cancel()
        self._background.add(task)
        task.add_done_callback(_forget(self._background))
        raise TimeoutError(f"no answer within {timeout:g}s")

    async def health_check(self, timeout: float = 5.0) -> HealthResult:
        """``SELECT 1`` under ``timeout``; never raises."""
        early = self._health_without_probe()
        if early is not None:
            return early
        started = time.perf_counter()
        try:
            version = await self._probe_within(timeout)
        except Exception as exc:  # noqa: BLE001 - reported as UNHEALTHY, never raised
            return self._health_after_probe(started, time.perf_counter(), error=exc)
        return self._health_after_probe(started, time.perf_counter(), version)

    async def server_version(self) -> str | None:
        version = self._server_version_known()
        if version is None:
            self._check_open()
            await (await self._connect()).close()
            version = self._server_version_known()
        return version

    def session(self, **options: Any) -> Any:
        """A SQLAlchemy ``AsyncSession``; inside an open transaction it runs on its connection."""
        from sqlalchemy.ext.asyncio import AsyncSession

        return AsyncSession(**self._session_options(options))

    async def close(self) -> None:
        """Dispose of the pool. Idempotent; the database cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        await self._engine.dispose()
