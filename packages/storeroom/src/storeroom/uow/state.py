"""Bookkeeping shared by :class:`UnitOfWork` and :class:`AsyncUnitOfWork` (no I/O here)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from storeroom.errors import ObjectNotFoundError, UnitOfWorkError
from storeroom.keys import validate_key
from storeroom.uow.journal import now_ms
from storeroom.uow.steps import BACKUP_PREFIX, Op, State, Step, backup_key

__all__ = ["UnitState"]


class UnitState:
    """Steps, pending deletes and keys written, for one unit."""

    def __init__(self, storages: Any, policies: Any = None) -> None:
        self.unit_id = uuid.uuid4().hex
        self.steps: list[Step] = []
        self.deletes: dict[tuple[str, str], Step] = {}
        self.written: set[tuple[str, str]] = set()
        self.phase = "new"  # new -> open -> done
        self.commit_sent = False  # COMMIT may have reached the server: a failure from here is ambiguous
        self._storages = storages
        self._policies = policies
        self._objects: dict[str, Any] = {}  # storages passed as objects: undo must find them by name

    # -- storages ------------------------------------------------------------------------------

    def resolve(self, storage: Any) -> tuple[str, Any]:
        """``(name, storage)`` from a name (looked up) or a storage object (its ``name``)."""
        if isinstance(storage, str):
            if callable(self._storages):
                return storage, self._storages(storage)
            try:
                return storage, self._storages[storage]
            except KeyError:
                raise UnitOfWorkError(f"unknown storage {storage!r} in this unit of work") from None
        name = getattr(storage, "name", None)
        if not isinstance(name, str):
            raise UnitOfWorkError(f"expected a storage name or a storage object, got {type(storage).__name__}")
        self._objects.setdefault(name, storage)
        return name, storage

    def same_object(self, storage: Any, src: str, to_storage: Any, dst: str) -> bool:
        """Whether a copy or move of ``src`` lands on ``src`` itself (a move then deletes nothing)."""
        if src != dst:
            return False
        return to_storage is None or self.resolve(to_storage)[0] == self.resolve(storage)[0]

    def policy(self, policy: Any) -> Any:
        """A :class:`~storeroom.StoragePolicy` from a name (looked up) or a policy object."""
        if not isinstance(policy, str):
            return policy
        if self._policies is None:
            raise UnitOfWorkError(f"this unit of work knows no policies; pass the policy object, not {policy!r}")
        return self._policies(policy)

    def by_name(self, name: str) -> Any:
        if name in self._objects:
            return self._objects[name]
        return self.resolve(name)[1]

    # -- lifecycle -------------------------------------------------------------------------------

    def check_open(self) -> None:
        if self.phase != "open":
            state = "not entered yet" if self.phase == "new" else "already finished"
            raise UnitOfWorkError(f"the unit of work is {state}; use it inside its `with` block")

    # -- steps -----------------------------------------------------------------------------------

    def new_step(self, op: Op, storage: str, key: str, *, backup: bool = False) -> Step:
        seq = len(self.steps) + 1
        step = Step(
            self.unit_id,
            seq,
            op,
            storage,
            key,
            backup=backup_key(self.unit_id, seq) if backup else None,
            created_ms=now_ms(),
        )
        self.steps.append(step)
        return step

    def check_key(self, key: str) -> None:
        validate_key(key)
        if key.startswith(BACKUP_PREFIX):
            raise UnitOfWorkError(f"keys under {BACKUP_PREFIX!r} are reserved for the unit of work's backups")

    def needs_backup_check(self, name: str, key: str, create: bool) -> bool:
        """Whether a write must look for an existing object to back up first.

        Not for create-only writes (they fail on an existing object), nor for a key this
        unit already wrote (the first write's undo covers it).
        """
        return not create and (name, key) not in self.written

    def wrote(self, step: Step, etag: str | None) -> list[Step]:
        """Record a returned write; the deferred delete it overtakes (if any) is cancelled and returned."""
        step.state = State.APPLIED
        step.etag = etag
        self.written.add((step.storage, step.key))
        overtaken = self.deletes.pop((step.storage, step.key), None)
        if overtaken is None:
            return [step]
        overtaken.state = State.CANCELLED
        return [step, overtaken]

    def is_deleted(self, name: str, key: str) -> bool:
        return (name, key) in self.deletes

    def check_readable(self, name: str, key: str) -> None:
        if (name, key) in self.deletes:
            raise ObjectNotFoundError(f"{name}:{key} was deleted in this unit of work", key=key)

    def visible(self, name: str, keys: Iterable[str]) -> list[str]:
        return [k for k in keys if (name, k) not in self.deletes and not k.startswith(BACKUP_PREFIX)]

    def remaining(self, failures: list[str]) -> str:
        return "; ".join(failures)
