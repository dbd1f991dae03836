"""Read-only transactions on a server that has none.

SQL Server has no ``SET TRANSACTION READ ONLY``; ``ApplicationIntent=ReadOnly`` only
routes to an Availability Group's readable secondary and does nothing on a primary
or a standalone server. So storeroom guards the connection instead: while a
``transaction(read_only=True)`` is open, every statement sent on its connection
(through storeroom, a ``session()`` or raw SQLAlchemy) is checked *before it is sent*
and refused with :class:`~storeroom.errors.TransactionError` when it can write.

The check is lexical and errs on the strict side. It reads T-SQL tokens (skipping
comments, string literals and quoted identifiers) and refuses a batch that

* does not start with ``SELECT``, ``WITH``, ``DECLARE``, ``SET``, ``IF``, ``(`` (or
  the ``SAVE``/``ROLLBACK TRANSACTION`` SQLAlchemy emits for savepoints), because a
  batch starting with a bare name calls a stored procedure; or
* contains any reserved word that writes or runs code: ``INSERT UPDATE DELETE
  MERGE TRUNCATE CREATE ALTER DROP EXEC EXECUTE INTO BULK GRANT REVOKE DENY ...``
  (so ``SELECT ... INTO`` and table-variable inserts are refused too).

These words are reserved in T-SQL, so they cannot appear unquoted as names and the
check has no false positives on plain queries.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from storeroom.errors import TransactionError

__all__ = ["ALLOWED_FIRST", "READ_ONLY_OPTION", "WRITE_WORDS", "first_write", "install_read_only_guard"]

#: execution option marking a connection as inside a read-only transaction
READ_ONLY_OPTION = "storeroom_mssql_read_only"

ALLOWED_FIRST = frozenset({"SELECT", "WITH", "DECLARE", "SET", "IF", "(", "SAVE", "ROLLBACK"})
WRITE_WORDS = frozenset(
    {
        "ALTER",
        "BACKUP",
        "BULK",
        "CHECKPOINT",
        "CREATE",
        "DBCC",
        "DELETE",
        "DENY",
        "DROP",
        "EXEC",
        "EXECUTE",
        "GRANT",
        "INSERT",
        "INTO",
        "KILL",
        "MERGE",
        "OPENDATASOURCE",
        "OPENQUERY",
        "OPENROWSET",
        "RECEIVE",
        "RECONFIGURE",
        "RESTORE",
        "REVOKE",
        "SEND",
        "SHUTDOWN",
        "TRUNCATE",
        "UPDATE",
        "UPDATETEXT",
        "USE",
        "WRITETEXT",
    }
)
#: two-word statements whose words alone are harmless (END closes CASE too)
WRITE_PAIRS = frozenset(
    {
        ("BEGIN", "CONVERSATION"),
        ("BEGIN", "DIALOG"),
        ("END", "CONVERSATION"),
        ("MOVE", "CONVERSATION"),
        ("ENABLE", "TRIGGER"),
        ("DISABLE", "TRIGGER"),
    }
)

_WORD = re.compile(r"(?:[^\W\d]|[@#])[\w@#$]*")  # Unicode letters: T-SQL names may use them


def _tokens(sql: str) -> list[str]:
    """Upper-cased words and ``(`` outside comments, literals and quoted identifiers."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
        elif ch in "'\"[":
            i = _skip_quoted(sql, i, "]" if ch == "[" else ch)
        elif ch == "(":
            out.append("(")
            i += 1
        elif ch.isalpha() or ch in "_@#":
            match = _WORD.match(sql, i)
            if match is None:
                i += 1
                continue
            word = match.group()
            # N'...' is a Unicode literal, not the word N
            if word in ("N", "n") and match.end() < n and sql[match.end()] == "'":
                i = match.end()
                continue
            out.append(word.upper())
            i = match.end()
        else:
            i += 1
    return out


def _skip_block_comment(sql: str, i: int) -> int:
    depth, i, n = 0, i, len(sql)
    while i < n:  # T-SQL block comments nest
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _skip_quoted(sql: str, i: int, close: str) -> int:
    i, n = i + 1, len(sql)
    while i < n:
        if sql[i] == close:
            if i + 1 < n and sql[i + 1] == close:  # doubled: an escaped quote
                i += 2
                continue
            return i + 1
        i += 1
    return n


def first_write(sql: str) -> str | None:
    """Why ``sql`` may write (the offending word), or None when it only reads."""
    tokens = _tokens(sql)
    if not tokens:
        return None
    if tokens[0] not in ALLOWED_FIRST:
        return tokens[0]
    for index, token in enumerate(tokens):
        if token in WRITE_WORDS:
            return token
        if index + 1 < len(tokens) and (token, tokens[index + 1]) in WRITE_PAIRS:
            return f"{token} {tokens[index + 1]}"
    return None


def install_read_only_guard(engine: Engine, database: str) -> None:
    """Refuse writing statements on connections marked with :data:`READ_ONLY_OPTION`."""

    @event.listens_for(engine, "before_cursor_execute")
    def _read_only_guard(conn: Connection, _cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool) -> None:
        if not conn.get_execution_options().get(READ_ONLY_OPTION):
            return
        word = first_write(statement)
        if word is not None:
            raise TransactionError(
                f"read-only transaction on database {database!r}: refused a statement that can write ({word}); "
                "SQL Server has no read-only transactions, so storeroom sends only statements that read "
                "(SELECT/WITH/DECLARE/SET) inside transaction(read_only=True)",
                statement=statement,
            )
