"""What only SQL Server and its ODBC stack tell: SQLSTATEs, native error numbers, names.

pyodbc raises ``Error(sqlstate, message)`` where the message is
``"[SQLSTATE] [vendor][driver][SQL Server]text (native) (SQLFunction)"`` (on
unixODBC only the first diagnostic record). The native error number decides most
cases: 2627/2601 unique, 547 foreign key / check, 515 NOT NULL, 1205 deadlock,
3960 snapshot update conflict, 18456 login failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc

from storeroom.errors import (
    ConnectionFailedError,
    DatabaseError,
    IntegrityError,
    QueryError,
    TransactionError,
)
from storeroom.sqla.errors import ErrorTranslator, Phase

__all__ = ["DRIVER_INSTALL_HINT", "MSSQLErrorTranslator", "OdbcDiagnostic", "parse_diagnostic"]

DRIVER_INSTALL_HINT = (
    "install Microsoft's ODBC driver (package msodbcsql18: "
    "https://learn.microsoft.com/sql/connect/odbc/linux-mac/installing-the-microsoft-odbc-driver-for-sql-server) "
    "or set 'driver' to one that is installed (`odbcinst -q -d` lists them)"
)

UNIQUE_VIOLATIONS = frozenset({2627, 2601})
REFERENCE_OR_CHECK = 547
NOT_NULL = 515
DEADLOCK = 1205
LOCK_TIMEOUT = 1222
SNAPSHOT_CONFLICT = 3960
SNAPSHOT_DDL_CONFLICT = 3961
SNAPSHOT_NOT_ALLOWED = 3952
LOGIN_FAILED = 18456
RETRYABLE = frozenset({DEADLOCK, LOCK_TIMEOUT, SNAPSHOT_CONFLICT, SNAPSHOT_DDL_CONFLICT})
UNREACHABLE_STATES = frozenset({"08001", "08S01", "08S02", "08003", "08004", "08007", "01002", "HY010"})
NO_DRIVER_STATES = frozenset({"IM002", "IM003", "IM004"})
TIMEOUT_STATES = frozenset({"HYT00", "HYT01"})

_RECORD = re.compile(
    r"^\[(?P<state>[0-9A-Z]{5})\]\s*(?P<body>.*?)\s*\((?P<native>-?\d+)\)(?:\s*\((?P<func>SQL\w+)\))?(?=;\s*\[|\s*$)",
    re.DOTALL,
)
_STATE = re.compile(r"[0-9A-Z]{5}")
_VENDOR_TAGS = re.compile(r"^(?:\[[^\]]*\])+\s*")
# data values a message may quote: they can be personal data, so they never reach ours
_DATA_VALUES = (
    re.compile(r"\s*The duplicate key value is \(.*?\)\.(?=\s|$)", re.DOTALL),
    re.compile(r"\s*Truncated value: '.*?'\.(?=\s|$)", re.DOTALL),
)
_CONSTRAINT = (
    re.compile(r"Violation of (?:PRIMARY KEY|UNIQUE KEY) constraint '(?P<name>[^']+)'"),
    re.compile(r"with unique index '(?P<name>[^']+)'"),
    re.compile(
        r'conflicted with the (?:FOREIGN KEY SAME TABLE|FOREIGN KEY|REFERENCE|CHECK) constraint "(?P<name>[^"]+)"'
    ),
)
_NULL_COLUMN = re.compile(r"Cannot insert the value NULL into column '(?P<column>[^']+)'")


@dataclass(frozen=True)
class OdbcDiagnostic:
    """The first diagnostic record of a pyodbc error."""

    sqlstate: str | None
    native: int | None
    text: str  # vendor tags stripped, data values removed

    @property
    def missing_driver(self) -> bool:
        return self.sqlstate in NO_DRIVER_STATES or "Can't open lib" in self.text


def _is_state(value: object) -> bool:
    return isinstance(value, str) and bool(_STATE.fullmatch(value))


def parse_diagnostic(orig: BaseException | None) -> OdbcDiagnostic | None:
    """Read SQLSTATE, native error and text from a pyodbc error (None for anything else).

    Driver errors carry ``(sqlstate, message)``; pyodbc's own (``"Attempt to use a
    closed connection."``) carry ``(message, sqlstate)``.
    """
    if orig is None:
        return None
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    if len(args) >= 2 and _is_state(args[0]) and isinstance(args[1], str):
        state_arg, message = args[0], args[1]
    elif len(args) >= 2 and _is_state(args[1]) and isinstance(args[0], str):
        state_arg, message = args[1], args[0]
    else:
        return None
    match = _RECORD.match(message.strip())
    if match:
        state, native, body = match["state"], int(match["native"]), match["body"]
    else:
        state, native, body = state_arg, None, message
    body = _VENDOR_TAGS.sub("", body.strip())
    for pattern in _DATA_VALUES:
        body = pattern.sub("", body)
    return OdbcDiagnostic(state, native or None, body.strip())


class MSSQLErrorTranslator(ErrorTranslator):
    """Maps pyodbc / SQL Server errors to storeroom errors by SQLSTATE and native number."""

    def driver_message(self, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None)
        diag = parse_diagnostic(orig if isinstance(orig, BaseException) else exc)
        if diag is None:
            return super().driver_message(exc)
        code = f"SQLSTATE {diag.sqlstate}" + (f", error {diag.native}" if diag.native else "")
        text = diag.text.splitlines()[0] if diag.text else type(orig or exc).__name__
        return f"{text} ({code})"

    def constraint_name(self, orig: BaseException | None) -> str | None:
        diag = parse_diagnostic(orig)
        if diag is None:
            return None
        for pattern in _CONSTRAINT:
            match = pattern.search(diag.text)
            if match:
                return match["name"]
        return None

    def classify(
        self, exc: sa_exc.SQLAlchemyError, orig: BaseException | None, message: str, context: dict[str, Any]
    ) -> DatabaseError | None:
        diag = parse_diagnostic(orig)
        if diag is None:
            return None
        where, phase, stmt = context["where"], context["phase"], context["statement"]
        if diag.missing_driver:
            return ConnectionFailedError(
                f"cannot connect to {where}: the ODBC driver is missing ({message}); {DRIVER_INSTALL_HINT}"
            )
        if diag.native == LOGIN_FAILED or diag.sqlstate == "28000":
            return ConnectionFailedError(f"login to {where} failed ({message}); check user and password")
        if diag.native in RETRYABLE:
            return TransactionError(f"transaction on {where} aborted ({message}); run it again", retryable=True)
        if diag.native == SNAPSHOT_NOT_ALLOWED:
            return TransactionError(
                f"snapshot isolation is not enabled on {where} ({message}); "
                "run ALTER DATABASE <name> SET ALLOW_SNAPSHOT_ISOLATION ON"
            )
        if diag.sqlstate in TIMEOUT_STATES:
            return self._timeout(diag, message, where, phase, stmt)
        if diag.sqlstate in UNREACHABLE_STATES:
            return ConnectionFailedError(f"could not reach {where}: {message}")
        return None

    @staticmethod
    def _timeout(diag: OdbcDiagnostic, message: str, where: str, phase: Phase, stmt: str | None) -> DatabaseError:
        if phase == "connect" or "login" in diag.text.lower():
            return ConnectionFailedError(f"could not reach {where}: login timeout expired ({message})")
        return QueryError(
            f"query timeout on {where}: the statement ran longer than statement_timeout ({message})"
            + (f" [statement: {stmt[:300]}]" if stmt else ""),
            statement=stmt,
            timeout=True,
        )

    def annotate(self, error: DatabaseError, exc: BaseException) -> None:
        """``column`` and ``native_error`` on integrity errors, beside the ``constraint`` core sets."""
        if not isinstance(error, IntegrityError):
            return
        orig = getattr(exc, "orig", None)
        diag = parse_diagnostic(orig if isinstance(orig, BaseException) else None)
        if diag is not None:
            match = _NULL_COLUMN.search(diag.text)
            setattr(error, "column", match["column"] if match else None)  # noqa: B010
            setattr(error, "native_error", diag.native)  # noqa: B010
