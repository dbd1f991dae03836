"""The unit-of-work journal: one table, written before each storage call.

A journal row is committed on its own (a *detached* write, outside the unit's database
transaction) before the storage call it announces, so a crash at any point leaves a
record of what may have happened. The unit's own transaction adds a ``commit`` marker
row: after a crash, a unit with the marker committed and is finished forward
(deferred deletes, dropped backups); one without is undone.

When the COMMIT itself fails, its reply may just have been lost. A fresh connection then
inserts a row under the marker's key (:meth:`Journal.check_commit`): the server makes that
wait until the unit's transaction has ended either way, so the answer cannot race a COMMIT
still in flight. It fails on the committed marker; or it succeeds, and the ``abort`` row it
leaves means the unit never can commit.

Databases that allow a single writer at a time (SQLite) cannot take a detached write
while the unit's transaction holds the lock, so there the rows go into the unit's own
transaction: a failure in the body is still undone (in memory), but a crash loses the
journal with the transaction. Point ``journal=`` at a second database to keep crash
recovery on SQLite (see docs/unit-of-work.md).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import weakref
from collections.abc import Mapping
from typing import Any

from storeroom.errors import IntegrityError, QueryError
from storeroom.uow.steps import Op, State, Step

__all__ = [
    "JOURNAL_TABLE",
    "AsyncJournal",
    "Journal",
    "concurrent_writers",
    "create_table_sql",
    "now_ms",
    "row_to_step",
]

JOURNAL_TABLE = "storeroom_uow_journal"

_INSERT = (
    f"INSERT INTO {JOURNAL_TABLE} (unit_id, seq, op, storage, object_key, backup_key, etag, state, created_ms) "
    "VALUES (:unit_id, :seq, :op, :storage, :object_key, :backup_key, :etag, :state, :created_ms)"
)
_UPDATE = f"UPDATE {JOURNAL_TABLE} SET state = :state, etag = :etag WHERE unit_id = :unit_id AND seq = :seq"
_FORGET = f"DELETE FROM {JOURNAL_TABLE} WHERE unit_id = :unit_id"
_PROBE = f"SELECT COUNT(*) FROM {JOURNAL_TABLE} WHERE 1 = 0"
# A unit with nothing but its commit marker (or its abort row) here is journaled in another database:
# that one recovers it.
_STALE_UNITS = (
    f"SELECT unit_id FROM {JOURNAL_TABLE} GROUP BY unit_id HAVING MAX(created_ms) <= :before "
    "AND SUM(CASE WHEN op IN ('commit', 'abort') THEN 0 ELSE 1 END) > 0 ORDER BY unit_id"
)
_HAS_COMMIT = f"SELECT COUNT(*) FROM {JOURNAL_TABLE} WHERE unit_id = :unit_id AND op = 'commit'"
_UNIT_ROWS = (
    f"SELECT unit_id, seq, op, storage, object_key, backup_key, etag, state, created_ms "
    f"FROM {JOURNAL_TABLE} WHERE unit_id = :unit_id ORDER BY seq"
)


def now_ms() -> int:
    return int(time.time() * 1000)


def _table() -> Any:
    import sqlalchemy as sa  # only once a database is attached, which brings SQLAlchemy anyway

    return sa.Table(
        JOURNAL_TABLE,
        sa.MetaData(),
        sa.Column("unit_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("storage", sa.Unicode(255), nullable=False),
        sa.Column("object_key", sa.Unicode(1024), nullable=False),
        sa.Column("backup_key", sa.Unicode(1024), nullable=True),
        sa.Column("etag", sa.Unicode(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )


def create_table_sql(database: Any) -> str:
    """``CREATE TABLE`` for the journal in the database's own dialect (generic SQL otherwise)."""
    engine = getattr(database, "engine", None)
    engine = getattr(engine, "sync_engine", engine)
    dialect = getattr(engine, "dialect", None)
    from sqlalchemy.schema import CreateTable

    ddl = CreateTable(_table())
    return str(ddl.compile(dialect=dialect) if dialect is not None else ddl.compile()).strip()


def concurrent_writers(database: Any) -> bool:
    """False for databases with one writer at a time (a class attribute plugins may set)."""
    return bool(getattr(database, "concurrent_writers", True))


def _params(step: Step) -> dict[str, Any]:
    return {
        "unit_id": step.unit_id,
        "seq": step.seq,
        "op": str(step.op),
        "storage": step.storage,
        "object_key": step.key,
        "backup_key": step.backup,
        "etag": step.etag,
        "state": str(step.state),
        "created_ms": step.created_ms,
    }


def _marker(unit_id: str, op: Op, database: str = "") -> dict[str, Any]:
    # Distinct seqs (steps count from 1): two database objects may share one physical table.
    # COMMIT and ABORT share theirs: the key that only one of them can ever hold.
    seq = -1 if op is Op.BEGIN else 0
    return _params(Step(unit_id, seq, op, database, "", state=State.APPLIED, created_ms=now_ms()))


def row_to_step(row: Mapping[str, Any]) -> Step:
    return Step(
        unit_id=row["unit_id"],
        seq=int(row["seq"]),
        op=Op(row["op"]),
        storage=row["storage"],
        key=row["object_key"],
        backup=row["backup_key"],
        etag=row["etag"],
        state=State(row["state"]),
        created_ms=int(row["created_ms"]),
    )


#: databases whose journal table is known to exist (checked once per database object)
_ready: weakref.WeakSet[Any] = weakref.WeakSet()


class Journal:
    """Journal rows through a sync database; ``writer`` is the detached database or the unit's transaction."""

    def __init__(self, database: Any, *, in_transaction: Any = None) -> None:
        self.database = database
        self._tx = in_transaction

    @staticmethod
    def _detached(fn: Any, *args: Any) -> Any:
        # A fresh context has no ambient transaction: the call takes its own connection and commits.
        return contextvars.Context().run(fn, *args)

    def _write(self, sql: str, params: Mapping[str, Any]) -> None:
        if self._tx is not None:
            self._tx.execute(sql, params)
        else:
            self._detached(self.database.execute, sql, params)

    def ensure_table(self) -> None:
        if self.database in _ready:
            return
        try:
            self._detached(self.database.fetch_value, _PROBE)
        except QueryError:
            try:
                self._detached(self.database.execute, create_table_sql(self.database))
            except QueryError:  # created meanwhile by another process?
                self._detached(self.database.fetch_value, _PROBE)
        _ready.add(self.database)

    def record(self, step: Step) -> None:
        self._write(_INSERT, _params(step))

    def update(self, step: Step) -> None:
        self._write(_UPDATE, {"state": str(step.state), "etag": step.etag, "unit_id": step.unit_id, "seq": step.seq})

    @staticmethod
    def mark_committed(tx: Any, unit_id: str) -> None:
        """The marker, inside the unit's own transaction: it exists if and only if that committed."""
        tx.execute(_INSERT, _marker(unit_id, Op.COMMIT))

    def begin(self, unit_id: str, database: str) -> None:
        """Name the unit's database, where recovery will look for the commit marker."""
        self._write(_INSERT, _marker(unit_id, Op.BEGIN, database))

    def has_commit(self, unit_id: str) -> bool:
        return bool(self._detached(self.database.fetch_value, _HAS_COMMIT, {"unit_id": unit_id}))

    def check_commit(self, unit_id: str) -> bool | Exception:
        """Whether the unit's transaction committed, asked on a fresh connection; what failed if that fails."""
        try:
            try:
                self._detached(self.database.execute, _INSERT, _marker(unit_id, Op.ABORT))
            except IntegrityError as taken:  # by the marker - if it is there to see, not some other refusal
                return self.has_commit(unit_id) or taken
        except Exception as exc:  # noqa: BLE001 - an answer too: the outcome is unknown
            return exc
        return False

    def forget(self, unit_id: str) -> None:
        self._detached(self.database.execute, _FORGET, {"unit_id": unit_id})

    def stale_units(self, older_than_ms: int) -> list[list[Step]]:
        """Every unit whose newest row is older than ``older_than_ms``, as its steps."""
        try:
            units = self._detached(self.database.fetch_all, _STALE_UNITS, {"before": now_ms() - older_than_ms})
        except QueryError:
            return []  # no journal table: nothing was ever journaled here
        return [
            [row_to_step(r) for r in self._detached(self.database.fetch_all, _UNIT_ROWS, {"unit_id": u["unit_id"]})]
            for u in units
        ]


class AsyncJournal:
    """The async twin of :class:`Journal`."""

    def __init__(self, database: Any, *, in_transaction: Any = None) -> None:
        self.database = database
        self._tx = in_transaction

    @staticmethod
    async def _detached(fn: Any, *args: Any) -> Any:
        return await asyncio.create_task(fn(*args), context=contextvars.Context())

    async def _write(self, sql: str, params: Mapping[str, Any]) -> None:
        if self._tx is not None:
            await self._tx.execute(sql, params)
        else:
            await self._detached(self.database.execute, sql, params)

    async def ensure_table(self) -> None:
        if self.database in _ready:
            return
        try:
            await self._detached(self.database.fetch_value, _PROBE)
        except QueryError:
            try:
                await self._detached(self.database.execute, create_table_sql(self.database))
            except QueryError:
                await self._detached(self.database.fetch_value, _PROBE)
        _ready.add(self.database)

    async def record(self, step: Step) -> None:
        await self._write(_INSERT, _params(step))

    async def update(self, step: Step) -> None:
        await self._write(
            _UPDATE, {"state": str(step.state), "etag": step.etag, "unit_id": step.unit_id, "seq": step.seq}
        )

    @staticmethod
    async def mark_committed(tx: Any, unit_id: str) -> None:
        await tx.execute(_INSERT, _marker(unit_id, Op.COMMIT))

    async def begin(self, unit_id: str, database: str) -> None:
        await self._write(_INSERT, _marker(unit_id, Op.BEGIN, database))

    async def has_commit(self, unit_id: str) -> bool:
        return bool(await self._detached(self.database.fetch_value, _HAS_COMMIT, {"unit_id": unit_id}))

    async def check_commit(self, unit_id: str) -> bool | Exception:
        try:
            try:
                await self._detached(self.database.execute, _INSERT, _marker(unit_id, Op.ABORT))
            except IntegrityError as taken:
                return await self.has_commit(unit_id) or taken
        except Exception as exc:  # noqa: BLE001
            return exc
        return False

    async def forget(self, unit_id: str) -> None:
        await self._detached(self.database.execute, _FORGET, {"unit_id": unit_id})

    async def stale_units(self, older_than_ms: int) -> list[list[Step]]:
        try:
            units = await self._detached(self.database.fetch_all, _STALE_UNITS, {"before": now_ms() - older_than_ms})
        except QueryError:
            return []
        return [
            [
                row_to_step(r)
                for r in await self._detached(self.database.fetch_all, _UNIT_ROWS, {"unit_id": u["unit_id"]})
            ]
            for u in units
        ]
