"""Reading rows through psycopg's own cursor, past SQLAlchemy's result machinery.

SQLAlchemy still owns the connection (pool, transaction, isolation level); only the
statement runs on the raw psycopg cursor. The ``text()`` construct is compiled once
per dialect to psycopg's ``%(name)s`` form (SQLAlchemy escapes literal ``%`` there),
so parameters stay named and are bound by the server exactly as on the SQLAlchemy
path. Rows come back as tuples; the caller zips them into dicts, which costs less
than psycopg's ``dict_row`` factory (one Python call per row) — see
``benchmarks/postgres_fetch_all.py``.

Driver errors are re-raised as SQLAlchemy ``DBAPIError``s (parameters hidden), after
invalidating the connection when it is broken, so they are translated, and the pool
treats them, exactly like errors from the SQLAlchemy path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import exc as sa_exc

from storeroom.errors import QueryError
from storeroom.sqla.statements import native_ready

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable

__all__ = ["afetch", "async_driver_errors", "driver_errors", "driver_sql", "fetch"]

Rows = tuple[Sequence[str], Sequence[Sequence[Any]]]

_NO_ROWS = "the statement returns no rows; use execute() for statements without a result"


@lru_cache(maxsize=2048)
def driver_sql(clause: Executable, dialect: Dialect) -> str | None:
    """``clause`` as psycopg SQL with ``%(name)s`` placeholders; None when names would need
    rewriting, or a Core construct needs SQLAlchemy's value processing (then the SQLAlchemy
    path is used; see ``storeroom.sqla.statements.native_ready``)."""
    if not native_ready(clause, dialect):
        return None
    compiled = clause.compile(dialect=dialect)  # type: ignore[attr-defined]
    if getattr(compiled, "escaped_bind_names", None):
        return None
    return compiled.string


def _wrap(
    exc: psycopg.Error, statement: str, params: Any, dialect: Dialect, invalidated: bool
) -> sa_exc.StatementError:
    return sa_exc.DBAPIError.instance(
        statement,
        params,
        exc,
        psycopg.Error,
        hide_parameters=True,
        dialect=dialect,
        connection_invalidated=invalidated,
    )


@contextmanager
def driver_errors(conn: Connection, statement: str, params: Any = None) -> Iterator[None]:
    """psycopg errors raised in the block -> ``DBAPIError`` (connection invalidated if broken)."""
    try:
        yield
    except psycopg.Error as exc:
        dialect = conn.dialect
        broken = dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)  # type: ignore[arg-type]
        if broken:
            conn.invalidate(exc)
        raise _wrap(exc, statement, params, dialect, broken) from exc


@asynccontextmanager
async def async_driver_errors(conn: AsyncConnection, statement: str, params: Any = None) -> AsyncIterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        dialect = conn.dialect
        broken = dialect.is_disconnect(exc, conn.sync_connection.connection.dbapi_connection, None)  # type: ignore[union-attr,arg-type]
        if broken:
            await conn.invalidate(exc)
        raise _wrap(exc, statement, params, dialect, broken) from exc


def _keys(cursor: Any, shown: str) -> tuple[str, ...]:
    description = cursor.description
    if description is None:
        raise QueryError(f"{_NO_ROWS} [statement: {' '.join(shown.split())[:300]}]", statement=shown)
    return tuple(column.name for column in description)


def fetch(conn: Connection, sql: str, params: Mapping[str, Any], one: bool, shown: str) -> Rows:
    """Run ``sql`` on the raw psycopg connection behind ``conn``; ``shown``: the caller's SQL."""
    driver: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    with driver_errors(conn, sql, params), driver.cursor() as cursor:
        cursor.execute(sql, params)
        keys = _keys(cursor, shown)
        if not one:
            return keys, cursor.fetchall()
        row = cursor.fetchone()
        return keys, () if row is None else (row,)


async def afetch(conn: AsyncConnection, sql: str, params: Mapping[str, Any], one: bool, shown: str) -> Rows:
    """Async twin of :func:`fetch`, awaiting psycopg's ``AsyncConnection`` directly."""
    driver: psycopg.AsyncConnection[Any] = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr,assignment]
    async with async_driver_errors(conn, sql, params), driver.cursor() as cursor:
        await cursor.execute(sql, params)
        keys = _keys(cursor, shown)
        if not one:
            return keys, await cursor.fetchall()
        row = await cursor.fetchone()
        return keys, () if row is None else (row,)
