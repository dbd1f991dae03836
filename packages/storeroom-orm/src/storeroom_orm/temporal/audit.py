"""``copy_on_change``: the table stays as it is; every change adds rows to ``<table>_audit``.

One audit row per user field the change gives a new value: an update records only the
fields whose value changes (a no-op update writes nothing), a create every field (old
None), a delete every field (new None), a restore every field (old None). System fields
are never recorded. The rows are written by the same step machine as the change, in the
same transaction: a rollback, or a rolled-back savepoint, leaves none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Mapping, Sequence
from types import SimpleNamespace
from typing import Any, TypeVar, cast
from uuid import UUID

import sqlalchemy as sa

from storeroom_orm.codecs import codec_for
from storeroom_orm.model import Model, ModelInfo
from storeroom_orm.statements import utc_now
from storeroom_orm.steps import Plan, Query
from storeroom_orm.temporal.base import Change, Kind, TemporalBuilder
from storeroom_orm.temporal.changes import FieldChange, Operation
from storeroom_orm.temporal.transactions import transaction_id
from storeroom_orm.tenancy import Scope

__all__ = ["AuditBuilder"]

M = TypeVar("M", bound=Model)

#: audit rows per multi-row INSERT (SQL Server takes at most 2100 parameters: 9 a row)
ROWS_PER_INSERT = 200
_OPERATION: dict[Kind, Operation] = {
    "update": "update",
    "soft": "delete",
    "hard": "delete",
    "purge": "delete",
    "restore": "restore",
}
_READ = ("field", "old_value", "new_value", "operation", "changed_at", "changed_by", "transaction_id")


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class AuditBuilder(TemporalBuilder[M]):
    """The copy_on_change strategy: audit rows after each change."""

    def __init__(self, info: ModelInfo, dialect: Any) -> None:
        super().__init__(info, dialect)
        table = info.audit_table
        assert table is not None
        self.audit_columns = tuple(c.name for c in table.c if c.name != "seq")
        self.audit = sa.table(table.name, *(sa.column(c.name) for c in table.c), schema=table.schema)
        quote = dialect.identifier_preparer.quote
        self.audit_sql = ".".join(quote(part) for part in (table.schema, table.name) if part)
        self.audit_names = ", ".join(quote(c) for c in self.audit_columns)
        kinds = {"record_id": "uuid", "transaction_id": "uuid", "old_value": "json", "new_value": "json"}
        kinds["changed_at"] = "datetime"
        facts = SimpleNamespace(
            columns=self.audit_columns,
            kinds={c: kinds.get(c, "str") for c in self.audit_columns},
            decimal_places={},
        )
        # codec_for reads only columns, kinds and decimal_places
        self.audit_codec = codec_for(cast(ModelInfo, facts), self.family, str(getattr(dialect, "driver", "")))

    # -- writing ------------------------------------------------------------------------------

    def create(self, scope: Scope, item: Any, actor: str | None, rls: bool) -> Plan[M]:
        plan = super().create(scope, item, actor, rls)

        def steps() -> Generator[Any, Any, Any]:
            stored = yield from plan.steps
            yield from self.record_created([stored], actor)
            return stored

        return Plan(steps(), True)

    def bulk_create(
        self, scope: Scope, items: Any, actor: str | None, rls: bool, now: dt.datetime | None = None
    ) -> Plan[int]:
        now = utc_now() if now is None else now
        models = [self.instance(item) for item in items]
        plan = super().bulk_create(scope, models, actor, rls, now)
        # what the audit rows need of each stored row (the base checked each tenant)
        system = {"created_at": now, "updated_at": now}
        tenant = {"tenant_id": scope.write} if self.info.multi_tenant else {}
        stored = [
            m.model_copy(update={**tenant, **system} if getattr(m, "tenant_id", None) is None else system)
            for m in models
        ]
        if not models:
            return plan

        def steps() -> Generator[Any, Any, Any]:
            count = yield from plan.steps
            yield from self.record_created(stored, actor)
            return count

        return Plan(steps(), True)

    def _row(
        self, model: Any, field: str, old: Any, new: Any, operation: Operation, at: Any, actor: str | None, tx: UUID
    ) -> dict[str, Any]:
        row = {
            "record_id": model.id,
            "field": field,
            "old_value": self.values.dump(field, old),
            "new_value": self.values.dump(field, new),
            "operation": operation,
            "changed_at": at,
            "changed_by": actor,
            "transaction_id": tx,
        }
        if self.info.multi_tenant:
            row["tenant_id"] = model.tenant_id
        return row

    def _insert(self, rows: list[dict[str, Any]]) -> Generator[Any, Any, None]:
        """Multi-row INSERTs of at most ``ROWS_PER_INSERT`` rows.

        Not ``bulk_insert``: PostgreSQL's binary COPY takes only dicts and lists for a JSONB
        column, and an old or new value may be a JSON string or number.
        """
        columns = self.audit_columns
        encode = self.audit_codec.encode
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[start : start + ROWS_PER_INSERT]
            count = len(chunk)

            def build(count: int = count) -> Any:
                # text, not an insert().values([...]) construct: SQLAlchemy compiles a
                # multi-row VALUES construct again on every execution, a text() once
                rows = ", ".join(f"({', '.join(f':_a{i}_{j}' for j in range(len(columns)))})" for i in range(count))
                return sa.text(f"INSERT INTO {self.audit_sql} ({self.audit_names}) VALUES {rows}")

            statement = self.shape(("audit_insert", count), build)
            params = {f"_a{i}_{j}": encode(c, row.get(c)) for i, row in enumerate(chunk) for j, c in enumerate(columns)}
            yield Query(statement, params, "rowcount")

    def record(
        self,
        kind: Kind,
        changes: Sequence[Change],
        values: Mapping[str, Any],
        now: dt.datetime,
        actor: str | None,
    ) -> Generator[Any, Any, None]:
        operation = _OPERATION[kind]
        tx = transaction_id()
        rows = []
        for change in changes:
            before = change.before
            if kind == "purge" and self.info.soft_delete and before.deleted_at is not None:
                continue  # its delete is recorded already
            for name in change.fields:
                old = getattr(before, name)
                if kind == "update":
                    rows.append(self._row(before, name, old, values[name], operation, now, actor, tx))
                elif kind == "restore":
                    rows.append(self._row(before, name, None, old, operation, now, actor, tx))
                else:
                    rows.append(self._row(before, name, old, None, operation, now, actor, tx))
        yield from self._insert(rows)

    def record_created(self, models: Sequence[Any], actor: str | None) -> Generator[Any, Any, None]:
        tx = transaction_id()
        rows = [
            self._row(model, name, None, getattr(model, name), "create", model.created_at, actor, tx)
            for model in models
            for name in self.info.user_fields
        ]
        yield from self._insert(rows)

    # -- reading ------------------------------------------------------------------------------

    def _changes_of(self, scope: Scope, id: Any, field: str | None, rls: bool) -> Plan[list[FieldChange]]:
        def build() -> Any:
            a = self.audit.c
            clauses = [a.record_id == sa.bindparam("_id"), *self.tenant_clause(scope, False, a)]
            if field is not None:
                clauses.append(a.field == sa.bindparam("_f"))
            return sa.select(*(a[c] for c in _READ)).where(*clauses).order_by(a.seq)

        statement = self.shape(("audit_read", self.scope_key(scope, False), field is not None), build)
        params = self.tenant_params(scope, False, {"_id": self.audit_codec.encode("record_id", self._uuid_of(id))})
        if field is not None:
            params["_f"] = field
        known = self.model.model_fields

        def load(name: str, value: Any) -> Any:
            return self.values.load(name, value) if name in known else value

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            rows = yield Query(statement, params, "all")
            return [
                FieldChange(
                    row["field"],
                    load(row["field"], row["old_value"]),
                    load(row["field"], row["new_value"]),
                    row["operation"],
                    _aware(row["changed_at"]),
                    row["changed_by"],
                    _uuid(row["transaction_id"]),
                )
                for row in self.audit_codec.decode_rows(rows)
            ]

        return Plan(steps(), rls)

    def _uuid_of(self, id: Any) -> UUID:
        self._id(id)  # checked like every id
        return id if isinstance(id, UUID) else UUID(str(id))

    def history(self, scope: Scope, id: Any, rls: bool) -> Plan[list[Any]]:
        """Every recorded change of the record, oldest first (also after it was deleted)."""
        return self._changes_of(scope, id, None, rls)

    def field_history(self, scope: Scope, id: Any, field: str, rls: bool) -> Plan[list[Any]]:
        return self._changes_of(scope, id, self.user_field(field), rls)

    def purge_audit(self, scope: Scope, before: dt.datetime, dry_run: bool, rls: bool) -> Plan[int]:
        """Audit rows of changes made before ``before``: whole changes, and per record the oldest."""
        return self.retention(self.audit, self.audit.c.changed_at, scope, before, dry_run, rls)
