"""``scd2``: every change closes the current version and opens version n+1.

The model's table holds the latest version of each entity (see :mod:`.tables` for why);
``<table>_history`` holds the closed ones. Intervals are half-open ``[valid_from,
valid_to)``; the next version starts where the previous one ends.

| change | history | the current row |
| --- | --- | --- |
| create | - | version 1, ``valid_from = created_at`` |
| update | the replaced version, closed at ``now`` | the new values, version + 1, ``valid_from = now`` |
| soft delete | - | closed: ``valid_to = deleted_at = now`` (still the latest version) |
| restore | the deleted version, as it was | version + 1, ``valid_from = now``, open again |
| delete (no soft delete) | the version, closed at ``now`` | removed |
| purge | every version removed | removed |

``updated_at``/``updated_by`` of a version say when and by whom it was made; a soft delete
leaves them (``deleted_at``/``deleted_by`` say who ended it). A version is copied into the
history table by ``INSERT ... SELECT`` on the server: its values are never re-encoded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa

from storeroom.errors import QueryError
from storeroom_orm.model import Model, ModelInfo
from storeroom_orm.steps import Plan, Query, Step
from storeroom_orm.temporal.base import Kind, State, TemporalBuilder
from storeroom_orm.temporal.changes import FieldChange, FieldDiff
from storeroom_orm.tenancy import Scope

__all__ = ["Scd2Builder"]

M = TypeVar("M", bound=Model)

Where = Callable[[Any], list[Any]]


def _version_number(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise QueryError(f"{name} must be a version number (a positive integer), got {value!r}")
    return value


class Scd2Builder(TemporalBuilder[M]):
    """The scd2 strategy: the replaced version goes to the history table before each change."""

    #: business keys are unique among current rows only: an upsert matches those
    upsert_state: State = "live"

    def __init__(self, info: ModelInfo, dialect: Any) -> None:
        super().__init__(info, dialect)
        table = info.history_table
        assert table is not None
        self.history_table = sa.table(table.name, *(sa.column(c) for c in info.columns), schema=table.schema)
        self.h = self.history_table.c
        self.history_columns = tuple(self.h[name] for name in info.columns)

    # -- writing ------------------------------------------------------------------------------

    def new_row(self, scope: Scope, model: M, now: dt.datetime, actor: str | None) -> dict[str, Any]:
        values = super().new_row(scope, model, now, actor)
        values.update(version=1, valid_from=now, valid_to=None)
        if self.info.soft_delete:
            values.update(deleted_at=None, deleted_by=None)  # a new entity starts current
        return values

    def assignments(self, kind: Kind, names: tuple[str, ...]) -> dict[Any, Any]:
        c = self.c
        now: Any = sa.bindparam("_now")
        if kind == "soft":  # the version ends; who made it stays recorded
            return {c.deleted_at: now, c.deleted_by: sa.bindparam("_actor"), c.valid_to: now}
        opened: dict[Any, Any] = {c.version: c.version + 1, c.valid_from: now}
        if kind == "restore":
            opened.update({c.valid_to: None})
        return {**super().assignments(kind, names), **opened}

    def stamp(self, kind: Kind, before: Any, now: dt.datetime, actor: str | None) -> dict[str, Any]:
        return {**super().stamp(kind, before, now, actor), "version": before.version + 1, "valid_from": now}

    def before_main(self, kind: Kind, scope: Scope, size: int, ids: dict[str, Any], now: Any) -> Iterator[Step]:
        """Copy the versions a change replaces into the history table, closed at ``now`` (a
        soft-deleted version is closed already and keeps its ``valid_to``)."""
        if kind not in ("update", "hard", "restore"):
            return

        def build() -> Any:
            c = self.c
            copied = [
                sa.func.coalesce(c.valid_to, sa.bindparam("_now")) if name == "valid_to" else c[name]
                for name in self.info.columns
            ]
            source = sa.select(*copied).where(
                c.id.in_([sa.bindparam(f"_i{n}") for n in range(size)]), *self.tenant_clause(scope, True)
            )
            return sa.insert(self.history_table).from_select(list(self.info.columns), source)

        statement = self.shape(("copy_version", size, self.scope_key(scope, True)), build)
        yield Query(statement, self.tenant_params(scope, True, {**ids, "_now": now}), "rowcount")

    def purge_more(self, scope: Scope, key_id: Any) -> Generator[Any, Any, int]:
        """A purge also removes the entity's closed versions (also when its current row is gone)."""
        statement = self.shape(
            ("purge_versions", self.scope_key(scope, True)),
            lambda: sa.delete(self.history_table).where(
                self.h.id == sa.bindparam("_id"), *self.tenant_clause(scope, True, self.h)
            ),
        )
        count = yield Query(statement, self.tenant_params(scope, True, {"_id": key_id}), "rowcount")
        return max(int(count), 0)

    # -- reading ------------------------------------------------------------------------------

    def _versions(self, scope: Scope, key: str, current: Where, closed: Where, ordered: bool) -> Any:
        """The entity's versions in both tables (``UNION ALL``), tenant-scoped, each side narrowed."""

        def build() -> Any:
            c, h = self.c, self.h
            live = sa.select(*self.all_columns).where(
                c.id == sa.bindparam("_id"), *self.tenant_clause(scope, False), *current(c)
            )
            old = sa.select(*self.history_columns).where(
                h.id == sa.bindparam("_id"), *self.tenant_clause(scope, False, h), *closed(h)
            )
            union = sa.union_all(live, old)
            if not ordered:
                return union
            versions = union.subquery("versions")
            return sa.select(*versions.c).order_by(versions.c.version)

        return self.shape(("versions", key, self.scope_key(scope, False)), build)

    def _read(self, scope: Scope, statement: Any, params: dict[str, Any], rls: bool, convert: Any) -> Plan[Any]:
        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            rows = yield Query(statement, params, "all")
            return convert(self.rows_to_models(rows))

        return Plan(steps(), rls)

    def history(self, scope: Scope, id: Any, rls: bool) -> Plan[list[Any]]:
        """Every version of the entity, oldest first (deleted ones too)."""
        statement = self._versions(scope, "all", lambda c: [], lambda h: [], True)
        return self._read(scope, statement, self.tenant_params(scope, False, {"_id": self._id(id)}), rls, list)

    def get_as_of(self, scope: Scope, id: Any, at: dt.datetime, rls: bool) -> Plan[M | None]:
        """The version valid at ``at``: ``valid_from <= at < valid_to``; None before creation,
        after a delete, or for a time whose versions were pruned."""
        if not isinstance(at, dt.datetime):
            raise QueryError(f"as_of takes a datetime, got {type(at).__name__}")
        if at.tzinfo is None or at.utcoffset() is None:
            raise QueryError("as_of: naive datetime; pass a timezone-aware datetime")
        at_: Any = sa.bindparam("_at")
        statement = self._versions(
            scope,
            "as_of",
            lambda c: [c.valid_from <= at_, sa.or_(c.valid_to.is_(None), c.valid_to > at_)],
            lambda h: [h.valid_from <= at_, h.valid_to > at_],
            False,
        )
        params = self.tenant_params(scope, False, {"_id": self._id(id), "_at": self.codec.encode("valid_from", at)})
        return self._read(scope, statement, params, rls, lambda found: max(found, key=_by_version, default=None))

    def get_version(self, scope: Scope, id: Any, version: int, rls: bool) -> Plan[M | None]:
        number = _version_number("version", version)
        statement = self._versions(
            scope,
            "one",
            lambda c: [c.version == sa.bindparam("_v")],
            lambda h: [h.version == sa.bindparam("_v")],
            False,
        )
        params = self.tenant_params(scope, False, {"_id": self._id(id), "_v": number})
        return self._read(scope, statement, params, rls, lambda found: found[0] if found else None)

    def compare_versions(self, scope: Scope, id: Any, a: int, b: int, rls: bool) -> Plan[dict[str, Any]]:
        """``{field: FieldDiff(old=<in a>, new=<in b>, changed)}`` for every user field."""
        first, second = _version_number("a", a), _version_number("b", b)
        pair: list[Any] = [sa.bindparam("_a"), sa.bindparam("_b")]
        statement = self._versions(
            scope, "pair", lambda c: [c.version.in_(pair)], lambda h: [h.version.in_(pair)], False
        )
        params = self.tenant_params(scope, False, {"_id": self._id(id), "_a": first, "_b": second})

        def diff(found: list[Any]) -> dict[str, Any]:
            by_number = {v.version: v for v in found}
            missing = [n for n in (first, second) if n not in by_number]
            if missing:
                raise QueryError(
                    f"{self.model.__name__} {id} has no version {', '.join(map(str, sorted(set(missing))))} "
                    "(in this tenant; pruned versions are gone)"
                )
            old, new = by_number[first], by_number[second]
            return {
                name: FieldDiff(getattr(old, name), getattr(new, name), getattr(old, name) != getattr(new, name))
                for name in self.info.user_fields
            }

        return self._read(scope, statement, params, rls, diff)

    def field_history(self, scope: Scope, id: Any, field: str, rls: bool) -> Plan[list[Any]]:
        """The field's changes, derived from the versions (no transaction ids: None)."""
        name = self.user_field(field)
        plan = self.history(scope, id, rls)

        def steps() -> Generator[Any, Any, Any]:
            versions = yield from plan.steps
            return self._field_changes(versions, name)

        return Plan(steps(), plan.atomic)

    def _field_changes(self, versions: list[Any], name: str) -> list[FieldChange]:
        soft = self.info.soft_delete
        changes: list[FieldChange] = []
        previous = None
        for version in versions:
            value = getattr(version, name)
            if previous is None:
                if version.version == 1:  # older versions may have been pruned: no create then
                    changes.append(
                        FieldChange(name, None, value, "create", version.valid_from, version.created_by, None)
                    )
            elif soft and previous.deleted_at is not None:
                changes.append(FieldChange(name, None, value, "restore", version.valid_from, version.updated_by, None))
            elif value != getattr(previous, name):
                changes.append(
                    FieldChange(
                        name, getattr(previous, name), value, "update", version.valid_from, version.updated_by, None
                    )
                )
            ended = version.valid_to is not None and (
                (soft and version.deleted_at is not None) or version is versions[-1]
            )
            if ended:
                by = version.deleted_by if soft else None
                changes.append(FieldChange(name, value, None, "delete", version.valid_to, by, None))
            previous = version
        return changes

    # -- retention ----------------------------------------------------------------------------

    def prune_versions(self, scope: Scope, before: dt.datetime, dry_run: bool, rls: bool) -> Plan[int]:
        """Closed versions that ended before ``before``: per entity always its oldest ones, so
        what remains still chains; the current row (the latest version) is never touched."""
        return self.retention(self.history_table, self.h.valid_to, scope, before, dry_run, rls)


def _by_version(model: Any) -> int:
    return int(model.version)
