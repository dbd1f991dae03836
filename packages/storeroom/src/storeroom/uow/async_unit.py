"""The async twin of :class:`~storeroom.uow.unit.UnitOfWork`."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from storeroom.database import AsyncDatabaseInterface, AsyncTransaction
from storeroom.errors import CompensationError, UnitOfWorkError
from storeroom.logs import get_logger
from storeroom.objects import ObjectInfo
from storeroom.storage import AsyncObjectStorage
from storeroom.uow.apply import apply_actions_async
from storeroom.uow.journal import AsyncJournal
from storeroom.uow.outcome import Outcome, settle
from storeroom.uow.state import UnitState
from storeroom.uow.steps import Op, State, Step, finish_actions, undo_actions
from storeroom.uow.unit import StorageLookup, check_no_outer_transaction, journal_plan

if TYPE_CHECKING:
    from storeroom.policy import StoragePolicy
    from storeroom.refs import StoredObjectRef

__all__ = ["AsyncUnitOfWork"]

logger = get_logger("storeroom.uow")


class AsyncUnitOfWork:
    """Async object writes and an optional async database transaction, undone together on failure.

    Same rules as :class:`~storeroom.UnitOfWork`; cancellation of the body counts as a
    failure and is undone before the ``CancelledError`` propagates. One unit belongs to one task.
    """

    def __init__(
        self,
        storages: StorageLookup,
        database: AsyncDatabaseInterface | None = None,
        *,
        journal: AsyncDatabaseInterface | bool | None = True,
        isolation_level: str | None = None,
        policies: Callable[[str], StoragePolicy] | None = None,
    ) -> None:
        self._state = UnitState(storages, policies)
        self._database = database
        self._journal_db, self._journal_in_tx = journal_plan(database, journal)
        self._journal: AsyncJournal | None = None
        self._markers: AsyncJournal | None = None  # the unit's database, when the journal is elsewhere
        self._isolation_level = isolation_level
        self._tx_cm: Any = None
        self._tx: AsyncTransaction | None = None
        self.leftovers: list[str] = []

    @property
    def unit_id(self) -> str:
        return self._state.unit_id

    @property
    def tx(self) -> AsyncTransaction:
        self._state.check_open()
        if self._tx is None:
            raise UnitOfWorkError("this unit of work has no database attached (pass database=...)")
        return self._tx

    def __repr__(self) -> str:
        return f"<AsyncUnitOfWork {self.unit_id} {self._state.phase} steps={len(self._state.steps)}>"

    # -- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._state.phase != "new":
            raise UnitOfWorkError("a unit of work can be entered once")
        check_no_outer_transaction(self._database)
        if self._journal_db is not None:
            await AsyncJournal(self._journal_db).ensure_table()
            if self._database is not None and self._journal_db is not self._database:
                self._markers = AsyncJournal(self._database)
                await self._markers.ensure_table()
        if self._database is not None:
            self._tx_cm = self._database.transaction(isolation_level=self._isolation_level)
            self._tx = await self._tx_cm.__aenter__()
        if self._journal_db is not None:
            self._journal = AsyncJournal(self._journal_db, in_transaction=self._tx if self._journal_in_tx else None)
            if self._markers is not None:
                try:
                    await self._journal.begin(self.unit_id, self._markers.database.name)
                except BaseException as error:  # no unit: end its transaction, or it stays ambient here
                    if self._tx_cm is not None:
                        await self._tx_cm.__aexit__(type(error), error, error.__traceback__)
                    raise
        self._state.phase = "open"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        self._state.phase = "done"
        if exc is None:
            try:
                await self._commit()
            except BaseException as error:
                if await self._settle(error) is Outcome.ROLLED_BACK:
                    await self._compensate(error)
                    raise
                await self._finish()  # it committed after all: only the reply was lost
                if not isinstance(error, Exception):
                    raise  # a cancellation or an interrupt still propagates
                return False
            await self._finish()
            return False
        if self._tx_cm is not None:
            try:
                await self._tx_cm.__aexit__(exc_type, exc, tb)
            except BaseException as error:  # noqa: BLE001 - the body's exception wins over a rollback failure
                if error is not exc:
                    logger.warning("unit of work %s: rollback failed: %s", self.unit_id, type(error).__name__)
        await self._compensate(exc)
        return False

    async def _commit(self) -> None:
        if self._tx_cm is None:
            return
        cm, self._tx_cm = self._tx_cm, None
        if self._journal is not None and self._tx is not None:
            try:
                await AsyncJournal.mark_committed(self._tx, self.unit_id)
            except BaseException as error:
                try:  # end the transaction (roll back, return the connection) before compensating
                    await cm.__aexit__(type(error), error, error.__traceback__)
                except Exception as rollback:  # noqa: BLE001 - the marker's error is the one to report
                    if rollback is not error:
                        logger.warning("unit of work %s: rollback failed: %s", self.unit_id, type(rollback).__name__)
                raise
        self._state.commit_sent = True
        await cm.__aexit__(None, None, None)

    async def _settle(self, error: BaseException) -> Outcome:
        asked = self._journal is not None and self._state.commit_sent
        check = await AsyncJournal(self._database).check_commit(self.unit_id) if asked else None
        return settle(self._state, error, check, journal_in_tx=self._journal_in_tx)

    async def _compensate(self, cause: BaseException) -> None:
        self._tx_cm = None
        failures = await apply_actions_async(undo_actions(self._state.steps), self._state.by_name)
        if failures:
            raise CompensationError(
                f"unit of work {self.unit_id} failed ({type(cause).__name__}) and could not be fully undone: "
                + self._state.remaining(failures),
                remaining=failures,
            ) from cause
        await self._forget()

    async def _finish(self) -> None:
        self.leftovers = await apply_actions_async(finish_actions(self._state.steps), self._state.by_name)
        if self.leftovers:
            logger.warning(
                "unit of work %s committed, but cleaning up failed (recover() finishes it): %s",
                self.unit_id,
                "; ".join(self.leftovers),
            )
            return
        await self._forget()

    async def _forget(self) -> None:
        if self._journal is None:
            return
        try:
            await self._journal.forget(self.unit_id)
            if self._markers is not None:
                await self._markers.forget(self.unit_id)
        except Exception as exc:  # noqa: BLE001
            logger.warning("unit of work %s: could not clear its journal rows: %s", self.unit_id, type(exc).__name__)

    # -- journaling ------------------------------------------------------------------------------

    async def _record(self, step: Step) -> None:
        if self._journal is not None:
            await self._journal.record(step)

    async def _update(self, steps: builtins.list[Step]) -> None:
        if self._journal is not None:
            for step in steps:
                await self._journal.update(step)

    # -- writes ----------------------------------------------------------------------------------

    async def _write(
        self,
        storage: Any,
        key: str,
        create: bool,
        write: Callable[[AsyncObjectStorage, bool], Awaitable[ObjectInfo]],
    ) -> ObjectInfo:
        self._state.check_open()
        name, store = self._state.resolve(storage)
        self._state.check_key(key)
        create = create and not self._state.is_deleted(name, key)  # the unit sees nothing there
        backup = self._state.needs_backup_check(name, key, create) and await store.exists(key)
        step = self._state.new_step(Op.CREATE if create else Op.PUT, name, key, backup=backup)
        try:
            await self._record(step)
        except BaseException:
            step.state = State.CANCELLED  # not journaled, so not run either: nothing to undo
            raise
        try:
            if step.backup is not None:
                await store.copy(key, step.backup, overwrite=False)
            info = await write(store, not create)
        except BaseException:
            step.state = State.CANCELLED  # a failed write stores nothing: nothing to undo
            await self._update([step])
            raise
        await self._update(self._state.wrote(step, info.etag))
        return info

    async def put(
        self,
        storage: str | AsyncObjectStorage,
        key: str,
        data: Any,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        max_size: int | None = None,
    ) -> ObjectInfo:
        return await self._write(
            storage,
            key,
            not overwrite,
            lambda store, replace: store.write(
                key, data, content_type=content_type, metadata=metadata, overwrite=replace, max_size=max_size
            ),
        )

    async def create(self, storage: str | AsyncObjectStorage, key: str, data: Any, **options: Any) -> ObjectInfo:
        return await self.put(storage, key, data, overwrite=False, **options)

    async def upload(
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
        store = pol.async_storage
        if store is None:
            raise UnitOfWorkError(f"policy {pol.name!r} has no storage for this side")
        upload = pol.aprepare(data, filename=filename, content_type=content_type, key=key)
        return upload.ref(await self.put(store, upload.key, upload.body, **upload.write_options()))

    async def delete(self, storage: str | AsyncObjectStorage, key: str) -> bool:
        self._state.check_open()
        name, store = self._state.resolve(storage)
        self._state.check_key(key)
        if self._state.is_deleted(name, key) or not await store.exists(key):
            return False
        step = self._state.new_step(Op.DELETE, name, key)
        await self._record(step)
        self._state.deletes[(name, key)] = step
        return True

    async def copy(
        self,
        storage: str | AsyncObjectStorage,
        src: str,
        dst: str,
        *,
        overwrite: bool = True,
        to_storage: str | AsyncObjectStorage | None = None,
    ) -> ObjectInfo:
        self._state.check_open()
        src_name, src_store = self._state.resolve(storage)
        self._state.check_readable(src_name, src)
        if to_storage is None:
            return await self._write(
                src_name, dst, not overwrite, lambda store, replace: store.copy(src, dst, overwrite=replace)
            )
        source = await src_store.stat(src)
        return await self._write(
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

    async def move(
        self,
        storage: str | AsyncObjectStorage,
        src: str,
        dst: str,
        *,
        overwrite: bool = True,
        to_storage: str | AsyncObjectStorage | None = None,
    ) -> ObjectInfo:
        info = await self.copy(storage, src, dst, overwrite=overwrite, to_storage=to_storage)
        if not self._state.same_object(storage, src, to_storage, dst):  # a move onto itself changes nothing
            await self.delete(storage, src)
        return info

    # -- reads that see the unit's own changes ----------------------------------------------------

    async def read(self, storage: str | AsyncObjectStorage, key: str) -> bytes:
        name, store = self._state.resolve(storage)
        self._state.check_readable(name, key)
        return await store.read(key)  # type: ignore[no-any-return]

    def read_stream(
        self, storage: str | AsyncObjectStorage, key: str, chunk_size: int = 1024 * 1024
    ) -> AsyncIterator[bytes]:
        name, store = self._state.resolve(storage)
        self._state.check_readable(name, key)
        return store.read_stream(key, chunk_size)  # type: ignore[no-any-return]

    async def stat(self, storage: str | AsyncObjectStorage, key: str) -> ObjectInfo:
        name, store = self._state.resolve(storage)
        self._state.check_readable(name, key)
        return await store.stat(key)  # type: ignore[no-any-return]

    async def exists(self, storage: str | AsyncObjectStorage, key: str) -> bool:
        name, store = self._state.resolve(storage)
        return not self._state.is_deleted(name, key) and bool(await store.exists(key))

    async def list_keys(self, storage: str | AsyncObjectStorage, prefix: str = "") -> builtins.list[str]:
        name, store = self._state.resolve(storage)
        return self._state.visible(name, await store.list_keys(prefix))
