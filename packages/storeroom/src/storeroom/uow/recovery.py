"""Finishing or undoing units that a crash left in the journal.

A unit whose ``commit`` marker is in the journal committed its database transaction:
it is finished forward (deferred deletes, backups dropped). Any other unit is undone.
Only units whose newest journal row is older than ``older_than`` seconds are touched,
so a unit still running in another process is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storeroom.errors import DatabaseError, StoreroomError, UnitOfWorkError
from storeroom.redaction import redact
from storeroom.uow.apply import apply_actions, apply_actions_async
from storeroom.uow.journal import AsyncJournal, Journal
from storeroom.uow.steps import Action, Op, Step, finish_actions, undo_actions

__all__ = ["DEFAULT_RECOVERY_AGE", "RecoveryReport", "arecover", "recover"]

#: seconds a unit's newest journal row must be old before recovery touches it
DEFAULT_RECOVERY_AGE = 600.0


@dataclass
class RecoveryReport:
    """What :func:`recover` did on one journal database."""

    database: str
    undone: list[str] = field(default_factory=list)  # unit ids rolled back
    finished: list[str] = field(default_factory=list)  # unit ids finished forward
    failed: dict[str, list[str]] = field(default_factory=dict)  # unit id -> what is left
    error: str | None = None  # the journal could not be read at all (database unreachable ...)

    @property
    def ok(self) -> bool:
        return not self.failed and self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "undone": self.undone,
            "finished": self.finished,
            "failed": self.failed,
            "error": self.error,
        }


def _plan(steps: list[Step], committed: bool) -> list[Action]:
    return finish_actions(steps) if committed else undo_actions(steps)


def _unit_database(steps: list[Step]) -> str | None:
    """The unit's database when its journal lives elsewhere (its ``begin`` row), else None."""
    return next((step.storage for step in steps if step.op is Op.BEGIN), None)


def _age_ms(older_than: float) -> int:
    if older_than < 0:
        raise UnitOfWorkError(f"older_than must be >= 0 seconds, got {older_than!r}")
    return int(older_than * 1000)


def recover(
    database: Any,
    storages: Callable[[str], Any],
    *,
    databases: Callable[[str], Any] | None = None,
    older_than: float = DEFAULT_RECOVERY_AGE,
) -> RecoveryReport:
    """Finish or undo every stale unit journaled in ``database``.

    ``storages`` resolves storage names; ``databases`` resolves the unit's own database
    when the journal lives elsewhere (its commit marker is there).
    """
    journal = Journal(database)
    report = RecoveryReport(getattr(database, "name", "?"))
    age = _age_ms(older_than)
    try:
        stale = journal.stale_units(age)
    except DatabaseError as exc:  # one unreachable database must not stop the others' recovery
        report.error = redact(f"{type(exc).__name__}: {exc}")
        return report
    for steps in stale:
        unit_id = steps[0].unit_id
        elsewhere = _unit_database(steps)
        markers = None
        if elsewhere is not None and databases is None:
            report.failed[unit_id] = [f"the unit's database {elsewhere!r} is needed to tell whether it committed"]
            continue
        try:
            if elsewhere is not None and databases is not None:
                markers = Journal(databases(elsewhere))
                committed = markers.has_commit(unit_id)
            else:
                committed = any(s.op is Op.COMMIT for s in steps)
        except StoreroomError as exc:  # its database unreachable: undecided, retried next time
            report.failed[unit_id] = [redact(f"the unit's database {elsewhere!r}: {type(exc).__name__}: {exc}")]
            continue
        failures = apply_actions(_plan(steps, committed), storages)
        if failures:
            report.failed[unit_id] = failures
            continue
        journal.forget(unit_id)
        if markers is not None:
            markers.forget(unit_id)
        (report.finished if committed else report.undone).append(unit_id)
    return report


async def arecover(
    database: Any,
    storages: Callable[[str], Any],
    *,
    databases: Callable[[str], Any] | None = None,
    older_than: float = DEFAULT_RECOVERY_AGE,
) -> RecoveryReport:
    """The async twin of :func:`recover` (async database and storages)."""
    journal = AsyncJournal(database)
    report = RecoveryReport(getattr(database, "name", "?"))
    age = _age_ms(older_than)
    try:
        stale = await journal.stale_units(age)
    except DatabaseError as exc:
        report.error = redact(f"{type(exc).__name__}: {exc}")
        return report
    for steps in stale:
        unit_id = steps[0].unit_id
        elsewhere = _unit_database(steps)
        markers = None
        if elsewhere is not None and databases is None:
            report.failed[unit_id] = [f"the unit's database {elsewhere!r} is needed to tell whether it committed"]
            continue
        try:
            if elsewhere is not None and databases is not None:
                markers = AsyncJournal(databases(elsewhere))
                committed = await markers.has_commit(unit_id)
            else:
                committed = any(s.op is Op.COMMIT for s in steps)
        except StoreroomError as exc:  # its database unreachable: undecided, retried next time
            report.failed[unit_id] = [redact(f"the unit's database {elsewhere!r}: {type(exc).__name__}: {exc}")]
            continue
        failures = await apply_actions_async(_plan(steps, committed), storages)
        if failures:
            report.failed[unit_id] = failures
            continue
        await journal.forget(unit_id)
        if markers is not None:
            await markers.forget(unit_id)
        (report.finished if committed else report.undone).append(unit_id)
    return report
