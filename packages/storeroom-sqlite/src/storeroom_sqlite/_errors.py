"""What only sqlite3 tells: result codes for locks and unopenable files, CHECK names."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import exc as sa_exc

from storeroom.errors import ConnectionFailedError, DatabaseError, TransactionError
from storeroom.sqla.errors import ErrorTranslator

__all__ = ["SQLiteErrorTranslator"]

# Primary result codes (https://sqlite.org/rescode.html); extended codes keep them in the low byte.
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26

_CHECK = re.compile(r"CHECK constraint failed: (?P<name>[^\s,]+)")


def _primary_code(orig: BaseException | None) -> int | None:
    code = getattr(orig, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


class SQLiteErrorTranslator(ErrorTranslator):
    def classify(
        self, exc: sa_exc.SQLAlchemyError, orig: BaseException | None, message: str, context: dict[str, Any]
    ) -> DatabaseError | None:
        code = _primary_code(orig)
        where = context["where"]
        if code in (SQLITE_BUSY, SQLITE_LOCKED):
            return TransactionError(
                f"{where} is locked by another connection ({message}); retry, or raise busy_timeout",
                retryable=True,
            )
        if code in (SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_PERM):
            return ConnectionFailedError(f"cannot open {where}: {message}")
        return None

    def constraint_name(self, orig: BaseException | None) -> str | None:
        """sqlite names CHECK constraints in its message; UNIQUE/NOT NULL name only columns."""
        match = _CHECK.search(str(orig)) if orig is not None else None
        return match["name"] if match else None
