"""``Repository``: the sync shell over the statement builder (one line of I/O per method).

Every method resolves the tenant scope (failing closed), asks the builder for a plan (all
input checked, no I/O yet) and runs it with :func:`storeroom_orm.steps.run`.
:class:`AsyncRepository` is the same shell with ``await``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from storeroom.database import DatabaseInterface
from storeroom.errors import ConfigurationError, QueryError
from storeroom_orm.filters import Filter
from storeroom_orm.model import Model, ModelInfo
from storeroom_orm.statements import Builder, builder_for
from storeroom_orm.steps import run
from storeroom_orm.temporal.repository import TemporalMethods
from storeroom_orm.tenancy import Scope, _tenants_of, current_actor, resolve_scope

__all__ = ["Repository", "RepositoryCore"]

M = TypeVar("M", bound=Model)


class RepositoryCore(TemporalMethods, Generic[M]):
    """What both shells share: the model, its builder for the database's dialect, the scope."""

    def __init__(self, model: type[M], database: Any, *, tenant: str | Sequence[str] | None = None, rls: bool = False):
        info: ModelInfo | None = getattr(model, "__orm__", None)
        if info is None:
            raise ConfigurationError(
                f"{getattr(model, '__name__', model)!r} is not a table model (class X(Model, table=...))"
            )
        dialect = database.engine.dialect
        if rls and dialect.name != "postgresql":
            raise ConfigurationError(
                f"row-level security is PostgreSQL's; database {database.name!r} is {dialect.name}"
            )
        self.model = model
        self.database = database
        self._info = info
        self._builder: Builder[M] = builder_for(info, dialect)
        self._tenants = None if tenant is None else _tenants_of(tenant)
        self.rls = bool(rls)

    @property
    def tenant(self) -> tuple[str, ...] | None:
        """The tenants this repository is bound to (None: taken from ``tenant()`` per call)."""
        return self._tenants

    def _scope(self) -> Scope:
        return resolve_scope(self._info.multi_tenant, self._tenants, self.model.__name__)

    @staticmethod
    def _need_filter(filters: Sequence[Filter], where: Mapping[str, Any] | None) -> None:
        if not filters and not where:
            raise QueryError("pass a filter (or where=...); a set-based write of every row must say so: F.id != None")

    @staticmethod
    def _run(database: Any, plan: Any) -> Any:
        raise NotImplementedError

    def create(self, model: M | Mapping[str, Any]) -> Any:
        """Insert one row; the stored model, system fields filled."""
        return self._run(self.database, self._builder.create(self._scope(), model, current_actor(), self.rls))

    def get(self, id: Any, *, include_deleted: bool = False, as_of: dt.datetime | None = None) -> Any:
        """The row, or None: missing, another tenant's, or soft-deleted (unless ``include_deleted``).

        ``as_of`` (scd2): the version valid at that instant instead, or None.
        """
        if as_of is not None:
            plan = self._temporal("get(id, as_of=...)").get_as_of(self._scope(), id, as_of, self.rls)
            return self._run(self.database, plan)
        return self._run(self.database, self._builder.get(self._scope(), id, include_deleted, self.rls))

    def get_many(self, ids: Iterable[Any], *, include_deleted: bool = False) -> Any:
        """The rows found, in the order of ``ids``."""
        return self._run(self.database, self._builder.get_many(self._scope(), ids, include_deleted, self.rls))

    def update(self, id: Any, **changes: Any) -> Any:
        """Change some fields; identical values write nothing. None when there is no such row."""
        return self._run(self.database, self._builder.update(self._scope(), id, changes, current_actor(), self.rls))

    def delete(self, id: Any) -> Any:
        """Soft delete when the model has it, else delete. Whether a row was affected."""
        return self._run(self.database, self._builder.remove(self._scope(), id, "delete", current_actor(), self.rls))

    def restore(self, id: Any) -> Any:
        return self._run(self.database, self._builder.remove(self._scope(), id, "restore", current_actor(), self.rls))

    def purge(self, id: Any) -> Any:
        """Hard delete, soft-deleted or not."""
        return self._run(self.database, self._builder.remove(self._scope(), id, "purge", current_actor(), self.rls))

    def list(
        self,
        *filters: Filter,
        where: Mapping[str, Any] | None = None,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        include_deleted: bool = False,
    ) -> Any:
        plan = self._builder.list(self._scope(), filters, where, order_by, limit, offset, include_deleted, self.rls)
        return self._run(self.database, plan)

    def page(
        self,
        *filters: Filter,
        where: Mapping[str, Any] | None = None,
        order_by: Any = None,
        limit: int = 50,
        after: str | None = None,
        include_deleted: bool = False,
    ) -> Any:
        """Keyset pagination: ``page.items`` and ``page.next_cursor`` (pass it as ``after=``)."""
        plan = self._builder.page(self._scope(), filters, where, order_by, limit, after, include_deleted, self.rls)
        return self._run(self.database, plan)

    def count(self, *filters: Filter, where: Mapping[str, Any] | None = None, include_deleted: bool = False) -> Any:
        return self._run(self.database, self._builder.count(self._scope(), filters, where, include_deleted, self.rls))

    def exists(self, *filters: Filter, where: Mapping[str, Any] | None = None, include_deleted: bool = False) -> Any:
        return self._run(self.database, self._builder.exists(self._scope(), filters, where, include_deleted, self.rls))

    def update_where(self, *filters: Filter, where: Mapping[str, Any] | None = None, **changes: Any) -> Any:
        """Set ``changes`` on every matching row of the tenant; rows already equal are left alone."""
        self._need_filter(filters, where)
        plan = self._builder.update_where(self._scope(), filters, where, changes, current_actor(), self.rls)
        return self._run(self.database, plan)

    def delete_where(self, *filters: Filter, where: Mapping[str, Any] | None = None) -> Any:
        self._need_filter(filters, where)
        return self._run(
            self.database, self._builder.delete_where(self._scope(), filters, where, current_actor(), self.rls)
        )

    def bulk_create(self, models: Iterable[M | Mapping[str, Any]]) -> Any:
        """Insert many rows through the database's ``bulk_insert`` (COPY on PostgreSQL)."""
        return self._run(self.database, self._builder.bulk_create(self._scope(), models, current_actor(), self.rls))

    def upsert(self, model: M | Mapping[str, Any], *, on: Sequence[str]) -> Any:
        """Insert, or update this tenant's row with the same ``on`` values; the stored row."""
        return self._run(self.database, self._builder.upsert(self._scope(), model, on, current_actor(), self.rls))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model.__name__} database={self.database.name!r} tenant={self._tenants!r}>"


class Repository(RepositoryCore[M]):
    """Reads and writes ``model`` rows through a sync ``DatabaseInterface``, joining its open
    transaction (and so a unit of work's). Every method is :class:`RepositoryCore`'s."""

    database: DatabaseInterface
    _run = staticmethod(run)
