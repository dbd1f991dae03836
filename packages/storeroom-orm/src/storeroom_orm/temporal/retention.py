"""Retention over many models at once: what ``storeroom orm prune`` runs.

For each temporal model: scd2 models prune closed versions, copy_on_change models purge
audit rows, older than the cutoff, across every tenant (``cross_tenant()``: this is admin
work). The per-model methods are the repositories' own ``prune_versions``/``purge_audit``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from storeroom.errors import ConfigurationError

__all__ = ["Pruned", "prune", "temporal_models"]


@dataclass(frozen=True, slots=True)
class Pruned:
    """What retention removed (or, in a dry run, would remove) from one model's table."""

    model: str
    table: str
    temporal: str
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "table": self.table, "temporal": self.temporal, "rows": self.rows}


def temporal_models(target: Any) -> list[Any]:
    """The temporal models in ``target``: a model class, a MetaData, or an iterable of either."""
    from storeroom_orm.model import Model

    found: dict[int, Any] = {}

    def visit(item: Any) -> None:
        if isinstance(item, type) and issubclass(item, Model) and item.__orm__ is not None:
            found[id(item)] = item
        elif isinstance(item, sa.MetaData):
            for table in item.tables.values():
                info = table.info.get("storeroom_orm")
                if info is not None:
                    found[id(info.model)] = info.model
        elif isinstance(item, Iterable) and not isinstance(item, str | bytes):
            for part in item:
                visit(part)
        else:
            raise ConfigurationError(f"expected table models, a MetaData, or a list of them; got {type(item).__name__}")

    visit(target)
    return [model for model in found.values() if model.__orm__.temporal != "none"]


def prune(database: Any, target: Any, *, older_than: dt.timedelta | dt.datetime, dry_run: bool = False) -> list[Pruned]:
    """Prune versions and purge audit rows of every temporal model in ``target`` on ``database``."""
    from storeroom_orm.repository import Repository
    from storeroom_orm.tenancy import cross_tenant

    done = []
    with cross_tenant():
        for model in temporal_models(target):
            info = model.__orm__
            repo = Repository(model, database)
            if info.temporal == "scd2":
                rows, table = repo.prune_versions(older_than=older_than, dry_run=dry_run), info.history_table
            else:
                rows, table = repo.purge_audit(older_than=older_than, dry_run=dry_run), info.audit_table
            done.append(Pruned(model.__name__, table.fullname, info.temporal, rows))
    return done
