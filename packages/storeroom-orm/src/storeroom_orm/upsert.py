"""Upserts: ``INSERT ... ON CONFLICT`` (PostgreSQL, SQLite), ``ON DUPLICATE KEY UPDATE`` (MySQL)
and ``MERGE`` (SQL Server), each changing only the row of the caller's tenant.

Only that row may change: the update is guarded by tenant (and, on MySQL, whose ``ON
DUPLICATE KEY`` fires on any unique key, the primary key included, by the ``on`` values
too), so a conflict with another tenant's row, or on another key, changes nothing and
raises ``IntegrityError``. The stored row is read back in the same transaction.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from storeroom.errors import IntegrityError, QueryError
from storeroom_orm.statements import utc_now
from storeroom_orm.steps import Plan, Query
from storeroom_orm.tenancy import Scope

if TYPE_CHECKING:
    from storeroom_orm.statements import Builder

__all__ = ["merge_statement", "upsert_fields", "upsert_plan", "upsert_statement"]


def upsert_plan(
    builder: Builder[Any], scope: Scope, item: Any, on: Sequence[str], actor: str | None, rls: bool
) -> Plan[Any]:
    """Insert, or update the row of this tenant with the same ``on`` values.

    Only that row may change: the update is guarded by tenant (and, on MySQL, whose
    ``ON DUPLICATE KEY`` fires on any unique key, by the ``on`` values too), so a
    conflict with another tenant's row, or on another key, changes nothing and raises
    ``IntegrityError``.
    """
    model = builder.instance(item)
    on = upsert_fields(builder, on)
    values = builder.new_row(scope, model, utc_now(), actor)
    target = (("tenant_id",) if builder.info.multi_tenant else ()) + on
    updated = (*(f for f in builder.info.user_fields if f not in on), "updated_at", "updated_by")
    statement = builder.shape(("upsert", on), lambda: upsert_statement(builder, target, updated, on))
    params = {f"_p{i}": builder.codec.encode(c, values[c]) for i, c in enumerate(builder.info.columns)}
    lookup_scope = Scope((values["tenant_id"],), values["tenant_id"]) if builder.info.multi_tenant else scope
    lookup = builder.shape(
        ("upsert_lookup", on, builder.scope_key(lookup_scope, True)),
        lambda: sa.select(*builder.all_columns).where(
            *(builder.c[n] == sa.bindparam(f"_o{i}") for i, n in enumerate(on)),
            *builder.tenant_clause(lookup_scope, True),
        ),
    )
    lookup_params = builder.tenant_params(
        lookup_scope, True, {f"_o{i}": builder.codec.encode(n, values[n]) for i, n in enumerate(on)}
    )

    def steps() -> Generator[Any, Any, Any]:
        yield from builder.prelude(scope, rls)
        yield Query(statement, params, "rowcount")
        row = yield Query(lookup, lookup_params, "one")
        stored = None if row is None else builder.row_to_model(row)
        if stored is None or any(getattr(stored, f) != getattr(model, f) for f in updated[:-2]):
            # MySQL's guarded ON DUPLICATE KEY UPDATE changed nothing: the conflict was elsewhere
            raise IntegrityError(
                f"upsert of a {builder.model.__name__} conflicted with a row it may not change "
                "(another key, or another tenant's row)"
            )
        return stored

    return Plan(steps(), True)


def upsert_fields(builder: Builder[Any], on: Sequence[str]) -> tuple[str, ...]:
    """``on`` checked: user fields that identify the row."""
    if isinstance(on, str):
        on = (on,)
    on = tuple(on)
    if not on:
        raise QueryError("upsert() needs on=(field, ...): the fields that identify the row")
    for name in on:
        builder.check_field(name)
        if name not in builder.info.user_fields:
            raise QueryError(f"upsert(on=...) takes user fields; {name!r} is a system field")
    return on


def upsert_statement(
    builder: Builder[Any], target: tuple[str, ...], updated: tuple[str, ...], on: tuple[str, ...]
) -> Any:
    columns = builder.info.columns
    values: dict[Any, Any] = {builder.c[c]: sa.bindparam(f"_p{i}") for i, c in enumerate(columns)}
    if builder.family in ("postgresql", "sqlite"):
        from sqlalchemy.dialects import postgresql, sqlite

        insert: Any = postgresql.insert if builder.family == "postgresql" else sqlite.insert
        statement = insert(builder.table).values(values)
        excluded = statement.excluded
        guard = excluded.tenant_id == builder.c.tenant_id if builder.info.multi_tenant else None
        return statement.on_conflict_do_update(
            index_elements=[builder.c[c] for c in target],
            set_={c: excluded[c] for c in updated},
            where=guard,
        )
    if builder.family == "mysql":
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        duplicate: Any = mysql_insert(builder.table).values(values)
        inserted = duplicate.inserted
        guard = sa.and_(*(builder.c[c] == inserted[c] for c in target))
        return duplicate.on_duplicate_key_update({c: sa.func.IF(guard, inserted[c], builder.c[c]) for c in updated})
    if builder.family == "mssql":
        return merge_statement(builder, target, updated)
    raise QueryError(f"upsert() is not available on {builder.family}")


def merge_statement(
    builder: Builder[Any], target: tuple[str, ...], updated: tuple[str, ...], also_match: str = ""
) -> Any:
    """SQL Server's upsert: ``MERGE ... WITH (HOLDLOCK)`` (serializable for the key range).

    Without ``updated`` fields it only inserts a row that is not there; ``also_match``
    narrows which target rows count as there (`` AND t.valid_to IS NULL``).
    """
    quote = builder.dialect.identifier_preparer.quote
    info = builder.info
    table = ".".join(quote(p) for p in (info.schema, info.name) if p)
    columns = info.columns
    source = ", ".join(f":_p{i} AS {quote(c)}" for i, c in enumerate(columns))
    match = " AND ".join(f"t.{quote(c)} = s.{quote(c)}" for c in target) + also_match
    sets = ", ".join(f"t.{quote(c)} = s.{quote(c)}" for c in updated)
    matched = f"WHEN MATCHED THEN UPDATE SET {sets} " if updated else ""
    names = ", ".join(quote(c) for c in columns)
    inserted = ", ".join(f"s.{quote(c)}" for c in columns)
    return sa.text(
        f"MERGE INTO {table} WITH (HOLDLOCK) AS t USING (SELECT {source}) AS s ON {match} "
        f"{matched}WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({inserted});"
    )
