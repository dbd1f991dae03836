"""What only PostgreSQL tells: SQLSTATE classes and the violated constraint's name.

psycopg exposes the server's SQLSTATE as ``exc.sqlstate`` and its diagnostics as
``exc.diag`` (``constraint_name`` among them), so classification never parses
message text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc as sa_exc

from storeroom.errors import ConnectionFailedError, DatabaseError, QueryError, TransactionError
from storeroom.sqla.errors import ErrorTranslator

__all__ = ["PostgresErrorTranslator"]

#: run the transaction again and it may succeed
_RETRYABLE = {
    "40001": "serialization failure",
    "40P01": "deadlock detected",
    "55P03": "lock not available",
}
#: the session is gone or was never established (connection exception, auth, missing database)
_CONNECTION_CLASSES = ("08", "28")
_CONNECTION_STATES = {
    "3D000",  # invalid_catalog_name: the database does not exist
    "53300",  # too_many_connections
    "57P01",  # admin_shutdown (pg_terminate_backend)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (starting up / shutting down)
}
_QUERY_CANCELED = "57014"
#: invalid input syntax, out of range ...: the message quotes the offending value
_DATA_EXCEPTION = "22"


def sqlstate(orig: BaseException | None) -> str | None:
    state = getattr(orig, "sqlstate", None)
    return state if isinstance(state, str) else None


class PostgresErrorTranslator(ErrorTranslator):
    def classify(
        self, exc: sa_exc.SQLAlchemyError, orig: BaseException | None, message: str, context: dict[str, Any]
    ) -> DatabaseError | None:
        state = sqlstate(orig)
        if state is None:
            return None
        where = context["where"]
        statement = context["statement"]
        shown = f" [statement: {_flat(statement)}]" if statement else ""
        if state in _RETRYABLE:
            return TransactionError(
                f"{_RETRYABLE[state]} on {where} ({message}); run the whole transaction again",
                retryable=True,
                sqlstate=state,
            )
        if state.startswith(_CONNECTION_CLASSES) or state in _CONNECTION_STATES:
            return ConnectionFailedError(
                f"could not reach {where}: {message}",
                sqlstate=state,
                retryable=state.startswith("57P") or state == "53300",
            )
        if state.startswith(_DATA_EXCEPTION) and statement and statement.lstrip()[:4].upper() == "COPY":
            # COPY sends its values unbound, so no parameter masks the one the server quotes back
            return QueryError(
                f"query failed on {where}: {_mask_quoted(message)}{shown}", statement=statement, sqlstate=state
            )
        if state == _QUERY_CANCELED:
            timed_out = "statement timeout" in message
            reason = "timed out (statement_timeout)" if timed_out else "was cancelled"
            return QueryError(
                f"statement {reason} on {where}: {message}{shown}",
                statement=statement,
                sqlstate=state,
                timeout=timed_out,
            )
        return None

    def annotate(self, error: DatabaseError, exc: BaseException) -> None:
        """``.sqlstate`` on every error the server sent one for."""
        state = sqlstate(getattr(exc, "orig", None))
        if state is not None and getattr(error, "sqlstate", None) is None:
            error.sqlstate = state  # type: ignore[attr-defined]

    def constraint_name(self, orig: BaseException | None) -> str | None:
        diag = getattr(orig, "diag", None)
        name = getattr(diag, "constraint_name", None)
        return name if isinstance(name, str) and name else None


def _flat(sql: str, limit: int = 300) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _mask_quoted(message: str) -> str:
    """``...: "value"`` -> ``...: "***"``: everything between the first and the last double quote."""
    first, last = message.find('"'), message.rfind('"')
    return message if first == last else f"{message[: first + 1]}***{message[last:]}"
