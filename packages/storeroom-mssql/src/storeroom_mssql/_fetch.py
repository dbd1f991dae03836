"""Fetch in batches of ``yield_per`` although pyodbc has no server-side cursor.

SQLAlchemy ignores ``stream_results`` on a dialect without server-side cursors and,
for a ``text()`` statement, ``partitions()`` without a size reads with the DBAPI's
default ``fetchmany()`` size: the cursor's ``arraysize``, 1 unless set. Setting it from
the ``yield_per`` option before each statement makes every such ``fetchmany`` read one
batch (storeroom's own ``stream`` also passes the size explicitly). SQL Server sends a
result as the client reads it, so memory stays bounded either way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

__all__ = ["install_fetch_batches"]


def install_fetch_batches(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _fetch_batches(_conn: Any, cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        size = context.execution_options.get("yield_per") if context is not None else None
        if isinstance(size, int) and size > 0:
            cursor.arraysize = size
