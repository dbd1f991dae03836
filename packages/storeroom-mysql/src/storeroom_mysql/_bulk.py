"""Multi-row ``INSERT ... VALUES (...), (...)`` batches bounded by rows *and* bytes.

Values are rendered by the driver's own escaping (``Connection.escape``), exactly as
PyMySQL's and asyncmy's ``executemany`` do internally, so the result is what the
driver itself would send; identifiers are quoted by SQLAlchemy's dialect. A statement
never exceeds ``max_bytes`` unless a single row does, in which case that row goes
alone, and a row that cannot fit into the server's ``max_allowed_packet`` at all is
refused before it is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pymysql.charset import charset_by_name
from sqlalchemy import exc as sa_exc

from storeroom.errors import QueryError
from storeroom_mysql._server import FACTS_KEY, ServerFacts

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from storeroom.sqla import BulkInsert

__all__ = ["PACKET_HEADROOM", "MultiRowInsert", "insert_rows"]

_NO_PARAMETERS = {"no_parameters": True}  # the SQL carries its values: the driver must not %-format it

#: bytes kept free below max_allowed_packet for the packet header and the INSERT prefix
PACKET_HEADROOM = 16 * 1024


class MultiRowInsert:
    """Renders rows (values in column order) into bounded INSERT statements."""

    def __init__(
        self,
        head: str,
        literal: Callable[[Any], str],
        *,
        encoding: str,
        max_bytes: int,
        max_rows: int,
        max_packet: int | None = None,
        table: str = "",
    ) -> None:
        self.head = head  # "INSERT INTO `t` (`a`, `b`) VALUES "
        self.literal = literal
        self.encoding = encoding
        self.max_rows = max_rows
        self.table = table
        self.head_bytes = len(head.encode(encoding, "surrogateescape"))
        budget = max_bytes if max_packet is None else min(max_bytes, max_packet // 2)
        self.max_bytes = max(budget, self.head_bytes + 1)
        self.row_limit = None if max_packet is None else max_packet - PACKET_HEADROOM - self.head_bytes

    def _size(self, text: str) -> int:
        return len(text) if text.isascii() else len(text.encode(self.encoding, "surrogateescape"))

    def statements(self, rows: Iterable[Sequence[Any]], first_index: int = 0) -> Iterator[tuple[str, int]]:
        """``(sql, row_count)`` pairs; lazy, so memory stays at one statement."""
        literal = self.literal
        parts: list[str] = []
        used = self.head_bytes
        index = first_index
        for index, row in enumerate(rows, first_index):
            text = "(" + ",".join(map(literal, row)) + ")"
            size = self._size(text) + 1  # the separating comma
            if self.row_limit is not None and size > self.row_limit:
                raise QueryError(
                    f"bulk insert into {self.table!r}: row #{index} needs {size} bytes of SQL, more than the "
                    f"server's max_allowed_packet allows ({self.row_limit + PACKET_HEADROOM + self.head_bytes})"
                )
            if parts and (used + size > self.max_bytes or len(parts) >= self.max_rows):
                yield self.head + ",".join(parts), len(parts)
                parts = []
                used = self.head_bytes
            parts.append(text)
            used += size
        if parts:
            yield self.head + ",".join(parts), len(parts)


def insert_rows(
    conn: Connection, plan: BulkInsert, rows: Iterable[Sequence[Any]], *, max_bytes: int, max_rows: int
) -> int:
    """Send ``rows`` (values in ``plan.columns`` order) as bounded multi-row INSERTs on ``conn``.

    Runs on a sync connection: the async side calls it through ``run_sync``.
    """
    assert plan.columns is not None
    preparer = conn.dialect.identifier_preparer
    target = preparer.quote(plan.name)
    if plan.schema:
        target = f"{preparer.quote_schema(plan.schema)}.{target}"
    head = f"INSERT INTO {target} ({', '.join(map(preparer.quote, plan.columns))}) VALUES "
    pooled = conn.connection
    driver: Any = pooled.driver_connection
    facts: ServerFacts | None = pooled.info.get(FACTS_KEY)
    renderer = MultiRowInsert(
        head,
        driver.escape,
        encoding=charset_by_name(driver.character_set_name()).encoding,
        max_bytes=max_bytes,
        max_rows=max_rows,
        max_packet=facts.max_allowed_packet if facts is not None else None,
        table=plan.table,
    )
    shown = head + "(...)"
    total = 0
    for sql, count in renderer.statements(rows):
        try:
            conn.exec_driver_sql(sql, execution_options=_NO_PARAMETERS)
        except sa_exc.StatementError as exc:
            exc.statement = shown  # the rendered SQL holds the values: never show it
            raise
        total += count
    return total
