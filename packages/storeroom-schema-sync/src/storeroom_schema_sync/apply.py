"""``apply``: gate the plan, then run it the way the dialect allows.

- Transactional DDL (PostgreSQL, SQLite, SQL Server): one transaction under an advisory
  lock, with ``lock_timeout`` / ``statement_timeout`` on PostgreSQL; the plan is made again
  under the lock (a concurrent apply that finished first leaves nothing to do), and the
  re-plan after the DDL, still inside the transaction, must be empty or everything rolls
  back. ``CREATE INDEX CONCURRENTLY`` runs after the commit.
- MySQL/MariaDB (DDL auto-commits): one journaled step at a time under ``GET_LOCK``; a re-run
  after a failure or crash continues where it stopped.

A dry run connects to nothing and runs nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from alembic.migration import MigrationContext
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from storeroom.errors import DestructiveChangeError, SchemaSyncError, UnsafeChangeError
from storeroom.schema import SchemaProvider
from storeroom_schema_sync.journal import Journal
from storeroom_schema_sync.operations import DESTRUCTIVE, HAZARDOUS, Operation
from storeroom_schema_sync.plan import Plan, engine_of, plan_on, provider_for
from storeroom_schema_sync.render import Step, alembic_operations, offline_sql

__all__ = ["ApplyReport", "apply", "plan_id"]


@dataclass(eq=False)
class ApplyReport:
    """What an apply found, did and left out. ``in_sync`` only when nothing was skipped or left."""

    database: str
    dry_run: bool
    detected: list[Operation]
    applied: list[Operation] = field(default_factory=list)
    #: operations not applied, each with why (refused by a flag, or a dry run)
    skipped: list[tuple[Operation, str]] = field(default_factory=list)
    #: operations a re-plan after the apply still finds (empty unless something was skipped)
    remaining: list[Operation] = field(default_factory=list)
    #: MySQL/MariaDB: steps an earlier, interrupted run had already done
    resumed: list[Operation] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not self.dry_run and not self.skipped and not self.remaining

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "dry_run": self.dry_run,
            "in_sync": self.in_sync,
            "detected": [o.as_dict() for o in self.detected],
            "applied": [str(o) for o in self.applied],
            "skipped": [{"operation": str(o), "reason": why} for o, why in self.skipped],
            "remaining": [str(o) for o in self.remaining],
            "resumed": [str(o) for o in self.resumed],
            "statements": self.statements,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent, ensure_ascii=False, default=str)

    def __str__(self) -> str:
        lines = [
            f"{'dry run: ' if self.dry_run else ''}{len(self.detected)} detected, {len(self.applied)} applied, "
            f"{len(self.skipped)} skipped" + (" - in sync" if self.in_sync else "")
        ]
        lines += [f"  applied  {o}" for o in self.applied]
        lines += [f"  skipped  {o} ({why})" for o, why in self.skipped]
        lines += [f"  left     {o}" for o in self.remaining]
        return "\n".join(lines)


def _listing(ops: list[Operation]) -> str:
    return "; ".join(f"{o} ({', '.join(o.reasons) or o.safety})" for o in ops)


def _gate(
    p: Plan, allow_destructive: bool, allow_hazards: bool, skip_refused: bool
) -> tuple[list[Operation], list[tuple[Operation, str]]]:
    """Refuse before any DDL: what cannot succeed, then what the flags do not allow."""
    blocked = p.blocked
    if blocked:
        raise UnsafeChangeError(
            f"{len(blocked)} change(s) cannot succeed as planned: " + "; ".join(f"{o}: {o.blocked}" for o in blocked),
            operations=blocked,
        )
    refused: list[tuple[Operation, str]] = []
    for safety, allowed, flag, error in (
        (DESTRUCTIVE, allow_destructive, "allow_destructive", DestructiveChangeError),
        (HAZARDOUS, allow_hazards, "allow_hazards", UnsafeChangeError),
    ):
        found = [o for o in p.operations if o.safety == safety]
        if not found or allowed:
            continue
        if not skip_refused:
            raise error(f"{len(found)} {safety} change(s) need {flag}=True: {_listing(found)}", operations=found)
        refused += [(o, f"{safety}: {flag} not given") for o in found]
    skipped = {id(o) for o, _ in refused}
    return [o for o in p.operations if id(o) not in skipped], refused


def _run(conn: Connection, step: Step, sink: list[str], *, committed: bool) -> None:
    """Run one step; a server error is a SchemaSyncError naming the change (``committed``: the
    earlier steps stay applied, as on MySQL; otherwise the whole transaction rolls back)."""
    sink.extend(offline_sql([step], conn.dialect))
    operations = alembic_operations(MigrationContext.configure(connection=conn))
    try:
        for migrate in step.alembic:
            operations.invoke(migrate)
    except sa_exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        outcome = (
            "the steps before it stay applied; run apply again to continue" if committed else "nothing was committed"
        )
        raise SchemaSyncError(f"{step.operation} failed: {type(exc.orig).__name__}: {reason}; {outcome}") from exc


def _same(fresh: Plan, p: Plan) -> None:
    """A plan made before the lock must still be what the database needs (else plan again)."""
    if {o.key for o in fresh.operations} != {o.key for o in p.operations}:
        new = sorted({o.key for o in fresh.operations} - {o.key for o in p.operations})
        gone = sorted({o.key for o in p.operations} - {o.key for o in fresh.operations})
        raise SchemaSyncError(
            "the database changed since this plan was made; plan again "
            f"(now also needed: {', '.join(new) or 'nothing'}; no longer needed: {', '.join(gone) or 'nothing'})"
        )


def _verify(after: Plan, expected: set[str]) -> list[Operation]:
    left = [o for o in after.operations if o.key not in expected]
    if left:
        raise SchemaSyncError(
            "after applying, the database still differs from the models (nothing was committed): "
            + "; ".join(str(o) for o in left)
        )
    return after.operations


@contextmanager
def _sqlite_foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite's table rebuild needs FK enforcement off (only settable outside a transaction)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def apply(
    db: Any,
    p: Plan,
    allow_destructive: bool = False,
    allow_hazards: bool = False,
    dry_run: bool = False,
    *,
    skip_refused: bool = False,
    lock_timeout: float = 5.0,
    statement_timeout: float | None = None,
    wait: float = 300.0,
) -> ApplyReport:
    """Apply ``p`` to ``db``. Refused changes raise before any DDL (``skip_refused`` lists them instead).

    ``lock_timeout`` / ``statement_timeout`` (seconds) bound each DDL statement on PostgreSQL;
    ``wait`` bounds how long to wait for a concurrent apply to finish.
    """
    chosen, refused = _gate(p, allow_destructive, allow_hazards, skip_refused)
    if dry_run:
        return ApplyReport(
            p.database,
            True,
            list(p.operations),
            skipped=refused + [(o, "dry run") for o in chosen],
            statements=offline_sql(p.steps(chosen), p.dialect),
        )
    engine = engine_of(db)
    report = ApplyReport(p.database, False, list(p.operations), skipped=refused)
    if not chosen:
        report.remaining = [o for o, _ in refused]
        return report
    flags = (allow_destructive, allow_hazards, skip_refused)
    job = _Apply(engine, provider_for(engine.dialect), p, {o.key for o in chosen}, refused, report, wait, flags)
    if job.provider.transactional_ddl:
        job.transactional(lock_timeout, statement_timeout)
    else:
        job.journaled()
    return report


def plan_id(p: Plan) -> str:
    """Identity of a plan's changes: the same drift planned again has the same id."""
    return hashlib.sha256("\n".join(o.key for o in p.operations).encode()).hexdigest()[:32]


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@dataclass
class _Apply:
    """One apply of one plan: what both ways of running it need."""

    engine: Engine
    provider: SchemaProvider
    plan: Plan
    keys: set[str]
    refused: list[tuple[Operation, str]]
    report: ApplyReport
    wait: float
    #: allow_destructive, allow_hazards, skip_refused: the plan made again under the lock is gated too
    flags: tuple[bool, bool, bool]

    @property
    def lock_key(self) -> str:
        """One lock per database on the server, whatever the storeroom configuration calls it."""
        url = self.engine.url
        return f"storeroom_schema_sync:{url.host or ''}:{url.port or ''}:{url.database or ''}"

    def regate(self, fresh: Plan) -> list[Operation]:
        """The operations to run from the plan made under the lock: the ones chosen before, if
        the fresh plan still allows them (a table filled meanwhile can turn a change hazardous)."""
        _same(fresh, self.plan)
        chosen, _ = _gate(fresh, *self.flags)
        return [o for o in chosen if o.key in self.keys]

    @property
    def refused_keys(self) -> set[str]:
        return {o.key for o, _ in self.refused}

    def replan(self, conn: Connection) -> Plan:
        p = self.plan
        return plan_on(conn, self.provider, p.target, p.database, p.large_table_rows)

    def transactional(self, lock_timeout: float, statement_timeout: float | None) -> None:
        """One transaction under the lock; CONCURRENTLY steps after it."""
        report, later = self.report, list[Step]()
        with self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # the provider's lock is BEGIN IMMEDIATE, issued by hand
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            guard = _sqlite_foreign_keys_off(conn) if sqlite else _nothing()
            with guard, conn.begin(), self.provider.apply_lock(conn, self.lock_key, self.wait):
                self.provider.begin_apply(conn, lock_timeout, statement_timeout)
                fresh = self.replan(conn)
                if fresh.is_empty:
                    return
                for step in fresh.steps(self.regate(fresh)):
                    if step.operation.concurrent:
                        later.append(step)
                        continue
                    _run(conn, step, report.statements, committed=False)
                    report.applied += [step.operation, *step.covers]
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise SchemaSyncError(
                            f"the rebuilt tables break {len(broken)} foreign key reference(s); nothing was committed"
                        )
                expected = {s.operation.key for s in later} | self.refused_keys
                report.remaining = _verify(self.replan(conn), expected)
        if later:  # CREATE INDEX CONCURRENTLY cannot run inside a transaction
            with self.engine.connect() as conn:
                auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                for step in later:
                    _run(auto, step, report.statements, committed=True)
                    report.applied.append(step.operation)
            with self.engine.connect() as conn, conn.begin():
                report.remaining = _verify(self.replan(conn), self.refused_keys)

    def journaled(self) -> None:
        """One journaled step at a time under the lock (MySQL/MariaDB: DDL commits on its own)."""
        p, report = self.plan, self.report
        with self.engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            with self.provider.apply_lock(auto, self.lock_key, self.wait):
                journal = Journal(auto, plan_id(p))
                journal.ensure()  # first: models that include the journal table then find it made
                fresh = self.replan(auto)
                still = {o.key for o in fresh.operations}
                unexpected = still - {o.key for o in p.operations}
                if unexpected:
                    raise SchemaSyncError(
                        "the database changed since this plan was made; plan again "
                        f"(now also needed: {', '.join(sorted(unexpected))})"
                    )
                _gate(fresh, *self.flags)  # what is left must still be allowed (raises before any DDL)
                states = journal.states()
                by_key = {o.key: o for o in fresh.operations}
                for number, step in enumerate(p.steps([o for o in p.operations if o.key in self.keys])):
                    covered = [step.operation, *step.covers]
                    if all(o.key not in still for o in covered):  # done by an earlier run (journaled or not)
                        if states.get(number) != "done":
                            journal.mark(number, str(step.operation), "done")
                        report.resumed += covered
                        continue
                    current = by_key.get(step.operation.key)
                    run = Step(current, fresh.steps([current])[0].alembic, step.covers) if current is not None else step
                    journal.mark(number, str(step.operation), "started")
                    _run(auto, run, report.statements, committed=True)
                    journal.mark(number, str(step.operation), "done")
                    report.applied += covered
                after = self.replan(auto)
                left = [o for o in after.operations if o.key not in self.refused_keys]
                if left:
                    raise SchemaSyncError(
                        "after applying, the database still differs from the models: " + "; ".join(str(o) for o in left)
                    )
                report.remaining = after.operations
