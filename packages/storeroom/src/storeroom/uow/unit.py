"""The sync unit of work: object writes and a database transaction that succeed or fail together."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from storeroom.database import DatabaseInterface, Transaction, ambient_transaction
from storeroom.errors import CompensationError, UnitOfWorkError
from storeroom.logs import get_logger
from storeroom.objects import ObjectInfo
from storeroom.storage import ObjectStorage
from storeroom.uow.apply import apply_actions
from storeroom.uow.journal import Journal, concurrent_writers
from storeroom.uow.outcome import Outcome, settle
from storeroom.uow.state import UnitState
from storeroom.uow.steps import Op, State, Step, finish_actions, undo_actions

if TYPE_CHECKING:
    from storeroom.policy import StoragePolicy
    from storeroom.refs import StoredObjectRef

__all__ = ["StorageLookup", "UnitOfWork", "journal_plan"]

logger = get_logger("storeroom.uow")

StorageLookup = Callable[[str], Any] | Mapping[str, Any]


def journal_plan(database: Any, journal: Any) -> tuple[Any, bool]:
    """``(journal database or None, rows inside the unit's transaction?)`` from the ``journal`` argument.

    ``True`` journals in the attached database, ``False``/``None`` not at all, a database
    object in that one. A single-writer database (SQLite) journaling for itself must write
    inside the unit's transaction (see :mod:`storeroom.uow.journal`).
    """
    if journal is False or journal is None:
        return None, False
    target = database if journal is True else journal
    if target is None:
        return None, False
    return target, target is database and not concurrent_writers(database)


def check_no_outer_transaction(database: Any) -> None:
    """A unit must own its transaction: inside an outer one its commit would not be final."""
    ambient = ambient_transaction()
    if database is not None and ambient is not None and ambient.database == getattr(database, "name", None):
        raise UnitOfWorkError(
            f"a transaction on database {ambient.database!r} is already open here; open the unit of work "
            "first and run the statements through uow.tx"
        )


class UnitOfWork:
    """Group object writes, deletes, copies and moves with an optional database transaction.

    On an exception in the body, or a commit that did not commit, every step is undone
    newest first and the original exception propagates (or :class:`CompensationError`
    listing what is left, chained to it). A commit whose reply was lost is finished as a
    commit; one whose outcome cannot be told raises :class:`CommitOutcomeUnknownError` and
    touches nothing (see :mod:`storeroom.uow.outcome`). Deletes run only after the commit.
    Not thread-safe: one unit belongs to one thread.
    """

    def __init__(
        self,
        storages: StorageLookup,
        database: DatabaseInterface | None = None,
        *,
        journal: DatabaseInterface | bool | None = True,
        isolation_level: str | None = None,
        policies: Callable[[str], StoragePolicy] | None = None,
    ) -> None:
        self._state = UnitState(storages, policies)
        self._database = database
        self._journal_db, self._journal_in_tx = journal_plan(database, journal)
        self._journal: Journal | None = None
        self._markers: Journal | None = None  # the unit's database, when the journal is elsewhere
        self._isolation_level = isolation_level
        self._tx_cm: Any = None
        self._tx: Transaction | None = None
        #: what could not be cleaned up after a successful commit (recover() finishes it)
        self.leftovers: list[str] = []

    @property
    def unit_id(self) -> str:
        return self._state.unit_id

    @property
    def tx(self) -> Transaction:
        """The unit's database transaction (queries through the database object join it too)."""
        self._state.check_open()
        if self._tx is None:
            raise UnitOfWorkError("this unit of work has no database attached (pass database=...)")
        return self._tx

    def __repr__(self) -> str:
        return f"<UnitOfWork {self.unit_id} {self._state.phase} steps={len(self._state.steps)}>"

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self._state.phase != "new":
            raise UnitOfWorkError("a unit of work can be entered once")
        check_no_outer_transaction(self._database)
        if self._journal_db is not None:
            Journal(self._journal_db).ensure_table()
            if self._database is not None and self._journal_db is not self._database:
                self._markers = Journal(self._database)
                self._markers.ensure_table()
        if self._database is not None:
            self._tx_cm = self._database.transaction(isolation_level=self._isolation_level)
            self._tx = self._tx_cm.__enter__()
        if self._journal_db is not None:
            self._journal = Journal(self._journal_db, in_transaction=self._tx if self._journal_in_tx else None)
            if self._markers is not None:
                try:
                    self._journal.begin(self.unit_id, self._markers.database.name)
                except BaseException as error:  # no unit: end its transaction, or it stays ambient here
                    if self._tx_cm is not None:
                        self._tx_cm.__exit__(type(error), error, error.__traceback__)
                    raise
        self._state.phase = "open"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        self._state.phase = "done"
        if exc is None:
            try:
                self._commit()
            except BaseException as error:
                if self._settle(error) is Outcome.ROLLED_BACK:
                    self._compensate(error)
                    raise
                self._finish()  # it committed after all: only the reply was lost
                if not isinstance(error, Exception):
                    raise  # a cancellation or an interrupt still propagates
                return False
            self._finish()
            return False
        if self._tx_cm is not None:
            try:
                self._tx_cm.__exit__(exc_type, exc, tb)
            except BaseException as error:  # noqa: BLE001 - the body's exception (re-raised) wins over a rollback failure
                if error is not exc:
                    logger.warning("unit of work %s: rollback failed: %s", self.unit_id, type(error).__name__)
        self._compensate(exc)
        return False

    def _commit(self) -> None:
        if self._tx_cm is None:
            return
        cm, self._tx_cm = self._tx_cm, None
        if self._journal is not None and self._tx is not None:
            try:
                Journal.mark_committed(self._tx, self.unit_id)
            except BaseException as error:
                try:  # end the transaction (roll back, return the connection) before compensating
                    cm.__exit__(type(error), error, error.__traceback__)
                except Exception as rollback:  # noqa: BLE001 - the marker's error is the one to report
                    if rollback is not error:
                        logger.warning("unit of work %s: rollback failed: %s", self.unit_id, type(rollback).__name__)
                raise
        self._state.commit_sent = True
        cm.__exit__(None, None, None)

    def _settle(self, error: BaseException) -> Outcome:
        """The commit raised: did it commit after all? A fresh connection looks for the marker (outcome.py)."""
        asked = self._journal is not None and self._state.commit_sent
        check = Journal(self._database).check_commit(self.unit_id) if asked else None
        return settle(self._state, error, check, journal_in_tx=self._journal_in_tx)

    def _compensate(self, cause: BaseException) -> None:
        if self._tx_cm is not None:  # the commit itself failed: the transaction is over either way
            self._tx_cm = None
        failures = apply_actions(undo_actions(self._state.steps), self._state.by_name)
        if failures:
            raise CompensationError(
                f"unit of work {self.unit_id} failed ({type(cause).__name__}) and could not be fully undone: "
                + self._state.remaining(failures),
                remaining=failures,
            ) from cause
        self._forget()

    def _finish(self) -> None:
        self.leftovers = apply_actions(finish_actions(self._state.steps), self._state.by_name)
        if self.leftovers:
            logger.warning(
                "unit of work %s committed, but cleaning up failed (recover() finishes it): %s",
                self.unit_id,
                "; ".join(self.leftovers),
            )
            return
        self._forget()

    def _forget(self) -> None:
        if self._journal is None:
            return
        try:
            self._journal.forget(self.unit_id)
            if self._markers is not None:
                self._markers.forget(self.unit_id)
        except Exception as exc:  # noqa: BLE001 - stale rows are harmless: recover() finds nothing to do
            logger.warning("unit of work %s: could not clear its journal rows: %s", self.unit_id, type(exc).__name__)

    # -- journaling ------------------------------------------------------------------------------

    def _record(self, step: Step) -> None:
        if self._journal is not None:
            self._journal.record(step)

    def _update(self, steps: builtins.list[Step]) -> None:
        if self._journal is not None:
            for step in steps:
                self._journal.update(step)

    # -- writes ----------------------------------------------------------------------------------

    def _write(
        self, storage: Any, key: str, create: bool, write: Callable[[ObjectStorage, bool], ObjectInfo]
    ) -> ObjectInfo:
        """``write(store, overwrite)``; a create-only write of a key the unit deleted replaces it."""
        self._state.check_open()
        name, store = self._state.resolve(storage)
        self._state.check_key(key)
        create = create and not self._state.is_deleted(name, key)  # the unit sees nothing there
        backup = self._state.needs_backup_check(name, key, create) and store.exists(key)
        step = self._state.new_step(Op.CREATE if create else Op.PUT, name, key, backup=backup)
        try:
            self._record(step)
        except BaseException:
            step.state = State.CANCELLED  # not journaled, so not run either: nothing to undo
            raise
        try:
            if step.backup is not None:
                store.copy(key, step.backup, overwrite=False)
            info = write(store, not create)
        except BaseException:
            # A failed write stores nothing (the storage contract), so there is nothing to
            # undo - above all not an object someone else had at a create-only key.
            step.state = State.CANCELLED
            self._update([step])
            raise
        self._update(self._state.wrote(step, info.etag))
        return info

    def put(
        self,
        storage: str | ObjectStorage,
        key: str,
        data: Any,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        max_size: int | None = None,
    ) -> ObjectInfo:
        """Write ``key``; undone by removing it, or restoring what it replaced."""
        return self._write(
            storage,
            key,
            not overwrite,
            lambda store, replace: store.write(
                key, data, content_type=content_type, metadata=metadata, overwrite=replace, max_size=max_size
            ),
        )

    def create(self, storage: str | ObjectStorage, key: str, data: Any, **options: Any) -> ObjectInfo:
        """Create-only :meth:`put` (``ObjectExistsError`` if ``key`` exists)."""
        return self.put(storage, key, data, overwrite=False, **options)

    def upload(
        self,
        policy: str | StoragePolicy,
        data: Any,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        key: str | None = None,
    ) -> StoredObjectRef:
        """Store ``data`` through an upload policy (size, type, generated key) as a step of the unit."""
        self._state.check_open()
        pol: StoragePolicy = self._state.policy(policy)
        store = pol.storage
        if store is None:
            raise UnitOfWorkError(f"policy {pol.name!r} has no storage for this side")
        upload = pol.prepare(data, filename=filename, content_type=content_type, key=key)
        return upload.ref(self.put(store, upload.key, upload.body, **upload.write_options()))

    def delete(self, storage: str | ObjectStorage, key: str) -> bool:
        """Delete ``key`` once the unit has committed; reads in the unit no longer see it."""
        self._state.check_open()
        name, store = self._state.resolve(storage)
        self._state.check_key(key)
        if self._state.is_deleted(name, key) or not store.exists(key):
            return False
        step = self._state.new_step(Op.DELETE, name, key)
        self._record(step)
        self._state.deletes[(name, key)] = step
        return True

    def copy(
        self,
        storage: str | ObjectStorage,
        src: str,
        dst: str,
        *,
        overwrite: bool = True,
        to_storage: str | ObjectStorage | None = None,
    ) -> ObjectInfo:
        """Copy ``src`` to ``dst`` (in ``to_storage`` if given: streamed across); undone like a put."""
        self._state.check_open()
        src_name, src_store = self._state.resolve(storage)
        self._state.check_readable(src_name, src)
        if to_storage is None:
            return self._write(
                src_name, dst, not overwrite, lambda store, replace: store.copy(src, dst, overwrite=replace)
            )
        source = src_store.stat(src)
        return self._write(
            to_storage,
            dst,
            not overwrite,
            lambda store, replace: store.write(
                dst,
                src_store.read_stream(src),
                content_type=source.content_type,
                metadata=source.metadata,
                overwrite=replace,
            ),
        )

    def move(
        self,
        storage: str | ObjectStorage,
        src: str,
        dst: str,
        *,
        overwrite: bool = True,
        to_storage: str | ObjectStorage | None = None,
    ) -> ObjectInfo:
        """Copy, then delete ``src`` once the unit has committed."""
        info = self.copy(storage, src, dst, overwrite=overwrite, to_storage=to_storage)
        if not self._state.same_object(storage, src, to_storage, dst):  # a move onto itself changes nothing
            self.delete(storage, src)
        return info

    # -- reads that see the unit's own changes ----------------------------------------------------

    def read(self, storage: str | ObjectStorage, key: str) -> bytes:
        name, store = self._state.resolve(storage)
        self._state.check_readable(name, key)
        return store.read(key)  # type: ignore[no-any-return]

    def read_stream(self, storage: str | ObjectStorage, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        name, store = self._state.resolve(storage)
        self._state.check_readable(name, key)
        return store.read_stream(key, chunk_size)  # type: ignore[no-any-return]

    def stat(self, storage: str | ObjectStorage, key: str) -> ObjectInfo:
        name, store = self._state.resolve(storage)
        self._state.check_readable(name, key)
        return store.stat(key)  # type: ignore[no-any-return]

    def exists(self, storage: str | ObjectStorage, key: str) -> bool:
        name, store = self._state.resolve(storage)
        return not self._state.is_deleted(name, key) and bool(store.exists(key))

    def list_keys(self, storage: str | ObjectStorage, prefix: str = "") -> builtins.list[str]:
        name, store = self._state.resolve(storage)
        return self._state.visible(name, store.list_keys(prefix))
