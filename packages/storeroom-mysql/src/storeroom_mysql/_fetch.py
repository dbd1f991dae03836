"""Reading rows through asyncmy's own cursor, skipping SQLAlchemy's result machinery.

Measured (``benchmarks/mysql_fetch_all.py``): for 10k rows SQLAlchemy's async adapter
plus ``Row`` objects cost ~35 % over a raw asyncmy cursor, while the driver itself is
fast (Cython). The statement is still compiled by SQLAlchemy's MySQL dialect (named
parameters, ``%`` escaping, the paramstyle) and run on the pooled connection of the
current transaction; only execution and fetching go straight to the driver.

What SQLAlchemy would otherwise do is done here too: driver errors become
``DBAPIError``s (so they are translated like any other), a disconnect invalidates the
connection, and concurrent use of one connection is serialised by the adapter's mutex.
Engines with ``before/after_cursor_execute`` listeners (tracing, logging) keep the
ordinary path, so those listeners see every statement.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc as sa_exc

from storeroom.errors import QueryError
from storeroom.redaction import redact
from storeroom.sqla.statements import statement_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect, Engine
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.base import Executable

__all__ = ["afetch_dicts", "afetch_rows", "driver_args", "driver_sql", "has_cursor_listeners"]

Rows = tuple[Sequence[str], Sequence[Sequence[Any]]]


@lru_cache(maxsize=1024)
def driver_sql(clause: Executable, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The SQL the driver receives and, for positional paramstyles, the parameter order."""
    compiled = clause.compile(dialect=dialect)  # type: ignore[attr-defined]
    names = tuple(compiled.positiontup or ()) if compiled.positional else None
    return compiled.string, names


def driver_args(names: tuple[str, ...] | None, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
    # Never None: the compiled SQL escapes literal '%' as '%%', which only %-formatting undoes.
    if names is None:
        return dict(params)
    return tuple(params[name] for name in names)


def has_cursor_listeners(engine: Engine) -> bool:
    dispatch = engine.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


def _no_rows(sql: str) -> QueryError:
    return QueryError(
        "the statement returns no rows; use execute() for statements without a result", statement=redact(sql)
    )


async def _run(
    conn: AsyncConnection,
    clause: Executable,
    params: Mapping[str, Any],
    fetch: Callable[[Any], Awaitable[Any]],
    dicts: bool,
) -> tuple[tuple[str, ...], Any]:
    """Execute on the pooled asyncmy connection and ``fetch`` from its cursor, as SQLAlchemy would."""
    sync = conn.sync_connection
    assert sync is not None
    dialect = sync.dialect
    sql, names = driver_sql(clause, dialect)
    args = driver_args(names, params)
    pooled = sync.connection  # raises if the connection was invalidated
    adapted: Any = pooled.dbapi_connection
    driver: Any = pooled.driver_connection
    mutex = getattr(adapted, "_execute_mutex", None) or contextlib.nullcontext()
    dbapi: Any = dialect.loaded_dbapi
    async with mutex:
        cursor = driver.cursor(_dict_cursor() if dicts else None)
        try:
            await cursor.execute(sql, args)
            description = cursor.description
            if description is None:
                raise _no_rows(statement_text(clause))
            return tuple(column[0] for column in description), await fetch(cursor)
        except dbapi.Error as exc:
            disconnect = dialect.is_disconnect(exc, adapted, cursor)
            error = sa_exc.DBAPIError.instance(
                sql, args, exc, dbapi.Error, hide_parameters=True, dialect=dialect, connection_invalidated=disconnect
            )
            if disconnect:
                with contextlib.suppress(Exception):
                    await conn.invalidate(exc)
            raise error from exc
        except BaseException as exc:
            # cancelled (or interrupted) mid-statement: the protocol state is unknown, so the
            # connection is discarded, as SQLAlchemy does; the cancellation propagates as it is
            if not isinstance(exc, Exception):
                with contextlib.suppress(Exception):
                    await conn.invalidate(exc)
            raise
        finally:
            with contextlib.suppress(Exception):
                await cursor.close()


def _dict_cursor() -> Any:
    from asyncmy.cursors import DictCursor

    return DictCursor


async def _first(cursor: Any) -> Sequence[Sequence[Any]]:
    row = await cursor.fetchone()
    return () if row is None else (row,)


async def _all(cursor: Any) -> Sequence[Any]:
    return await cursor.fetchall()


async def afetch_rows(conn: AsyncConnection, clause: Executable, params: Mapping[str, Any], one: bool) -> Rows:
    """Column names and rows (tuples): the core ``_afetch_on`` hook's contract."""
    return await _run(conn, clause, params, _first if one else _all, dicts=False)


async def afetch_dicts(conn: AsyncConnection, clause: Executable, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every row as a dict built by asyncmy's ``DictCursor`` in C.

    ``DictCursor`` renames a repeated column name (``t.id``); storeroom lets the last one
    win everywhere else, so such rows are rebuilt from their values in column order.
    """
    keys, rows = await _run(conn, clause, params, _all, dicts=True)
    if len(set(keys)) != len(keys):
        return [dict(zip(keys, row.values(), strict=True)) for row in rows]
    return rows if isinstance(rows, list) else list(rows)
