"""What a unit of work did, and what undoing or finishing it takes.

Both the live unit (compensating after a failure) and :func:`recover` (after a crash)
plan from the same records, so the undo rules live here once, free of I/O.

Object writes happen at once (so the database rows written in the same unit can point
at objects that really exist); deletes are deferred until the database has committed
(so undoing one never needs the bytes back); an overwritten object is first copied to
a backup key, restored on undo and dropped once the unit has finished.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["BACKUP_PREFIX", "WRITES", "Action", "Op", "State", "Step", "backup_key", "finish_actions", "undo_actions"]

#: Backups of overwritten objects live under this prefix of their own storage until the unit ends.
BACKUP_PREFIX = ".uow-backup/"


class Op(enum.StrEnum):
    PUT = "put"  # an object was (or is about to be) written at ``key``
    CREATE = "create"  # the same, create-only: a pending one may have lost to another writer
    DELETE = "delete"  # ``key`` is to be deleted once the database has committed
    COMMIT = "commit"  # marker row written inside the unit's database transaction (in that database)
    BEGIN = "begin"  # names the unit's database (``storage`` column) when the journal lives elsewhere
    ABORT = "abort"  # takes the commit marker's place after a failed COMMIT that did not commit: now it never can


class State(enum.StrEnum):
    PENDING = "pending"  # journaled before the storage call; it may or may not have happened
    APPLIED = "applied"  # the storage call returned
    CANCELLED = "cancelled"  # a deferred delete overtaken by a later put of the same key


_VERBS = {
    Op.PUT: "write",
    Op.CREATE: "create",
    Op.DELETE: "delete",
    Op.COMMIT: "commit",
    Op.BEGIN: "begin",
    Op.ABORT: "abort",
}

#: steps that write an object (undone by removing it or restoring its backup)
WRITES = frozenset({Op.PUT, Op.CREATE})


def backup_key(unit_id: str, seq: int) -> str:
    return f"{BACKUP_PREFIX}{unit_id}/{seq:06d}"


@dataclass
class Step:
    """One journaled step; ``etag`` is what the write returned, to recognise our own object later."""

    unit_id: str
    seq: int
    op: Op
    storage: str
    key: str
    backup: str | None = None
    etag: str | None = None
    state: State = State.PENDING
    created_ms: int = 0

    def describe(self) -> str:
        what = _VERBS[self.op]
        return f"{what} {self.storage}:{self.key}"


@dataclass(frozen=True)
class Action:
    """One storage call of a plan.

    ``kind``: ``restore`` (copy ``source`` over ``key``, then delete ``source``), ``remove``
    (delete ``key``, only if its etag is still ``expect_etag`` when one is given) or ``drop``
    (delete ``key``: a backup or a deferred delete; missing is fine).
    """

    kind: str
    storage: str
    key: str
    source: str | None = None
    expect_etag: str | None = None
    step: Step | None = field(default=None, compare=False)

    def describe(self) -> str:
        if self.kind == "restore":
            return f"restore {self.storage}:{self.key} from its backup {self.source}"
        if self.kind == "remove":
            return f"remove {self.storage}:{self.key} written by the unit"
        return f"delete {self.storage}:{self.key}"


def undo_actions(steps: Iterable[Step]) -> list[Action]:
    """Compensation, newest key first: put the storages back as they were before the unit.

    Deferred deletes never ran, so they need nothing. Each key written by the unit is undone
    once, as its *first* write found it: by restoring that write's backup, or by removing the
    object - checked against the etag of the unit's last write to it when that write is known
    to have returned (a pending one may or may not have happened).
    """
    first: dict[tuple[str, str], Step] = {}
    last: dict[tuple[str, str], Step] = {}
    dropped: list[Action] = []
    for step in sorted(steps, key=lambda s: s.seq):
        if step.op not in WRITES:
            continue
        if step.state is State.CANCELLED:  # never happened; a backup it made is just garbage
            if step.backup is not None:
                dropped.append(Action("drop", step.storage, step.backup, step=step))
            continue
        if step.op is Op.CREATE and step.state is State.PENDING and (step.storage, step.key) not in first:
            # Cut off before it was known whether the create won: the object there may be the
            # winner's. Leaving a possible orphan (storeroom-gc's job) beats deleting their data.
            continue
        first.setdefault((step.storage, step.key), step)
        last[(step.storage, step.key)] = step
    actions: list[Action] = []
    for where, step in sorted(first.items(), key=lambda item: item[1].seq, reverse=True):
        if step.backup is not None:
            actions.append(Action("restore", step.storage, step.key, source=step.backup, step=step))
        else:
            latest = last[where]
            etag = latest.etag if latest.state is State.APPLIED else None
            actions.append(Action("remove", step.storage, step.key, expect_etag=etag, step=step))
    return actions + dropped


def finish_actions(steps: Sequence[Step]) -> list[Action]:
    """After the database committed: run the deferred deletes, then drop the backups."""
    deletes = [
        Action("drop", s.storage, s.key, step=s) for s in steps if s.op is Op.DELETE and s.state is not State.CANCELLED
    ]
    backups = [Action("drop", s.storage, s.backup, step=s) for s in steps if s.op in WRITES and s.backup is not None]
    return deletes + backups
