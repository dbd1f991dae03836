"""The temporal reads and retention of a repository (mixed into ``RepositoryCore``).

Each method checks its input, asks the model's temporal builder for a plan and runs it
with the repository's loop, like every other method: one body for sync and async.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from storeroom.errors import QueryError
from storeroom_orm.temporal.base import TemporalBuilder, cutoff
from storeroom_orm.tenancy import Scope

__all__ = ["TemporalMethods"]


class TemporalMethods:
    """``history``, ``field_history``, ``get_version``, ``compare_versions``, retention."""

    model: Any
    database: Any
    rls: bool
    _builder: Any

    def _scope(self) -> Scope:
        raise NotImplementedError

    @staticmethod
    def _run(database: Any, plan: Any) -> Any:
        raise NotImplementedError

    def _temporal(self, what: str) -> TemporalBuilder[Any]:
        if not isinstance(self._builder, TemporalBuilder):
            raise QueryError(
                f"{what} needs a temporal model; {self.model.__name__} has temporal='none' "
                "(declare it with temporal='copy_on_change' or temporal='scd2')"
            )
        return self._builder

    def history(self, id: Any) -> Any:
        """scd2: every version, oldest first; copy_on_change: every recorded ``FieldChange``."""
        return self._run(self.database, self._temporal("history()").history(self._scope(), id, self.rls))

    def field_history(self, id: Any, field: str) -> Any:
        """The changes of one user field, oldest first: ``list[FieldChange]``."""
        plan = self._temporal("field_history()").field_history(self._scope(), id, field, self.rls)
        return self._run(self.database, plan)

    def get_version(self, id: Any, version: int) -> Any:
        """scd2: version ``version`` of the entity, or None."""
        plan = self._temporal("get_version()").get_version(self._scope(), id, version, self.rls)
        return self._run(self.database, plan)

    def compare_versions(self, id: Any, a: int, b: int) -> Any:
        """scd2: ``{field: FieldDiff(old, new, changed)}`` between versions ``a`` and ``b``."""
        plan = self._temporal("compare_versions()").compare_versions(self._scope(), id, a, b, self.rls)
        return self._run(self.database, plan)

    def prune_versions(self, *, older_than: dt.timedelta | dt.datetime, dry_run: bool = False) -> Any:
        """scd2: remove closed versions that ended before ``older_than``; how many (would) go."""
        builder = self._temporal("prune_versions()")
        return self._run(self.database, builder.prune_versions(self._scope(), cutoff(older_than), dry_run, self.rls))

    def purge_audit(self, *, older_than: dt.timedelta | dt.datetime, dry_run: bool = False) -> Any:
        """copy_on_change: remove audit rows of changes made before ``older_than``; how many (would) go."""
        builder = self._temporal("purge_audit()")
        return self._run(self.database, builder.purge_audit(self._scope(), cutoff(older_than), dry_run, self.rls))
