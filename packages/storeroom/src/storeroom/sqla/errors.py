"""Translating SQLAlchemy and DBAPI exceptions into :mod:`storeroom.errors`.

The storeroom error chains the original as ``__cause__``; its message carries the
driver's own message (first line, with any bound value it quotes masked) and the
statement, never the parameters (engines are created with ``hide_parameters=True`` so
the chained SQLAlchemy error hides them too), and passes through :func:`storeroom.redact`. Dialect plugins subclass
:class:`ErrorTranslator` and override :meth:`~ErrorTranslator.classify` and
:meth:`~ErrorTranslator.constraint_name` for what only their driver tells.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice
from types import TracebackType
from typing import Any, Literal

from sqlalchemy import exc as sa_exc

from storeroom.errors import (
    ConnectionFailedError,
    DatabaseError,
    IntegrityError,
    PoolTimeoutError,
    QueryError,
    StoreroomError,
)
from storeroom.redaction import redact

__all__ = ["ErrorTranslator", "Phase", "mask_parameters", "translating"]

Phase = Literal["connect", "query", "transaction"]

_STATEMENT_IN_MESSAGE = 300  # characters of SQL quoted in a message; ``.statement`` keeps it all
_MASK = "***"
_MIN_MASKED = 4  # shorter parameter values would mask ordinary words
_MASKED_PARAMETER_SETS = 1000  # an executemany's sets scanned for values to mask


def _parameter_values(params: Any) -> set[str]:
    """The bound values' texts worth masking (a server may quote a value in its message)."""
    sets = [params] if isinstance(params, Mapping) else params if isinstance(params, list | tuple) else []
    found: set[str] = set()
    for one in islice(sets, _MASKED_PARAMETER_SETS):
        values = one.values() if isinstance(one, Mapping) else one if isinstance(one, list | tuple) else ()
        for value in values:
            if value is None or isinstance(value, bool):
                continue
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            if len(text) >= _MIN_MASKED:
                found.add(text)
    return found


def mask_parameters(message: str, params: Any) -> str:
    """``message`` with every bound value (of at least 4 characters) replaced by ``***``.

    PostgreSQL, for one, quotes the offending value ("invalid input syntax for type
    integer: ...") in the very first line of its message.
    """
    for text in sorted(_parameter_values(params), key=len, reverse=True):
        if text in message:
            message = message.replace(text, _MASK)
    return message


def _shorten(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= _STATEMENT_IN_MESSAGE else flat[: _STATEMENT_IN_MESSAGE - 3] + "..."


class ErrorTranslator:
    """Maps one exception to the storeroom error a caller can act on."""

    def driver_message(self, exc: BaseException) -> str:
        """The driver's own message (first line) without SQLAlchemy's SQL/parameter dump."""
        orig = getattr(exc, "orig", None)
        source: Any = orig if isinstance(orig, BaseException) else exc
        if isinstance(source, sa_exc.SQLAlchemyError):
            text = str(source.args[0]) if source.args else type(source).__name__
        else:
            text = str(source) or type(source).__name__
        return text.strip().splitlines()[0] if text.strip() else type(source).__name__

    def classify(
        self, exc: sa_exc.SQLAlchemyError, orig: BaseException | None, message: str, context: dict[str, Any]
    ) -> DatabaseError | None:
        """Dialect hook: a specific error for this driver exception, or None for the generic mapping."""
        return None

    def constraint_name(self, orig: BaseException | None) -> str | None:
        """Dialect hook: the violated constraint's name, when the driver reports it."""
        return None

    def annotate(self, error: DatabaseError, exc: BaseException) -> None:
        """Dialect hook: add driver facts (``sqlstate``, ``column`` ...) to any translated error."""

    def translate(
        self,
        exc: BaseException,
        *,
        database: str,
        statement: str | None = None,
        phase: Phase = "query",
        url: str | None = None,
    ) -> DatabaseError | None:
        """The storeroom error for ``exc``, or None to let it propagate unchanged."""
        error = self._translate(exc, database, statement, phase, url)
        if error is not None:
            self.annotate(error, exc)
        return error

    def _translate(
        self, exc: BaseException, database: str, statement: str | None, phase: Phase, url: str | None
    ) -> DatabaseError | None:
        if isinstance(exc, StoreroomError) or not isinstance(exc, Exception):
            return None
        if isinstance(exc, sa_exc.TimeoutError):
            return PoolTimeoutError(
                f"no pooled connection to database {database!r} became free in time ({self.driver_message(exc)}); "
                "raise pool.size / pool.max_overflow or release connections sooner"
            )
        if not isinstance(exc, sa_exc.SQLAlchemyError):
            return None
        orig = getattr(exc, "orig", None)
        stmt = statement if statement is not None else getattr(exc, "statement", None)
        stmt = redact(stmt) if stmt else None
        message = mask_parameters(self.driver_message(exc), getattr(exc, "params", None))
        where = f"database {database!r}" + (f" ({url})" if url and phase == "connect" else "")
        context: dict[str, Any] = {"database": database, "statement": stmt, "phase": phase, "where": where}
        special = self.classify(exc, orig if isinstance(orig, BaseException) else None, message, context)
        if special is not None:
            return special
        if phase == "connect" or (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated):
            return ConnectionFailedError(f"could not reach {where}: {message}")
        if isinstance(exc, sa_exc.IntegrityError):
            return IntegrityError(
                f"constraint violated on {where}: {message}" + (f" [statement: {_shorten(stmt)}]" if stmt else ""),
                statement=stmt,
                constraint=self.constraint_name(orig if isinstance(orig, BaseException) else None),
            )
        if isinstance(exc, sa_exc.ResourceClosedError) and "does not return rows" in message:
            message = "the statement returns no rows; use execute() for statements without a result"
        return QueryError(
            f"query failed on {where}: {message}" + (f" [statement: {_shorten(stmt)}]" if stmt else ""),
            statement=stmt,
        )


class translating:
    """Context manager raising the translated error ``from`` the original."""

    __slots__ = ("database", "phase", "statement", "translator", "url")

    def __init__(
        self,
        translator: ErrorTranslator,
        database: str,
        statement: str | None = None,
        phase: Phase = "query",
        url: str | None = None,
    ) -> None:
        self.translator = translator
        self.database = database
        self.statement = statement
        self.phase = phase
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        if exc is None:
            return False
        error = self.translator.translate(
            exc, database=self.database, statement=self.statement, phase=self.phase, url=self.url
        )
        if error is None:
            return False
        raise error from exc
