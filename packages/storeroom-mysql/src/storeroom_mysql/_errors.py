"""What only MySQL/MariaDB error codes tell: constraint names, deadlocks, timeouts, access.

PyMySQL and asyncmy raise ``Error(code, message)`` with the server's (or client
library's) numeric code in ``args[0]``; classification keys on that number, never on
the exception class, which differs between the drivers (a MariaDB CHECK failure is an
``OperationalError`` to PyMySQL).

Some server messages echo the offending *value* (``Duplicate entry 'alice@example.com'
for key ...``, ``Incorrect integer value: 'abc' for column ...``). Parameters never
appear in storeroom errors, so the value is masked in our message and in the chained
driver exception alike.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import exc as sa_exc

from storeroom.errors import ConnectionFailedError, DatabaseError, IntegrityError, QueryError, TransactionError
from storeroom.redaction import MASK
from storeroom.sqla.errors import ErrorTranslator

__all__ = [
    "CONNECTION_CODES",
    "MySQLErrorTranslator",
    "constraint_from_message",
    "error_code",
    "mask_values",
]

ER_DUP_ENTRY = 1062
ER_DUP_ENTRY_WITH_KEY_NAME = 1586
ER_ROW_IS_REFERENCED = 1217
ER_NO_REFERENCED_ROW = 1216
ER_ROW_IS_REFERENCED_2 = 1451
ER_NO_REFERENCED_ROW_2 = 1452
ER_BAD_NULL_ERROR = 1048
ER_CHECK_CONSTRAINT_VIOLATED = 3819  # MySQL 8.0.16+
ER_CONSTRAINT_FAILED = 4025  # MariaDB 10.2+
ER_LOCK_WAIT_TIMEOUT = 1205
ER_LOCK_DEADLOCK = 1213
ER_STATEMENT_TIMEOUT = 1969  # MariaDB max_statement_time
ER_QUERY_TIMEOUT = 3024  # MySQL max_execution_time
ER_QUERY_INTERRUPTED = 1317
ER_ACCESS_DENIED = 1045
ER_DBACCESS_DENIED = 1044

INTEGRITY_CODES = frozenset(
    {
        ER_DUP_ENTRY,
        ER_DUP_ENTRY_WITH_KEY_NAME,
        ER_ROW_IS_REFERENCED,
        ER_NO_REFERENCED_ROW,
        ER_ROW_IS_REFERENCED_2,
        ER_NO_REFERENCED_ROW_2,
        ER_BAD_NULL_ERROR,
        ER_CHECK_CONSTRAINT_VIOLATED,
        ER_CONSTRAINT_FAILED,
    }
)
RETRYABLE_CODES = frozenset({ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT})
#: messages that may quote the offending value (duplicate keys, bad or truncated values)
VALUE_ECHO_CODES = frozenset({ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME, 1292, 1366, 1367, 1411, 1525})
TIMEOUT_CODES = frozenset({ER_STATEMENT_TIMEOUT, ER_QUERY_TIMEOUT})
#: the server refused us, could not be reached, or dropped the connection
CONNECTION_CODES = frozenset(
    {
        1040,  # too many connections
        ER_DBACCESS_DENIED,
        ER_ACCESS_DENIED,
        1049,  # unknown database
        1129,  # host blocked after too many errors
        1130,  # host not allowed to connect
        1203,  # user over max_user_connections
        1251,  # client does not support the authentication protocol
        1927,  # MariaDB: connection was killed
        2002,  # cannot connect through the socket
        2003,  # cannot connect to the server (refused, unreachable, timed out)
        2005,  # unknown host
        2006,  # server has gone away
        2013,  # lost connection during query
        2026,  # TLS error
        2055,  # lost connection at system error
        4031,  # MySQL 8: disconnected for inactivity
    }
)

_DUPLICATE_KEY = re.compile(r"for key '(?P<name>[^']*)'\s*$")
_FOREIGN_KEY = re.compile(r"CONSTRAINT `(?P<name>(?:[^`]|``)+)`")
_MYSQL_CHECK = re.compile(r"Check constraint '(?P<name>[^']*)' is violated")
_NOT_NULL = re.compile(r"Column '(?P<name>[^']*)' cannot be null")
# the value sits between the first and the last quote before the trailing clause
_ECHOED_VALUES = (
    re.compile(r"(?P<head>Duplicate entry ')(?P<value>.*)(?P<tail>' for key ')"),
    re.compile(r"(?P<head>value: ')(?P<value>.*)(?P<tail>'(?: for |$))"),
)


def error_code(orig: BaseException | None) -> int | None:
    """The MySQL error number of a PyMySQL / asyncmy exception (``args[0]``)."""
    args = getattr(orig, "args", None)
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return args[0]
    return None


def _server_text(orig: BaseException) -> str:
    args = orig.args
    return str(args[1]) if len(args) > 1 else str(orig)


def mask_values(text: str) -> str:
    """``Duplicate entry 'x' for key 'k'`` -> ``Duplicate entry '***' for key 'k'`` (and similar)."""
    for pattern in _ECHOED_VALUES:
        text = pattern.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    return text


def constraint_from_message(code: int | None, text: str) -> str | None:
    """The constraint (index) name a server message names, if any.

    MySQL 8 writes duplicate keys as ``'table.key'``; the table prefix is dropped.
    """
    if code in (ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME):
        match = _DUPLICATE_KEY.search(text)
        return match["name"].split(".", 1)[-1] if match else None
    if code in (ER_ROW_IS_REFERENCED_2, ER_NO_REFERENCED_ROW_2, ER_CONSTRAINT_FAILED):
        match = _FOREIGN_KEY.search(text)
        return match["name"].replace("``", "`") if match else None
    if code == ER_CHECK_CONSTRAINT_VIOLATED:
        match = _MYSQL_CHECK.search(text)
        return match["name"] if match else None
    return None


def _scrub(*errors: BaseException) -> None:
    """Mask echoed values in the driver exception and in SQLAlchemy's wrapper of it (both are
    chained as ``__cause__``; the wrapper copied the driver's text when it was created)."""
    for error in errors:
        error.args = tuple(mask_values(arg) if isinstance(arg, str) else arg for arg in error.args)


def _with_statement(text: str, statement: str | None) -> str:
    if not statement:
        return text
    flat = " ".join(statement.split())
    return f"{text} [statement: {flat if len(flat) <= 300 else flat[:297] + '...'}]"


class MySQLErrorTranslator(ErrorTranslator):
    def classify(
        self, exc: sa_exc.SQLAlchemyError, orig: BaseException | None, message: str, context: dict[str, Any]
    ) -> DatabaseError | None:
        code = error_code(orig)
        if code is None or orig is None:
            return None
        if code in VALUE_ECHO_CODES:
            _scrub(orig, exc)
        message = self.driver_message(exc)
        where: str = context["where"]
        statement: str | None = context["statement"]
        if code in INTEGRITY_CODES:
            text = _server_text(orig)
            column = _NOT_NULL.search(text) if code == ER_BAD_NULL_ERROR else None
            return IntegrityError(
                _with_statement(f"constraint violated on {where}: {message}", statement),
                statement=statement,
                constraint=constraint_from_message(code, text),
                column=column["name"] if column else None,
                code=code,
            )
        if code == ER_LOCK_DEADLOCK:
            return TransactionError(
                f"deadlock on {where}: {message}; the server rolled the transaction back, run it again",
                retryable=True,
                code=code,
            )
        if code == ER_LOCK_WAIT_TIMEOUT:
            return TransactionError(
                f"lock wait timeout on {where}: {message}; roll back and run the transaction again "
                "(or raise innodb_lock_wait_timeout)",
                retryable=True,
                code=code,
            )
        if code in TIMEOUT_CODES:
            return QueryError(
                _with_statement(
                    f"statement timeout on {where}: {message}; the statement ran longer than statement_timeout",
                    statement,
                ),
                statement=statement,
                timeout=True,
                code=code,
            )
        if code in CONNECTION_CODES:
            hint = "; check the user name and password" if code in (ER_ACCESS_DENIED, ER_DBACCESS_DENIED) else ""
            return ConnectionFailedError(f"could not reach {where}: {message}{hint}", code=code)
        return None

    def constraint_name(self, orig: BaseException | None) -> str | None:
        return constraint_from_message(error_code(orig), _server_text(orig)) if orig is not None else None
