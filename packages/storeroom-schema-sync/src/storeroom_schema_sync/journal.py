"""The step journal for dialects whose DDL auto-commits (MySQL/MariaDB).

One row per plan operation: ``started`` before its DDL runs, ``done`` after. A re-run of the
same plan skips what is done; a step left ``started`` (the process died mid-DDL) is settled
by re-planning: if the change is no longer needed it happened, otherwise it runs again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["JOURNAL_TABLE", "Journal"]

JOURNAL_TABLE = "storeroom_schema_journal"

_metadata = sa.MetaData()
_table = sa.Table(
    JOURNAL_TABLE,
    _metadata,
    sa.Column("plan_id", sa.String(64), primary_key=True),
    sa.Column("step", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("operation", sa.String(512), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False, server_default=sa.func.current_timestamp()),
)


class Journal:
    """Rows of one plan in ``storeroom_schema_journal`` (created on first use, never by a dry run)."""

    def __init__(self, conn: Connection, plan_id: str) -> None:
        self.conn = conn
        self.plan_id = plan_id

    def ensure(self) -> None:
        _metadata.create_all(self.conn, checkfirst=True)

    def states(self) -> dict[int, str]:
        rows = self.conn.execute(sa.select(_table.c.step, _table.c.state).where(_table.c.plan_id == self.plan_id))
        return {row.step: row.state for row in rows}

    def mark(self, step: int, operation: str, state: str) -> None:
        where = (_table.c.plan_id == self.plan_id) & (_table.c.step == step)
        updated = self.conn.execute(
            _table.update().where(where).values(state=state, updated_at=sa.func.current_timestamp())
        )
        if not updated.rowcount:
            self.conn.execute(
                _table.insert().values(plan_id=self.plan_id, step=step, operation=operation[:512], state=state)
            )
