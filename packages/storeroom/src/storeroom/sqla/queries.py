"""The query methods, written once per side for databases and transactions alike.

A database and a transaction differ only in where the connection comes from, which
``_use(statement)`` supplies: a transaction yields its pinned connection; a database
joins the ambient transaction or checks out a connection for one short transaction.
Statement building, parameter checks and row conversion are shared with the other
side through :mod:`storeroom.sqla.statements` and :mod:`storeroom.sqla.results`.
Reading rows and bulk inserting go through the database's dialect hooks
(``_fetch_on``/``_afetch_on``, ``_bulk_insert_on``/``_abulk_insert_on``), so a dialect
can take a native driver path (psycopg's raw cursor, COPY) for both databases and
transactions at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any

from storeroom.sqla.results import to_dicts
from storeroom.sqla.statements import BulkInsert, Statement, check_batch_size, prepare, prepare_many, statement_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable

    from storeroom.sqla.base import SqlaBase

__all__ = ["AsyncQueries", "SyncQueries"]


#: the driver's rowcount for every statement (SQLAlchemy keeps it only for UPDATE/DELETE constructs)
_ROWCOUNT = {"preserve_rowcount": True}


def _stream_options(batch_size: int) -> dict[str, Any]:
    return {"stream_results": True, "yield_per": batch_size}


class _QueryHost:
    """What the query mixins need from the class they are mixed into."""

    @property
    def _db(self) -> SqlaBase:
        raise NotImplementedError

    def _precheck(self) -> None:
        """Fail before any work: a closed database, a foreign transaction, an ended one."""
        raise NotImplementedError


class SyncQueries(_QueryHost):
    """``fetch_*``, ``execute*``, ``stream`` and ``bulk_insert`` over ``self._use``."""

    def _use(self, statement: str | None, single: bool = True) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def fetch_all(self, sql: Statement, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row, as dicts keyed by column name."""
        clause, bound = prepare(sql, params)
        with self._use(statement_text(sql)) as conn:
            keys, rows = self._db._fetch_on(conn, clause, bound, False)
        return list(to_dicts(keys, rows))

    def fetch_one(self, sql: Statement, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The first row, or None when there is none."""
        clause, bound = prepare(sql, params)
        with self._use(statement_text(sql)) as conn:
            keys, rows = self._db._fetch_on(conn, clause, bound, True)
        return dict(zip(keys, rows[0], strict=True)) if rows else None

    def fetch_value(self, sql: Statement, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        clause, bound = prepare(sql, params)
        with self._use(statement_text(sql)) as conn:
            _, rows = self._db._fetch_on(conn, clause, bound, True)
        return rows[0][0] if rows else None

    def execute(self, sql: Statement, params: Mapping[str, Any] | None = None) -> int:
        """Run one statement; the driver's rowcount (-1 where it has none)."""
        clause, bound = prepare(sql, params)
        with self._use(statement_text(sql)) as conn:
            return int(conn.execute(clause, bound, execution_options=_ROWCOUNT).rowcount)

    def execute_many(self, sql: Statement, seq: Sequence[Mapping[str, Any]]) -> int:
        """Run one statement per parameter set (a DBAPI executemany); total rowcount."""
        clause, rows = prepare_many(sql, seq)
        self._precheck()
        if not rows:
            return 0
        with self._use(statement_text(sql), single=False) as conn:
            return int(conn.execute(clause, rows, execution_options=_ROWCOUNT).rowcount)

    def stream(
        self, sql: Statement, params: Mapping[str, Any] | None = None, batch_size: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Rows fetched ``batch_size`` at a time from a server-side cursor.

        Lazy: the connection is taken on the first ``next()`` and given back when the
        iterator is exhausted or closed (``break`` in a ``for`` loop closes it at once).
        """
        clause, bound = prepare(sql, params)
        check_batch_size(batch_size)
        self._precheck()
        return self._stream(statement_text(sql), clause, bound, batch_size)

    def _stream(
        self, sql: str, clause: Executable, bound: Mapping[str, Any], batch_size: int
    ) -> Iterator[dict[str, Any]]:
        with self._use(statement_text(sql)) as conn:
            result = conn.execute(clause, bound, execution_options=_stream_options(batch_size))
            try:
                keys = tuple(result.keys())
                # an explicit size: with only the yield_per option, SQLAlchemy 2.1 returns one
                # partition holding every row (measured on PostgreSQL's named cursors)
                for partition in result.partitions(batch_size):
                    yield from to_dicts(keys, partition)
            finally:
                result.close()

    def bulk_insert(self, table: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> int:
        """Insert many rows in one transaction; the number inserted (0 for no rows)."""
        plan = BulkInsert(table, columns, self._db.bulk_batch_size)
        self._precheck()
        checked = plan.start(rows)
        if checked is None:
            return 0
        with self._use(None, single=False) as conn:
            return self._db._bulk_insert_on(conn, plan, checked)


class AsyncQueries(_QueryHost):
    """The async twin of :class:`SyncQueries`."""

    def _use(self, statement: str | None, single: bool = True) -> AbstractAsyncContextManager[AsyncConnection]:
        raise NotImplementedError

    async def fetch_all(self, sql: Statement, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        clause, bound = prepare(sql, params)
        async with self._use(statement_text(sql)) as conn:
            keys, rows = await self._db._afetch_on(conn, clause, bound, False)
        return list(to_dicts(keys, rows))

    async def fetch_one(self, sql: Statement, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        clause, bound = prepare(sql, params)
        async with self._use(statement_text(sql)) as conn:
            keys, rows = await self._db._afetch_on(conn, clause, bound, True)
        return dict(zip(keys, rows[0], strict=True)) if rows else None

    async def fetch_value(self, sql: Statement, params: Mapping[str, Any] | None = None) -> Any:
        clause, bound = prepare(sql, params)
        async with self._use(statement_text(sql)) as conn:
            _, rows = await self._db._afetch_on(conn, clause, bound, True)
        return rows[0][0] if rows else None

    async def execute(self, sql: Statement, params: Mapping[str, Any] | None = None) -> int:
        clause, bound = prepare(sql, params)
        async with self._use(statement_text(sql)) as conn:
            return int((await conn.execute(clause, bound, execution_options=_ROWCOUNT)).rowcount)

    async def execute_many(self, sql: Statement, seq: Sequence[Mapping[str, Any]]) -> int:
        clause, rows = prepare_many(sql, seq)
        self._precheck()
        if not rows:
            return 0
        async with self._use(statement_text(sql), single=False) as conn:
            return int((await conn.execute(clause, rows, execution_options=_ROWCOUNT)).rowcount)

    def stream(
        self, sql: Statement, params: Mapping[str, Any] | None = None, batch_size: int = 1000
    ) -> AsyncIterator[dict[str, Any]]:
        """Rows fetched ``batch_size`` at a time (server-side cursor where the driver has one).

        To stop early and give the connection back at once, iterate inside
        ``async with contextlib.aclosing(db.stream(...)) as rows:``; a bare ``break``
        leaves closing to the event loop's async-generator finaliser.
        """
        clause, bound = prepare(sql, params)
        check_batch_size(batch_size)
        self._precheck()
        return self._stream(statement_text(sql), clause, bound, batch_size)

    async def _stream(
        self, sql: str, clause: Executable, bound: Mapping[str, Any], batch_size: int
    ) -> AsyncIterator[dict[str, Any]]:
        async with self._use(statement_text(sql)) as conn:
            if conn.dialect.supports_server_side_cursors:
                result = await conn.stream(clause, bound, execution_options={"yield_per": batch_size})
                try:
                    keys = tuple(result.keys())
                    async for partition in result.partitions(batch_size):
                        for row in to_dicts(keys, partition):
                            yield row
                finally:
                    await result.close()
            else:  # buffered by the driver; still handed out in batches
                buffered = await conn.execute(clause, bound)
                keys = tuple(buffered.keys())
                for partition in buffered.partitions(batch_size):
                    for row in to_dicts(keys, partition):
                        yield row

    async def bulk_insert(
        self, table: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None
    ) -> int:
        plan = BulkInsert(table, columns, self._db.bulk_batch_size)
        self._precheck()
        checked = plan.start(rows)
        if checked is None:
            return 0
        async with self._use(None, single=False) as conn:
            return await self._db._abulk_insert_on(conn, plan, checked)
