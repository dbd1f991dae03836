"""The write machine both temporal strategies share: lock, compare, let the strategy write.

Every change of a temporal model - update, delete, restore, purge, their set-based forms and
upsert - first reads the rows it changes under a row lock (``SELECT ... FOR UPDATE`` on
PostgreSQL and MySQL/MariaDB, ``WITH (UPDLOCK, ROWLOCK)`` on SQL Server; on SQLite the
single write lock is taken before the read). So writers of one entity run one after the
other, and the old values a strategy records are exactly the ones the change replaced: three
concurrent updates give three versions, or three audit rows whose old -> new values chain.

The change time is ``max(now, the row's latest timestamp + 1 microsecond)``: strictly
increasing per entity even when the clock does not move (or moves back between hosts).

A strategy adds to the steps (:class:`~storeroom_orm.temporal.scd2.Scd2Builder` copies the
replaced version first, :class:`~storeroom_orm.temporal.audit.AuditBuilder` writes audit rows
after); the steps themselves, sync or async, are the same generators as every other
repository operation. Plans carry ``again``, so a deadlock or serialization failure in a
transaction of their own is retried (see :func:`storeroom_orm.steps.run`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import sqlalchemy as sa

from storeroom.errors import IntegrityError, QueryError
from storeroom_orm.filters import Filter
from storeroom_orm.model import Model, ModelInfo
from storeroom_orm.statements import Builder, _bucket, _constant, utc_now
from storeroom_orm.steps import Plan, Query, Step
from storeroom_orm.temporal.changes import FieldValues
from storeroom_orm.temporal.tables import GENERATED
from storeroom_orm.tenancy import Scope
from storeroom_orm.upsert import merge_statement, upsert_fields

__all__ = ["IDS_PER_STATEMENT", "Change", "Kind", "State", "TemporalBuilder", "cutoff"]

M = TypeVar("M", bound=Model)

#: what a change does to its rows: ``soft``/``hard`` are the two deletes
Kind = Literal["update", "soft", "hard", "restore", "purge"]
#: which rows a change may lock
State = Literal["live", "deleted", "any"]
MICROSECOND = dt.timedelta(microseconds=1)
#: ids per ``IN (...)`` list of a set-based change (SQL Server takes at most 2100 parameters)
IDS_PER_STATEMENT = 256
_STATE: dict[Kind, State] = {"update": "live", "soft": "live", "hard": "live", "restore": "deleted", "purge": "any"}


@dataclass(frozen=True, slots=True)
class Change:
    """One row of a change: its locked state, and the user fields the change gives new values."""

    before: Any
    fields: tuple[str, ...]


def cutoff(older_than: Any) -> dt.datetime:
    """``older_than`` (an age as ``timedelta``, or an aware ``datetime``) as an aware UTC instant."""
    if isinstance(older_than, dt.timedelta):
        if older_than < dt.timedelta(0):
            raise QueryError("older_than must not be negative")
        return utc_now() - older_than
    if isinstance(older_than, dt.datetime):
        if older_than.tzinfo is None or older_than.utcoffset() is None:
            raise QueryError("older_than: naive datetime; pass a timezone-aware datetime")
        return older_than.astimezone(dt.UTC)
    raise QueryError(f"older_than takes a timedelta (an age) or an aware datetime, got {type(older_than).__name__}")


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), IDS_PER_STATEMENT):
        yield values[start : start + IDS_PER_STATEMENT]


class TemporalBuilder(Builder[M]):
    """Every write of a temporal model through the lock-compare-write machine; hooks for the strategy."""

    def __init__(self, info: ModelInfo, dialect: Any) -> None:
        super().__init__(info, dialect)
        self.values = FieldValues(info.model)

    # -- what a strategy adds -----------------------------------------------------------------

    def assignments(self, kind: Kind, names: tuple[str, ...]) -> dict[Any, Any]:
        """The SET list of the change's UPDATE (``_s{i}``: ``names``' values, ``_now``, ``_actor``)."""
        c = self.c
        if kind == "update":
            values: dict[Any, Any] = {c[n]: sa.bindparam(f"_s{i}") for i, n in enumerate(names)}
            return {**values, c.updated_at: sa.bindparam("_now"), c.updated_by: sa.bindparam("_actor")}
        deleting = kind == "soft"
        return {
            c.deleted_at: sa.bindparam("_now") if deleting else None,
            c.deleted_by: sa.bindparam("_actor") if deleting else None,
            c.updated_at: sa.bindparam("_now"),
            c.updated_by: sa.bindparam("_actor"),
        }

    def stamp(self, kind: Kind, before: Any, now: dt.datetime, actor: str | None) -> dict[str, Any]:
        """The system fields an update gives the returned model."""
        return {"updated_at": now, "updated_by": actor}

    def before_main(self, kind: Kind, scope: Scope, size: int, ids: dict[str, Any], now: Any) -> Iterator[Step]:
        """Steps before the change's main statement, for the same ids."""
        return iter(())

    def record(
        self,
        kind: Kind,
        changes: Sequence[Change],
        values: Mapping[str, Any],
        now: dt.datetime,
        actor: str | None,
    ) -> Generator[Any, Any, None]:
        """Steps after the change (the audit rows)."""
        return
        yield

    def record_created(self, models: Sequence[Any], actor: str | None) -> Generator[Any, Any, None]:
        """Steps after rows were created."""
        return
        yield

    def purge_more(self, scope: Scope, key_id: Any) -> Generator[Any, Any, int]:
        """Steps after a purge, whether or not a row was there; how many rows they removed."""
        return 0
        yield

    # -- the machine ---------------------------------------------------------------------------

    def _lock(self, scope: Scope, node: Filter | None, by_id: bool, state: State) -> Any:
        """``SELECT ... FOR UPDATE`` of the rows a change will change, in id order (no deadlock
        between two set-based changes: both lock in the same order)."""
        key = ("lock", by_id, state, self.scope_key(scope, True), None if node is None else node.shape())

        def build() -> Any:
            clauses = self._where(
                node,
                scope,
                write=True,
                include_deleted=state != "live",
                deleted=True if state == "deleted" else None,
            )
            if by_id:
                clauses.insert(0, self.c.id == sa.bindparam("_id"))
            return self.for_update(sa.select(*self.all_columns).where(*clauses).order_by(self.c.id))

        return self.shape(key, build)

    def _main(self, kind: Kind, scope: Scope, names: tuple[str, ...], size: int) -> Any:
        def build() -> Any:
            clauses = [
                self.c.id.in_([sa.bindparam(f"_i{n}") for n in range(size)]),
                *self.tenant_clause(scope, True),
            ]
            if kind in ("hard", "purge"):
                return sa.delete(self.table).where(*clauses)
            return sa.update(self.table).values(self.assignments(kind, names)).where(*clauses)

        return self.shape(("main", kind, names, size, self.scope_key(scope, True)), build)

    def next_time(self, changes: Sequence[Change]) -> dt.datetime:
        """Now, or 1 microsecond after the latest timestamp of any of the rows, if that is later."""
        latest = max(
            stamp
            for change in changes
            for stamp in (
                change.before.updated_at,
                getattr(change.before, "deleted_at", None),
                getattr(change.before, "valid_from", None),
                getattr(change.before, "valid_to", None),
            )
            if stamp is not None
        )
        return max(utc_now(), latest + MICROSECOND)

    def apply(
        self,
        kind: Kind,
        scope: Scope,
        changes: Sequence[Change],
        values: Mapping[str, Any],
        now: dt.datetime,
        actor: str | None,
    ) -> Generator[Any, Any, None]:
        """The writes of one change over ``changes`` (locked rows), ``values``: the fields set."""
        names = tuple(sorted(values)) if kind == "update" else ()
        encode = self.codec.encode
        common: dict[str, Any] = {f"_s{i}": encode(n, values[n]) for i, n in enumerate(names)}
        common.update(_now=encode("updated_at", now), _actor=actor)
        ids = [encode("id", change.before.id) for change in changes]
        for chunk in _chunks(ids):
            size = _bucket(len(chunk))
            id_params = {f"_i{n}": v for n, v in enumerate([*chunk, *[chunk[-1]] * (size - len(chunk))])}
            yield from self.before_main(kind, scope, size, id_params, common["_now"])
            params = self.tenant_params(
                scope, True, id_params if kind in ("hard", "purge") else {**id_params, **common}
            )
            yield Query(self._main(kind, scope, names, size), params, "rowcount")
        yield from self.record(kind, changes, values, now, actor)

    def _plan(self, steps: Callable[[], Generator[Any, Any, Any]]) -> Plan[Any]:
        return Plan(steps(), True, again=steps)

    # -- the operations ------------------------------------------------------------------------

    def update(self, scope: Scope, id: Any, changes: Mapping[str, Any], actor: str | None, rls: bool) -> Plan[M | None]:
        self._writable(scope)
        checked = self._changes(changes)
        fields = tuple(f for f in self.info.user_fields if f in checked)  # recorded in field order
        key_id = self._id(id)
        lock = self._lock(scope, None, True, "live")
        params = self.tenant_params(scope, True, {"_id": key_id})

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            yield from self._write_lock()
            row = yield Query(lock, params, "one")
            if row is None:
                return None
            current = self.row_to_model(row)
            merged = self.model.model_validate({**current.__dict__, **checked}) if checked else current
            changed = tuple(f for f in fields if getattr(merged, f) != getattr(current, f))
            if not changed:
                return current  # identical values: nothing written, no version, no audit row
            now = self.next_time([Change(current, changed)])
            values = {f: getattr(merged, f) for f in changed}
            yield from self.apply("update", scope, [Change(current, changed)], values, now, actor)
            return merged.model_copy(update=self.stamp("update", current, now, actor))

        return self._plan(steps)

    def update_where(
        self,
        scope: Scope,
        filters: Sequence[Filter],
        where: Mapping[str, Any] | None,
        changes: Mapping[str, Any],
        actor: str | None,
        rls: bool,
    ) -> Plan[int]:
        node, checked = self.update_where_input(scope, filters, where, changes)
        if not checked:
            return Plan(_constant(0), False)
        names = tuple(f for f in self.info.user_fields if f in checked)
        lock = self._lock(scope, node, False, "live")
        params = self.tenant_params(scope, True, {})
        self._filter_values(node, params)

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            yield from self._write_lock()
            rows = yield Query(lock, params, "all")
            changes = []
            for model in self.rows_to_models(rows):
                fields = tuple(f for f in names if getattr(model, f) != checked[f])
                if fields:  # rows already holding every value are left alone
                    changes.append(Change(model, fields))
            if not changes:
                return 0
            yield from self.apply("update", scope, changes, checked, self.next_time(changes), actor)
            return len(changes)

        return self._plan(steps)

    def _kind(self, mode: str) -> Kind:
        if mode == "restore" and not self.info.soft_delete:
            raise QueryError(f"{self.model.__name__} has no soft delete: nothing to restore")
        if mode == "delete":
            return "soft" if self.info.soft_delete else "hard"
        return "restore" if mode == "restore" else "purge"

    def remove(self, scope: Scope, id: Any, mode: str, actor: str | None, rls: bool) -> Plan[bool]:
        self._writable(scope)
        kind = self._kind(mode)
        key_id = self._id(id)
        lock = self._lock(scope, None, True, _STATE[kind])
        params = self.tenant_params(scope, True, {"_id": key_id})
        fields = self.info.user_fields

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            yield from self._write_lock()
            row = yield Query(lock, params, "one")
            changes = [] if row is None else [Change(self.row_to_model(row), fields)]
            if changes:
                yield from self.apply(kind, scope, changes, {}, self.next_time(changes), actor)
            more = (yield from self.purge_more(scope, key_id)) if kind == "purge" else 0
            return bool(changes) or more > 0

        return self._plan(steps)

    def delete_where(
        self, scope: Scope, filters: Sequence[Filter], where: Mapping[str, Any] | None, actor: str | None, rls: bool
    ) -> Plan[int]:
        self._writable(scope)
        node = self._filters(filters, where)
        kind = self._kind("delete")
        lock = self._lock(scope, node, False, "live")
        params = self.tenant_params(scope, True, {})
        self._filter_values(node, params)
        fields = self.info.user_fields

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            yield from self._write_lock()
            rows = yield Query(lock, params, "all")
            changes = [Change(model, fields) for model in self.rows_to_models(rows)]
            if changes:
                yield from self.apply(kind, scope, changes, {}, self.next_time(changes), actor)
            return len(changes)

        return self._plan(steps)

    # -- upsert ------------------------------------------------------------------------------

    #: which rows an upsert's ``on`` values are unique among (scd2: current rows only)
    upsert_state: State = "any"

    def upsert(self, scope: Scope, item: Any, on: Sequence[str], actor: str | None, rls: bool) -> Plan[M]:
        """Insert when no row holds the ``on`` values, else update that row - through the machine.

        The insert does nothing on a conflict (no race between two upserts of a new key); the
        row with the ``on`` values is then read under lock, and changed like ``update()``.
        """
        model = self.instance(item)
        on = upsert_fields(self, on)
        self._unique_key(on)
        now = utc_now()
        values = self.new_row(scope, model, now, actor)
        columns = self.info.columns
        insert = self.shape(("insert_absent", on), lambda: self._insert_absent(on))
        params = {f"_p{i}": self.codec.encode(c, values[c]) for i, c in enumerate(columns)}
        row_scope = Scope((values["tenant_id"],), values["tenant_id"]) if self.info.multi_tenant else scope
        node = self._filters((), {name: values[name] for name in on})
        lock = self._lock(row_scope, node, False, self.upsert_state)
        lock_params = self.tenant_params(row_scope, True, {})
        self._filter_values(node, lock_params)
        updated = tuple(f for f in self.info.user_fields if f not in on)
        key_id = self.codec.encode("id", values["id"])

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            yield from self._write_lock()
            yield Query(insert, params, "rowcount")
            row = yield Query(lock, lock_params, "one")
            if row is None:
                raise IntegrityError(
                    f"upsert of a {self.model.__name__} conflicted with a row it may not change "
                    "(another key, or another tenant's row)"
                )
            current = self.row_to_model(row)
            if self.codec.encode("id", current.id) == key_id and current.created_at == now:
                yield from self.record_created([current], actor)
                return current  # inserted just now
            changed = tuple(f for f in updated if getattr(current, f) != getattr(model, f))
            if not changed:
                return current
            change = Change(current, changed)
            at = self.next_time([change])
            new = {f: getattr(model, f) for f in changed}
            yield from self.apply("update", row_scope, [change], new, at, actor)
            return current.model_copy(update={**new, **self.stamp("update", current, at, actor)})

        return self._plan(steps)

    def _unique_key(self, on: tuple[str, ...]) -> None:
        """``on`` must be a unique key: the insert relies on the conflict to find the row."""
        table = self.info.table
        wanted = set(on) | ({"tenant_id"} if self.info.multi_tenant else set())
        keys = [{c.name for c in item.columns} for item in table.constraints if isinstance(item, sa.UniqueConstraint)]
        keys += [
            {c.name for c in index.columns} - GENERATED
            for index in table.indexes
            if index.unique and len(index.columns) == len(index.expressions)  # no SQL expression in it
        ]
        if wanted not in keys:
            raise QueryError(
                f"upsert(on={on!r}) needs a unique key on exactly those fields (unique=True, or a unique Index)"
            )

    def _insert_absent(self, on: tuple[str, ...]) -> Any:
        """``INSERT`` that does nothing when the row would break a unique key."""
        columns = self.info.columns
        values: dict[Any, Any] = {self.c[c]: sa.bindparam(f"_p{i}") for i, c in enumerate(columns)}
        if self.family in ("postgresql", "sqlite"):
            from sqlalchemy.dialects import postgresql, sqlite

            insert: Any = postgresql.insert if self.family == "postgresql" else sqlite.insert
            return insert(self.table).values(values).on_conflict_do_nothing()
        if self.family == "mysql":
            from sqlalchemy.dialects.mysql import insert as mysql_insert

            # a no-op assignment: ON DUPLICATE KEY only for duplicates (INSERT IGNORE would hide other errors)
            return mysql_insert(self.table).values(values).on_duplicate_key_update({self.c.id: self.c.id})
        if self.family == "mssql":
            target = (("tenant_id",) if self.info.multi_tenant else ()) + on
            return merge_statement(self, target, (), " AND t.valid_to IS NULL" if self.upsert_state == "live" else "")
        raise QueryError(f"upsert() is not available on {self.family}")

    # -- reads and retention (each strategy implements its own) ----------------------------------

    def unsupported(self, what: str, strategy: str) -> QueryError:
        return QueryError(f"{what} needs temporal={strategy!r}; {self.model.__name__} is {self.info.temporal!r}")

    def history(self, scope: Scope, id: Any, rls: bool) -> Plan[list[Any]]:
        raise NotImplementedError

    def field_history(self, scope: Scope, id: Any, field: str, rls: bool) -> Plan[list[Any]]:
        raise NotImplementedError

    def get_as_of(self, scope: Scope, id: Any, at: dt.datetime, rls: bool) -> Plan[M | None]:
        raise self.unsupported("get(id, as_of=...)", "scd2")

    def get_version(self, scope: Scope, id: Any, version: int, rls: bool) -> Plan[M | None]:
        raise self.unsupported("get_version()", "scd2")

    def compare_versions(self, scope: Scope, id: Any, a: int, b: int, rls: bool) -> Plan[dict[str, Any]]:
        raise self.unsupported("compare_versions()", "scd2")

    def prune_versions(self, scope: Scope, before: dt.datetime, dry_run: bool, rls: bool) -> Plan[int]:
        raise self.unsupported("prune_versions()", "scd2")

    def purge_audit(self, scope: Scope, before: dt.datetime, dry_run: bool, rls: bool) -> Plan[int]:
        raise self.unsupported("purge_audit()", "copy_on_change")

    def user_field(self, name: str) -> str:
        self.check_field(name)
        if name not in self.info.user_fields:
            raise QueryError(f"{self.model.__name__}.{name} is a system field: its changes are not recorded")
        return name

    def retention(
        self, table: Any, column: Any, scope: Scope, before: dt.datetime, dry_run: bool, rls: bool
    ) -> Plan[int]:
        """Remove (or with ``dry_run`` count) the rows of ``table`` whose ``column`` is before ``before``."""

        def build() -> Any:
            clauses = [column < sa.bindparam("_before"), *self.tenant_clause(scope, True, table.c)]
            if dry_run:
                return sa.select(sa.func.count()).select_from(table).where(*clauses)
            return sa.delete(table).where(*clauses)

        statement = self.shape(("retention", table.name, dry_run, self.scope_key(scope, True)), build)
        params = self.tenant_params(scope, True, {"_before": self.codec.encode("updated_at", before)})

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            count = yield Query(statement, params, "value" if dry_run else "rowcount")
            return max(int(count or 0), 0)

        return Plan(steps(), rls)
