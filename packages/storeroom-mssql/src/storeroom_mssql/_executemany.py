"""executemany with pyodbc's ``fast_executemany`` and a true row count.

pyodbc sets ``cursor.rowcount = -1`` after every ``executemany``, fast or not, so
``execute_many`` would report -1. This ``do_executemany`` handler (a SQLAlchemy
dialect event on the engine) sends a single-row ``INSERT ... VALUES (...)`` as one
parameter array (``fast_executemany``: one round trip per batch) and counts one row
per parameter set, which is exact for such a statement; any other statement
(UPDATE, DELETE, INSERT ... SELECT, MERGE) runs once per parameter set, as
pyodbc's plain executemany does anyway, summing each statement's own rowcount.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

__all__ = ["install_executemany", "is_single_row_insert", "run_executemany"]

# INSERT [INTO] <target> [(<columns>)] VALUES (<one row without nested parentheses>) [;]
_SINGLE_ROW_INSERT = re.compile(
    r"^\s*INSERT\s+(?:INTO\s+)?[^()]+?(?:\([^()]*\)\s*)?VALUES\s*\([^()]*\)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_OUTPUT = re.compile(r"\bOUTPUT\b", re.IGNORECASE)


def is_single_row_insert(statement: str) -> bool:
    """Whether every parameter set of ``statement`` inserts exactly one row."""
    return bool(_SINGLE_ROW_INSERT.match(statement)) and not _OUTPUT.search(statement)


def run_executemany(cursor: Any, statement: str, parameters: Sequence[Any], fast: bool) -> int:
    """Run ``statement`` for every parameter set; the total number of rows affected."""
    if is_single_row_insert(statement):
        if fast:  # a fresh cursor per execution: pyodbc's default is off
            cursor.fast_executemany = True
        cursor.executemany(statement, parameters)
        return len(parameters)
    total, known = 0, True
    for params in parameters:
        cursor.execute(statement, params)
        count = cursor.rowcount
        if count < 0:  # SET NOCOUNT ON: the server reports no count
            known = False
        total += max(count, 0)
    return total if known else -1


def install_executemany(engine: Engine, fast: bool) -> None:
    """Route every executemany on ``engine`` through :func:`run_executemany`."""

    @event.listens_for(engine, "do_executemany")
    def _executemany(cursor: Any, statement: str, parameters: Sequence[Any], context: Any) -> bool:
        # SQLAlchemy reports context._rowcount when set, before asking the cursor
        context._rowcount = run_executemany(cursor, statement, parameters, fast)
        return True  # executed here: SQLAlchemy must not run it again
