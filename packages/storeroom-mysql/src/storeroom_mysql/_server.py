"""Per-connection facts and session setup, for PyMySQL and asyncmy connections alike.

Each new connection is asked once, in one round trip, which server it reached
(MariaDB or MySQL), its ``max_allowed_packet`` (bulk inserts stay well under it) and
``wait_timeout``; the statement timeout is then set with the variable that server
understands. The answers live in the pool record's ``info`` for the connection's life.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storeroom.errors import ConnectionFailedError

__all__ = ["FACTS_KEY", "ServerFacts", "end_handshake_timeout", "read_facts", "statement_timeout_sql"]

FACTS_KEY = "storeroom_mysql.facts"
_FACTS_SQL = "SELECT @@version, @@max_allowed_packet, @@wait_timeout"
_TLS_SQL = "SHOW SESSION STATUS LIKE 'Ssl_cipher'"


@dataclass(frozen=True, slots=True)
class ServerFacts:
    version: str
    max_allowed_packet: int
    wait_timeout: int

    @property
    def is_mariadb(self) -> bool:
        return "mariadb" in self.version.lower()

    @property
    def flavour(self) -> str:
        return "MariaDB" if self.is_mariadb else "MySQL"


def statement_timeout_sql(facts: ServerFacts, seconds: float) -> str:
    """MariaDB bounds every statement (``max_statement_time``, seconds); MySQL bounds
    read-only SELECTs only (``max_execution_time``, milliseconds)."""
    if facts.is_mariadb:
        return f"SET SESSION max_statement_time = {float(seconds):.6f}"
    return f"SET SESSION max_execution_time = {max(1, round(float(seconds) * 1000))}"


def _one(cursor: Any, sql: str) -> Any:
    cursor.execute(sql)
    return cursor.fetchone()


def read_facts(
    dbapi_connection: Any, *, statement_timeout: float | None = None, require_tls: bool = False
) -> ServerFacts:
    """Ask the server about itself and prepare the session; works on both drivers' DBAPI
    connections (asyncmy's through SQLAlchemy's adapter, inside its greenlet)."""
    cursor = dbapi_connection.cursor()
    try:
        version, packet, wait = _one(cursor, _FACTS_SQL)
        facts = ServerFacts(str(version), int(packet), int(wait))
        if require_tls:
            row = _one(cursor, _TLS_SQL)
            if not row or not row[1]:
                raise ConnectionFailedError(
                    "the server did not negotiate TLS although ssl settings require it; "
                    "enable TLS on the server or remove the 'ssl' settings"
                )
        if statement_timeout is not None:
            cursor.execute(statement_timeout_sql(facts, statement_timeout))
    finally:
        cursor.close()
    dbapi_connection.rollback()  # leave no implicit transaction behind our SELECT
    return facts


def end_handshake_timeout(dbapi_connection: Any, read_timeout: float | None = None) -> None:
    """Lift the read timeout that bounded the handshake (see ``connect_timeout``).

    Both drivers apply ``connect_timeout`` to the TCP connect only; a server that accepts
    and then says nothing would hang the handshake forever. Connections are therefore
    opened with ``read_timeout = connect_timeout`` and set back to ``read_timeout`` here,
    once the handshake and our first query have answered. Both drivers re-read
    ``_read_timeout`` before every read.
    """
    driver = getattr(dbapi_connection, "driver_connection", None) or dbapi_connection
    if hasattr(driver, "_read_timeout"):
        driver._read_timeout = read_timeout
