"""What the unit-of-work tests share: a room per backend pair, a 5-step unit, snapshots, faults.

Backends are chosen by name (``local``, ``s3``, ``azure`` for storage; ``sqlite``,
``postgres`` for the database); each builds real settings from the session's services.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storeroom import Storeroom

__all__ = [
    "BODY_CALLS",
    "DOCS_DDL",
    "FINISH_CALLS",
    "FaultyStorage",
    "InjectedFault",
    "Settings",
    "committed_objects",
    "five_steps",
    "five_steps_async",
    "prepare",
    "room_settings",
    "snapshot",
    "tables",
]

Settings = dict[str, Any]

DOCS_DDL = [
    "CREATE TABLE {parents} (id INTEGER PRIMARY KEY)",
    "CREATE TABLE {docs} (id INTEGER PRIMARY KEY, object_key VARCHAR(200) NOT NULL, "
    "parent INTEGER REFERENCES {parents}(id){deferred})",
]
#: dialects whose foreign keys are always checked at once (no DEFERRABLE)
IMMEDIATE_ONLY = ("mysql", "mariadb")


class InjectedFault(Exception):
    """Raised by :class:`FaultyStorage` (and by test bodies) at a chosen point."""


def room_settings(storage: Settings, database: Settings, tmp_path: Path) -> Settings:
    return {
        "databases": {
            "main": {**database, "default": True},
            "journal": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/journal.db"},
        },
        "storages": {"files": {**storage, "default": True}},
    }


def tables() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {"docs": f"uow_docs_{suffix}", "parents": f"uow_parents_{suffix}"}


def prepare(room: Storeroom, names: dict[str, str]) -> None:
    """The starting state every unit is measured against: three objects and one row."""
    db = room.database("main")
    deferred = "" if db.engine.dialect.name in IMMEDIATE_ONLY else " DEFERRABLE INITIALLY DEFERRED"
    for ddl in DOCS_DDL:
        db.execute(ddl.format(deferred=deferred, **names))
    db.execute(f"INSERT INTO {names['parents']} (id) VALUES (1)")
    db.execute(f"INSERT INTO {names['docs']} (id, object_key) VALUES (1, 'existing.bin')")
    st = room.storage("files")
    st.write("existing.bin", b"original contents", content_type="application/octet-stream", metadata={"v": "1"})
    st.write("doomed.bin", b"to be deleted")
    st.write("movable.bin", b"to be moved")


def snapshot(
    room: Storeroom, names: dict[str, str]
) -> tuple[dict[str, tuple[bytes, str | None, dict[str, str]]], list[dict[str, Any]]]:
    """Every object (bytes, content type, metadata) and every row: 'exactly as before' compares these."""
    st = room.storage("files")
    objects = {}
    for key in st.list_keys():
        info = st.stat(key)
        objects[key] = (st.read(key), info.content_type, dict(info.metadata))
    rows = room.database("main").fetch_all(f"SELECT id, object_key, parent FROM {names['docs']} ORDER BY id")
    return objects, rows


def five_steps(uow: Any, names: dict[str, str], after_step: Callable[[int], None] = lambda n: None) -> None:
    """put new, overwrite, delete, copy, move - with a row written after each step."""
    docs = names["docs"]
    uow.put("files", "new.bin", b"brand new", content_type="text/plain")
    uow.tx.execute(f"INSERT INTO {docs} (id, object_key) VALUES (2, 'new.bin')")
    after_step(1)
    uow.put("files", "existing.bin", b"replaced", metadata={"v": "2"})
    uow.tx.execute(f"UPDATE {docs} SET object_key = 'existing.bin v2' WHERE id = 1")
    after_step(2)
    uow.delete("files", "doomed.bin")
    uow.tx.execute(f"INSERT INTO {docs} (id, object_key) VALUES (3, 'doomed gone')")
    after_step(3)
    uow.copy("files", "existing.bin", "copy.bin")
    uow.tx.execute(f"INSERT INTO {docs} (id, object_key) VALUES (4, 'copy.bin')")
    after_step(4)
    uow.move("files", "movable.bin", "moved.bin")
    uow.tx.execute(f"INSERT INTO {docs} (id, object_key) VALUES (5, 'moved.bin')")
    after_step(5)


async def five_steps_async(uow: Any, names: dict[str, str], after_step: Callable[[int], None] = lambda n: None) -> None:
    docs = names["docs"]
    await uow.put("files", "new.bin", b"brand new", content_type="text/plain")
    await uow.tx.execute(f"INSERT INTO {docs} (id, object_key) VALUES (2, 'new.bin')")
    after_step(1)
    await uow.put("files", "existing.bin", b"replaced", metadata={"v": "2"})
    await uow.tx.execute(f"UPDATE {docs} SET object_key = 'existing.bin v2' WHERE id = 1")
    after_step(2)
    await uow.delete("files", "doomed.bin")
    await uow.tx.execute(f"INSERT INTO {docs} (id, object_key) VALUES (3, 'doomed gone')")
    after_step(3)
    await uow.copy("files", "existing.bin", "copy.bin")
    await uow.tx.execute(f"INSERT INTO {docs} (id, object_key) VALUES (4, 'copy.bin')")
    after_step(4)
    await uow.move("files", "movable.bin", "moved.bin")
    await uow.tx.execute(f"INSERT INTO {docs} (id, object_key) VALUES (5, 'moved.bin')")
    after_step(5)


#: what the storage looks like after the five steps committed
def committed_objects() -> dict[str, bytes]:
    return {
        "copy.bin": b"replaced",
        "existing.bin": b"replaced",
        "moved.bin": b"to be moved",
        "new.bin": b"brand new",
    }


class FaultyStorage:
    """A real storage whose n-th mutating call (write/copy/delete) raises :class:`InjectedFault`.

    The call is not forwarded, so the store really is left as it was. With
    ``fail_undo=True`` it also refuses every call made after the fault (the compensation),
    to test what a failed compensation reports.
    """

    MUTATING = ("write", "copy", "delete")

    def __init__(self, inner: Any, fail_on: int, *, fail_undo: bool = False, is_async: bool = False) -> None:
        self.inner = inner
        self.name = inner.name
        self.fail_on = fail_on
        self.fail_undo = fail_undo
        self.calls = 0
        self.tripped = False
        self._is_async = is_async

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self.inner, attr)
        if attr not in self.MUTATING:
            return target

        def check() -> None:
            self.calls += 1
            if self.calls == self.fail_on or (self.tripped and self.fail_undo):
                self.tripped = True
                raise InjectedFault(f"injected fault at mutating call {self.calls} ({attr})")

        if self._is_async:

            async def acall(*args: Any, **kwargs: Any) -> Any:
                check()
                return await target(*args, **kwargs)

            return acall

        def call(*args: Any, **kwargs: Any) -> Any:
            check()
            return target(*args, **kwargs)

        return call


#: mutating storage calls the five steps make in the body: write; backup copy + write; copy; copy
BODY_CALLS = 5
#: ... and after the commit: the two deferred deletes and dropping the backup
FINISH_CALLS = 3
