"""The I/O-free statement builder every repository operation uses.

One :class:`Builder` per model and dialect compiles each statement *shape* once (an
untyped ``sa.table()`` construct with numbered ``bindparam``\\ s, cached by shape) and binds
fresh values per call, so the database runs it through its fast paths (psycopg's raw
cursor, COPY). Tenancy is applied here and only here: every statement an operation
yields carries the scope's tenant condition, and every write checks the tenant first.
Each public method checks its input completely and then returns a :class:`Plan`, so bad
input fails before any connection is taken.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

import pydantic
import sqlalchemy as sa
from pydantic import TypeAdapter

from storeroom.errors import QueryError, TenantRequiredError, TenantViolationError
from storeroom_orm.codecs import Codec, codec_for
from storeroom_orm.cursor import Page, decode_cursor, encode_cursor
from storeroom_orm.filters import (
    COMPARISONS,
    PATTERNS,
    And,
    Condition,
    Filter,
    Not,
    Or,
    OrderBy,
    parse_order,
    where_dict,
)
from storeroom_orm.model import Model, ModelInfo
from storeroom_orm.steps import Bulk, Plan, Query
from storeroom_orm.tenancy import Scope
from storeroom_orm.types import unwrap_optional

__all__ = ["Builder", "builder_for", "utc_now"]

M = TypeVar("M", bound=Model)

#: the per-transaction tenant setting row-level-security policies read (see rls.py)
TENANT_SETTING = "storeroom.tenant_id"
SET_TENANT = sa.text(f"SELECT set_config('{TENANT_SETTING}', :_tenant, true)")
#: statement shapes kept per model and dialect (a shape: operation, filter tree, columns ...)
MAX_SHAPES = 512
_UUID = TypeAdapter(UUID)
#: fields the repository writes itself
_MANAGED = frozenset(
    {"id", "tenant_id", "created_at", "updated_at", "created_by", "updated_by", "deleted_at", "deleted_by"}
)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _family(dialect: Any) -> str:
    name = str(dialect.name)
    return "mysql" if name in ("mysql", "mariadb") else name


def _bucket(n: int) -> int:
    """Round list lengths up to a power of two so ``IN`` lists share a few shapes."""
    size = 1
    while size < n:
        size *= 2
    return size


class Builder(Generic[M]):
    """Plans for every repository operation on one model and dialect."""

    def __init__(self, info: ModelInfo, dialect: Any) -> None:
        self.info = info
        self.model: type[M] = info.model  # type: ignore[assignment]
        self.dialect = dialect
        self.family = _family(dialect)
        self.codec: Codec = codec_for(info, self.family, str(getattr(dialect, "driver", "")))
        self.table = sa.table(info.name, *(sa.column(c) for c in info.columns), schema=info.schema)
        self.c = self.table.c
        self.all_columns = tuple(self.c[name] for name in info.columns)
        self._shapes: dict[tuple[Any, ...], Any] = {}
        self._list = TypeAdapter(list[info.model])  # type: ignore[name-defined]
        self._adapters: dict[str, TypeAdapter[Any]] = {}
        self._field_adapters: dict[str, TypeAdapter[Any]] = {}

    # -- checks and conversions (no I/O) ---------------------------------------------------

    def check_field(self, name: str) -> str:
        if name not in self.info.kinds:
            known = ", ".join(self.info.columns)
            raise QueryError(f"{self.model.__name__} has no field {name!r} (fields: {known})")
        return name

    def _value(self, name: str, value: Any) -> Any:
        """A filter value validated as the field's type (lax, no constraints) and encoded."""
        adapter = self._adapters.get(name)
        if adapter is None:
            base, _ = unwrap_optional(self.model.model_fields[name].annotation)
            adapter = self._adapters[name] = TypeAdapter(base)
        try:
            checked = adapter.validate_python(value)
        except pydantic.ValidationError as exc:
            raise QueryError(f"F.{name}: {exc.errors()[0]['msg']} (got a {type(value).__name__})") from None
        if isinstance(checked, dt.datetime) and checked.tzinfo is None:
            raise QueryError(f"F.{name}: naive datetime; pass a timezone-aware datetime")
        return self.codec.encode(name, checked)

    def _changes(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Partial changes validated field by field (with the field's own constraints)."""
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            self.check_field(name)
            if name == "tenant_id":
                raise TenantViolationError(f"{self.model.__name__}.tenant_id cannot be changed")
            if name in _MANAGED or name not in self.info.user_fields:
                raise QueryError(f"{self.model.__name__}.{name} is a system field: the repository writes it")
            adapter = self._field_adapters.get(name)
            if adapter is None:
                adapter = self._field_adapters[name] = _field_adapter(self.model, name)
            checked[name] = adapter.validate_python(value)
        return checked

    def shape(self, key: tuple[Any, ...], build: Any) -> Any:
        statement = self._shapes.get(key)
        if statement is None:
            if len(self._shapes) >= MAX_SHAPES:
                self._shapes.clear()
            statement = self._shapes[key] = build()
        return statement

    def _filters(self, filters: Sequence[Filter], where: Mapping[str, Any] | None) -> Filter | None:
        parts = [f for f in filters if f is not None]
        for part in parts:
            if not isinstance(part, Filter):
                raise QueryError(f"expected filters such as F.price > 10, got {type(part).__name__}")
        parts.extend(where_dict(where))
        if not parts:
            return None
        node = parts[0] if len(parts) == 1 else And(tuple(parts))
        for name in node.fields():
            self.check_field(name)
            if self.info.kinds[name] == "json" and not _null_only(node, name):
                raise QueryError(f"F.{name} is a JSON field: filters on it support only is_null()")
        return node

    def _filter_values(self, node: Filter | None, params: dict[str, Any]) -> None:
        if node is None:
            return
        for index, (name, op, value) in enumerate(node.values()):
            if op in PATTERNS:
                if not isinstance(value, str):
                    raise QueryError(f"F.{name}.{op}() takes a string, got a {type(value).__name__}")
                if op in ("contains", "icontains"):
                    value = f"%{_escape_like(value)}%"
                elif op in ("startswith", "istartswith"):
                    value = f"{_escape_like(value)}%"
                elif op in ("endswith", "iendswith"):
                    value = f"%{_escape_like(value)}"
                params[f"_p{index}"] = value
            else:
                params[f"_p{index}"] = self._value(name, value)

    def _compile(self, node: Filter, names: Iterator[str]) -> Any:
        if isinstance(node, Condition):
            col = self.c[node.field]
            op = node.op
            if op == "is_null":
                return col.is_(None) if node.value else col.is_not(None)
            if op in COMPARISONS:
                bind: Any = sa.bindparam(next(names))
                return {
                    "eq": col == bind,
                    "ne": col != bind,
                    "lt": col < bind,
                    "le": col <= bind,
                    "gt": col > bind,
                    "ge": col >= bind,
                }[op]
            if op in ("in", "not_in"):
                binds: list[Any] = [sa.bindparam(next(names)) for _ in node.value]
                return col.in_(binds) if op == "in" else col.not_in(binds)
            if op == "between":
                return col.between(sa.bindparam(next(names)), sa.bindparam(next(names)))
            bind = sa.bindparam(next(names))
            if op in ("icontains", "istartswith", "iendswith", "ilike"):
                return col.ilike(bind, escape=None if op == "ilike" else "\\")
            return col.like(bind, escape=None if op == "like" else "\\")
        if isinstance(node, Or):
            return sa.or_(*(self._compile(p, names) for p in node.parts))
        if isinstance(node, And):
            return sa.and_(*(self._compile(p, names) for p in node.parts))
        if isinstance(node, Not):
            return sa.not_(self._compile(node.part, names))
        raise QueryError(f"unknown filter {node!r}")

    def _where(
        self, node: Filter | None, scope: Scope, *, write: bool, include_deleted: bool, deleted: bool | None = None
    ) -> list[Any]:
        """The WHERE parts: the filter, the tenant scope, and the soft-delete rule."""
        clauses: list[Any] = []
        if node is not None:
            clauses.append(self._compile(node, (f"_p{i}" for i in range(10**9))))
        clauses.extend(self.tenant_clause(scope, write))
        if self.info.soft_delete:
            if deleted is True:
                clauses.append(self.c.deleted_at.is_not(None))
            elif not include_deleted:
                clauses.append(self.c.deleted_at.is_(None))
        return clauses

    def tenant_clause(self, scope: Scope, write: bool, columns: Any = None) -> list[Any]:
        """The tenant condition, on this table's columns or ``columns`` (a history or audit table's)."""
        if scope.read is None:
            return []
        tenant_id = (self.c if columns is None else columns).tenant_id
        if write or len(scope.read) == 1:
            return [tenant_id == sa.bindparam("_t0")]
        return [tenant_id.in_([sa.bindparam(f"_t{i}") for i in range(len(scope.read))])]

    @staticmethod
    def tenant_params(scope: Scope, write: bool, params: dict[str, Any]) -> dict[str, Any]:
        if scope.read is not None:
            if write:
                params["_t0"] = scope.write
            else:
                for i, tenant in enumerate(scope.read):
                    params[f"_t{i}"] = tenant
        return params

    @staticmethod
    def scope_key(scope: Scope, write: bool) -> Any:
        return None if scope.read is None else ("w" if write else len(scope.read))

    def prelude(self, scope: Scope, rls: bool) -> Iterator[Query]:
        """Row-level security: the tenant for this transaction only (``set_config(..., true)``)."""
        if rls and self.info.multi_tenant:
            yield Query(SET_TENANT, {"_tenant": ",".join(scope.read or ())}, "value")

    def _write_lock(self) -> Iterator[Query]:
        """Before a read-then-write on SQLite: take the write lock first.

        Two deferred transactions that both read and then both write deadlock on SQLite
        ("database is locked" at once, whatever the busy timeout). An UPDATE matching no row
        still takes the lock (waiting up to the busy timeout), as ``SELECT ... FOR UPDATE``
        serializes the same read-then-write on the other dialects.
        """
        if self.family == "sqlite":
            statement = self.shape(
                ("write_lock",), lambda: sa.update(self.table).values({self.c.id: self.c.id}).where(sa.false())
            )
            yield Query(statement, {}, "rowcount")

    def for_update(self, select: Any) -> Any:
        """``select`` locking the rows it reads until the transaction ends (SQL Server has no
        ``FOR UPDATE`` on a plain SELECT: its table hint takes the same locks)."""
        return select.with_for_update().with_hint(self.table, "WITH (UPDLOCK, ROWLOCK)", dialect_name="mssql")

    # -- reading ---------------------------------------------------------------------------

    def rows_to_models(self, rows: list[dict[str, Any]]) -> list[M]:
        return self._list.validate_python(self.codec.decode_rows(rows))

    def row_to_model(self, row: dict[str, Any]) -> M:
        return self.model.model_validate(self.codec.decode_rows([row])[0])

    def _select(self, key: tuple[Any, ...], node: Filter | None, scope: Scope, include_deleted: bool) -> Any:
        return self.shape(
            key,
            lambda: sa.select(*self.all_columns).where(
                *self._where(node, scope, write=False, include_deleted=include_deleted)
            ),
        )

    def get(self, scope: Scope, id: Any, include_deleted: bool, rls: bool) -> Plan[M | None]:
        key = ("get", self.scope_key(scope, False), include_deleted)
        statement = self.shape(
            key,
            lambda: sa.select(*self.all_columns).where(
                self.c.id == sa.bindparam("_id"),
                *self._where(None, scope, write=False, include_deleted=include_deleted),
            ),
        )
        params = self.tenant_params(scope, False, {"_id": self._id(id)})

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            row = yield Query(statement, params, "one")
            return None if row is None else self.row_to_model(row)

        return Plan(steps(), rls)

    def _id(self, value: Any) -> Any:
        try:
            return self.codec.encode("id", value if isinstance(value, UUID) else _UUID.validate_python(value))
        except pydantic.ValidationError:
            raise QueryError(f"{self.model.__name__} ids are UUIDs, got a {type(value).__name__}") from None

    def get_many(self, scope: Scope, ids: Iterable[Any], include_deleted: bool, rls: bool) -> Plan[list[M]]:
        if isinstance(ids, str | bytes | UUID):
            raise QueryError("get_many() takes a list of ids")
        encoded = list(dict.fromkeys(self._id(i) for i in ids))
        if not encoded:
            return Plan(_constant([]), False)
        size = _bucket(len(encoded))
        key = ("get_many", self.scope_key(scope, False), include_deleted, size)
        statement = self.shape(
            key,
            lambda: sa.select(*self.all_columns).where(
                self.c.id.in_([sa.bindparam(f"_i{n}") for n in range(size)]),
                *self._where(None, scope, write=False, include_deleted=include_deleted),
            ),
        )
        padded = encoded + [encoded[-1]] * (size - len(encoded))
        params = self.tenant_params(scope, False, {f"_i{n}": v for n, v in enumerate(padded)})

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            rows = yield Query(statement, params, "all")
            models = self.rows_to_models(rows)
            by_id = {self.codec.encode("id", m.id): m for m in models}
            return [by_id[i] for i in encoded if i in by_id]

        return Plan(steps(), rls)

    def _order(self, order: tuple[OrderBy, ...]) -> list[Any]:
        clauses = []
        for item in order:
            self.check_field(item.field)
            if self.info.kinds[item.field] == "json":
                raise QueryError(f"cannot order by the JSON field {item.field!r}")
            col = self.c[item.field]
            clauses.append(col.desc() if item.descending else col.asc())
        return clauses

    def list(
        self,
        scope: Scope,
        filters: Sequence[Filter],
        where: Mapping[str, Any] | None,
        order_by: Any,
        limit: int | None,
        offset: int | None,
        include_deleted: bool,
        rls: bool,
    ) -> Plan[list[M]]:
        node = self._filters(filters, where)
        order = parse_order(order_by)
        order_clauses = self._order(order)
        limit = _count_arg("limit", limit)
        offset = _count_arg("offset", offset)
        key = (
            "list",
            self.scope_key(scope, False),
            None if node is None else node.shape(),
            order,
            limit is not None,
            offset is not None,
            include_deleted,
        )

        def build() -> Any:
            statement = self._select(("select", *key[1:3], include_deleted), node, scope, include_deleted)
            statement = statement.order_by(*order_clauses)
            if limit is not None:
                statement = statement.limit(sa.bindparam("_lim"))
            if offset is not None:
                statement = statement.offset(sa.bindparam("_off"))
            return statement

        statement = self.shape(key, build)
        params = self.tenant_params(scope, False, {})
        self._filter_values(node, params)
        if limit is not None:
            params["_lim"] = limit
        if offset is not None:
            params["_off"] = offset

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            rows = yield Query(statement, params, "all")
            return self.rows_to_models(rows)

        return Plan(steps(), rls)

    def page(
        self,
        scope: Scope,
        filters: Sequence[Filter],
        where: Mapping[str, Any] | None,
        order_by: Any,
        limit: int,
        after: str | None,
        include_deleted: bool,
        rls: bool,
    ) -> Plan[Page[M]]:
        node = self._filters(filters, where)
        order = tuple(o for o in parse_order(order_by) if o.field != "id")
        tiebreak = OrderBy("id", order[-1].descending if order else False)
        for item in order:
            self.check_field(item.field)
            if self.info.nullable.get(item.field, True):
                raise QueryError(f"page() orders by non-null fields only; {item.field!r} may be NULL")
        keys = (*order, tiebreak)
        order_clauses = self._order(keys)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise QueryError(f"page() limit must be a positive integer, got {limit!r}")
        params = self.tenant_params(scope, False, {})
        self._filter_values(node, params)
        if after is not None:
            raw_values, raw_id = decode_cursor(after, keys[:-1])
            try:
                for n, (item, raw) in enumerate(zip(order, raw_values, strict=True)):
                    params[f"_k{n}"] = self._value(item.field, raw)
                params[f"_k{len(order)}"] = self._id(raw_id)
            except QueryError:
                raise QueryError("invalid page cursor") from None
        key = (
            "page",
            self.scope_key(scope, False),
            None if node is None else node.shape(),
            keys,
            after is not None,
            include_deleted,
        )

        def build() -> Any:
            clauses = self._where(node, scope, write=False, include_deleted=include_deleted)
            if after is not None:
                clauses.append(self._keyset(keys))
            return sa.select(*self.all_columns).where(*clauses).order_by(*order_clauses).limit(sa.bindparam("_lim"))

        statement = self.shape(key, build)
        params["_lim"] = limit + 1

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            rows = yield Query(statement, params, "all")
            items = self.rows_to_models(rows)
            if len(items) <= limit:
                return Page(items, None)
            items = items[:limit]
            last = items[-1]
            return Page(items, encode_cursor(keys[:-1], [getattr(last, o.field) for o in order], last.id))

        return Plan(steps(), rls)

    def _keyset(self, keys: tuple[OrderBy, ...]) -> Any:
        """Rows after the cursor's: ``(a > :k0) OR (a = :k0 AND id > :k1)`` (per direction)."""
        alternatives = []
        for i, item in enumerate(keys):
            col = self.c[item.field]
            bind: Any = sa.bindparam(f"_k{i}")
            equal = [self.c[keys[j].field] == sa.bindparam(f"_k{j}") for j in range(i)]
            alternatives.append(sa.and_(*equal, col < bind if item.descending else col > bind))
        return sa.or_(*alternatives)

    def count(
        self, scope: Scope, filters: Sequence[Filter], where: Mapping[str, Any] | None, include_deleted: bool, rls: bool
    ) -> Plan[int]:
        node = self._filters(filters, where)
        key = ("count", self.scope_key(scope, False), None if node is None else node.shape(), include_deleted)
        statement = self.shape(
            key,
            lambda: (
                sa.select(sa.func.count())
                .select_from(self.table)
                .where(*self._where(node, scope, write=False, include_deleted=include_deleted))
            ),
        )
        params = self.tenant_params(scope, False, {})
        self._filter_values(node, params)

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            value = yield Query(statement, params, "value")
            return int(value or 0)

        return Plan(steps(), rls)

    def exists(
        self, scope: Scope, filters: Sequence[Filter], where: Mapping[str, Any] | None, include_deleted: bool, rls: bool
    ) -> Plan[bool]:
        node = self._filters(filters, where)
        key = ("exists", self.scope_key(scope, False), None if node is None else node.shape(), include_deleted)
        statement = self.shape(
            key,
            lambda: (
                sa.select(self.c.id)
                .where(*self._where(node, scope, write=False, include_deleted=include_deleted))
                .limit(sa.bindparam("_lim"))
            ),
        )
        params = self.tenant_params(scope, False, {"_lim": 1})
        self._filter_values(node, params)

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            row = yield Query(statement, params, "one")
            return row is not None

        return Plan(steps(), rls)

    # -- writing ---------------------------------------------------------------------------

    def instance(self, item: Any) -> M:
        if isinstance(item, self.model):
            return item
        if isinstance(item, Mapping):
            return self.model.model_validate(item)
        raise QueryError(f"expected a {self.model.__name__} (or a mapping of its fields), got {type(item).__name__}")

    def new_row(self, scope: Scope, model: M, now: dt.datetime, actor: str | None) -> dict[str, Any]:
        """The model's column values with the system fields filled and the tenant checked."""
        values = dict(model.__dict__)
        if self.info.multi_tenant:
            given = values.get("tenant_id")
            if scope.write is None:
                if given is None:
                    raise TenantRequiredError(
                        f"cross-tenant create of a {self.model.__name__} needs tenant_id set on the model"
                    )
            elif given is None:
                values["tenant_id"] = scope.write
            elif given != scope.write:
                raise TenantViolationError(
                    f"cannot write a {self.model.__name__} of another tenant (tenant_id does not match the scope)"
                )
        values["created_at"] = values["updated_at"] = now
        values["created_by"] = values["updated_by"] = actor
        return values

    def create(self, scope: Scope, item: Any, actor: str | None, rls: bool) -> Plan[M]:
        model = self.instance(item)
        values = self.new_row(scope, model, utc_now(), actor)
        omitted = tuple(sorted(f for f in self.info.server_defaults if f not in model.model_fields_set))
        columns = [c for c in self.info.columns if c not in omitted]

        def build() -> Any:
            statement = sa.insert(self.table).values({self.c[c]: sa.bindparam(f"_p{i}") for i, c in enumerate(columns)})
            return statement.returning(*(self.c[c] for c in omitted)) if omitted else statement

        statement = self.shape(("insert", omitted), build)
        encode = self.codec.encode
        params = {f"_p{i}": encode(c, values[c]) for i, c in enumerate(columns)}
        stored = model.model_copy(update={k: values[k] for k in self.info.system_fields if k in values})

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            if not omitted:
                yield Query(statement, params, "rowcount")
                return stored
            row = yield Query(statement, params, "one")
            data = {**stored.__dict__, **self.codec.decode_rows([dict(row)])[0]}
            return self.model.model_validate(data)

        return Plan(steps(), rls)

    def bulk_create(
        self, scope: Scope, items: Iterable[Any], actor: str | None, rls: bool, now: dt.datetime | None = None
    ) -> Plan[int]:
        now = utc_now() if now is None else now
        columns = self.info.columns
        encode_row = self.codec.encode_row
        stamp = self.codec.encode("created_at", now)
        done = {"created_at": stamp, "updated_at": stamp}  # encoded once, not per row
        rows = [encode_row(self.new_row(scope, self.instance(item), now, actor), True, done) for item in items]
        if not rows:
            return Plan(_constant(0), False)

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            count = yield Bulk(self.info.qualified_name, rows, columns)
            return int(count)

        return Plan(steps(), rls)

    def update(self, scope: Scope, id: Any, changes: Mapping[str, Any], actor: str | None, rls: bool) -> Plan[M | None]:
        if scope.read is not None and scope.write is None:
            raise TenantRequiredError("no tenant to write to")
        checked = self._changes(changes)
        key_id = self._id(id)
        select = self.shape(
            ("get_for_update", self.scope_key(scope, True)),
            lambda: self.for_update(
                sa.select(*self.all_columns).where(
                    self.c.id == sa.bindparam("_id"), *self._where(None, scope, write=True, include_deleted=False)
                )
            ),
        )
        select_params = self.tenant_params(scope, True, {"_id": key_id})

        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            yield from self._write_lock()
            row = yield Query(select, select_params, "one")
            if row is None:
                return None
            current = self.row_to_model(row)
            if not checked:
                return current
            merged = self.model.model_validate({**current.__dict__, **checked})
            changed = [f for f in checked if getattr(merged, f) != getattr(current, f)]
            if not changed:
                return current  # identical values: nothing written, updated_at stays
            now = utc_now()
            statement, params = self._set_statement(scope, key_id, {f: getattr(merged, f) for f in changed}, now, actor)
            yield Query(statement, params, "rowcount")
            return merged.model_copy(update={"updated_at": now, "updated_by": actor})

        return Plan(steps(), True)

    def _set_statement(
        self, scope: Scope, key_id: Any, values: Mapping[str, Any], now: dt.datetime, actor: str | None
    ) -> tuple[Any, dict[str, Any]]:
        names = tuple(sorted(values))

        def build() -> Any:
            assignments: dict[Any, Any] = {self.c[n]: sa.bindparam(f"_s{i}") for i, n in enumerate(names)}
            assignments[self.c.updated_at] = sa.bindparam("_now")
            assignments[self.c.updated_by] = sa.bindparam("_actor")
            return (
                sa.update(self.table)
                .values(assignments)
                .where(self.c.id == sa.bindparam("_id"), *self._where(None, scope, write=True, include_deleted=False))
            )

        statement = self.shape(("update", self.scope_key(scope, True), names), build)
        params = {f"_s{i}": self.codec.encode(n, values[n]) for i, n in enumerate(names)}
        params.update(_id=key_id, _now=self.codec.encode("updated_at", now), _actor=actor)
        return statement, self.tenant_params(scope, True, params)

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
        names = tuple(sorted(checked))

        def build() -> Any:
            assignments: dict[Any, Any] = {self.c[n]: sa.bindparam(f"_s{i}") for i, n in enumerate(names)}
            assignments[self.c.updated_at] = sa.bindparam("_now")
            assignments[self.c.updated_by] = sa.bindparam("_actor")
            # rows already holding every value are left alone (updated_at does not move)
            differs = sa.or_(*(self.c[n].is_distinct_from(sa.bindparam(f"_s{i}")) for i, n in enumerate(names)))
            return (
                sa.update(self.table)
                .values(assignments)
                .where(*self._where(node, scope, write=True, include_deleted=False), differs)
            )

        key = ("update_where", self.scope_key(scope, True), None if node is None else node.shape(), names)
        statement = self.shape(key, build)
        params = self.tenant_params(scope, True, {})
        self._filter_values(node, params)
        params.update({f"_s{i}": self.codec.encode(n, checked[n]) for i, n in enumerate(names)})
        params.update(_now=self.codec.encode("updated_at", utc_now()), _actor=actor)
        return self._rowcount_plan(scope, statement, params, rls)

    def update_where_input(
        self, scope: Scope, filters: Sequence[Filter], where: Mapping[str, Any] | None, changes: Mapping[str, Any]
    ) -> tuple[Filter | None, dict[str, Any]]:
        """``update_where``'s input checked: a tenant to write to, the filter, the changes."""
        self._writable(scope)
        return self._filters(filters, where), self._changes(changes)

    def _writable(self, scope: Scope) -> None:
        if scope.read is not None and scope.write is None:
            raise TenantRequiredError("no tenant to write to")

    def _rowcount_plan(self, scope: Scope, statement: Any, params: dict[str, Any], rls: bool) -> Plan[int]:
        def steps() -> Generator[Any, Any, Any]:
            yield from self.prelude(scope, rls)
            count = yield Query(statement, params, "rowcount")
            return max(int(count), 0)

        return Plan(steps(), rls)

    def _removal(self, scope: Scope, node: Filter | None, by_id: bool, mode: str) -> Any:
        """DELETE, or the soft-delete/restore UPDATE, for one id or a filter."""

        def build() -> Any:
            deleted = True if mode == "restore" else None
            clauses = self._where(node, scope, write=True, include_deleted=mode == "purge", deleted=deleted)
            if by_id:
                clauses.insert(0, self.c.id == sa.bindparam("_id"))
            if mode in ("purge", "hard"):
                return sa.delete(self.table).where(*clauses)
            restore = mode == "restore"
            return (
                sa.update(self.table)
                .values(
                    {
                        self.c.deleted_at: None if restore else sa.bindparam("_now"),
                        self.c.deleted_by: None if restore else sa.bindparam("_actor"),
                        self.c.updated_at: sa.bindparam("_now"),
                        self.c.updated_by: sa.bindparam("_actor"),
                    }
                )
                .where(*clauses)
            )

        key = ("remove", mode, by_id, self.scope_key(scope, True), None if node is None else node.shape())
        return self.shape(key, build)

    def remove(self, scope: Scope, id: Any, mode: str, actor: str | None, rls: bool) -> Plan[bool]:
        """``mode``: ``delete`` (soft when the model is), ``restore``, or ``purge`` (hard)."""
        self._writable(scope)
        if mode == "restore" and not self.info.soft_delete:
            raise QueryError(f"{self.model.__name__} has no soft delete: nothing to restore")
        if mode == "delete":
            mode = "soft" if self.info.soft_delete else "hard"
        statement = self._removal(scope, None, True, mode)
        params = self.tenant_params(scope, True, {"_id": self._id(id)})
        if mode in ("soft", "restore"):
            params.update(_now=self.codec.encode("updated_at", utc_now()), _actor=actor)
        plan = self._rowcount_plan(scope, statement, params, rls)
        return Plan(_map(plan.steps, lambda n: n > 0), plan.atomic)

    def delete_where(
        self, scope: Scope, filters: Sequence[Filter], where: Mapping[str, Any] | None, actor: str | None, rls: bool
    ) -> Plan[int]:
        self._writable(scope)
        node = self._filters(filters, where)
        mode = "soft" if self.info.soft_delete else "hard"
        statement = self._removal(scope, node, False, mode)
        params = self.tenant_params(scope, True, {})
        self._filter_values(node, params)
        if mode == "soft":
            params.update(_now=self.codec.encode("updated_at", utc_now()), _actor=actor)
        return self._rowcount_plan(scope, statement, params, rls)

    def upsert(self, scope: Scope, item: Any, on: Sequence[str], actor: str | None, rls: bool) -> Plan[M]:
        """Insert, or update the row of this tenant with the same ``on`` values (see :mod:`.upsert`)."""
        from storeroom_orm.upsert import upsert_plan

        return upsert_plan(self, scope, item, on, actor, rls)


def _null_only(node: Filter, name: str) -> bool:
    if isinstance(node, Condition):
        return node.field != name or node.op == "is_null"
    if isinstance(node, And):
        return all(_null_only(p, name) for p in node.parts)
    if isinstance(node, Not):
        return _null_only(node.part, name)
    return True


def _count_arg(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QueryError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _constant(value: Any) -> Generator[Any, Any, Any]:
    return value
    yield  # a generator that runs no step


def _map(steps: Any, convert: Any) -> Generator[Any, Any, Any]:
    result = yield from steps
    return convert(result)


def _field_adapter(model: type[Model], name: str) -> TypeAdapter[Any]:
    from typing import Annotated

    info = model.model_fields[name]
    if not info.metadata:
        return TypeAdapter(info.annotation)  # type: ignore[arg-type]
    return TypeAdapter(Annotated[info.annotation, *info.metadata])  # type: ignore[arg-type]


def builder_for(info: ModelInfo, dialect: Any) -> Builder[Any]:
    """The model's builder for ``dialect`` (one per dialect and driver, made once).

    A temporal model gets its strategy's builder (:mod:`storeroom_orm.temporal`), which
    writes versions or audit rows with every change.
    """
    key = (dialect.name, getattr(dialect, "driver", None))
    builder = info.cache.get(key)
    if builder is None:
        kind: type[Builder[Any]] = Builder
        if info.temporal != "none":
            from storeroom_orm.temporal.strategies import builder_class

            kind = builder_class(info.temporal)
        builder = info.cache[key] = kind(info, dialect)
    return builder
