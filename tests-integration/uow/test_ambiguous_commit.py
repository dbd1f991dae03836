"""A failed COMMIT is settled by asking the server, never by guessing.

A loopback proxy between the unit and the server (PostgreSQL, MariaDB) recognises the
driver's COMMIT message and:

- forwards it and drops the reply: the rows committed, so the unit finishes (objects kept,
  deferred deletes done, journal cleared) instead of deleting what the rows point at;
- never forwards it: the server rolls back, so the unit is undone;
- forwards it late, after the client gave up: the check waits for the server, and the unit
  finishes;
- takes the network down with it: the outcome is unknown, so nothing is touched and
  ``CommitOutcomeUnknownError`` says so; ``recover()`` settles it, either way, once the
  server is back.

Each case runs the five steps of ``_uow_harness`` sync and async, with objects in local
files (and on moto's S3 for the unreachable case), and checks the storage and the rows
through a second room that bypasses the proxy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from _proxy import MYSQL_COMMIT, POSTGRES_COMMIT, CuttingProxy
from _uow_harness import committed_objects, five_steps, five_steps_async, prepare, room_settings, snapshot, tables
from storeroom import Storeroom
from storeroom.errors import CommitOutcomeUnknownError, DatabaseError
from storeroom.uow import BACKUP_PREFIX, JOURNAL_TABLE

#: backend -> (the driver's COMMIT on the wire, the server's default port)
WIRE = {"postgres": (POSTGRES_COMMIT, 5432), "mysql": (MYSQL_COMMIT, 3306)}


@dataclass
class Proxied:
    room: Storeroom  # through the proxy: the unit under test
    direct: Storeroom  # straight to the server: what really is there
    proxy: CuttingProxy
    names: dict[str, str]

    def journal_rows(self) -> int:
        return int(self.direct.database("main").fetch_value(f"SELECT COUNT(*) FROM {JOURNAL_TABLE}"))

    def objects(self) -> dict[str, bytes]:
        return {key: value[0] for key, value in snapshot(self.direct, self.names)[0].items()}

    def row_count(self) -> int:
        return len(snapshot(self.direct, self.names)[1])

    def backups(self) -> list[str]:
        return self.direct.storage("files").list_keys(BACKUP_PREFIX)


@pytest.fixture
def through(
    server_settings: dict[str, Any], object_storage: dict[str, Any], tmp_path: Path
) -> Iterator[Callable[..., Proxied]]:
    """``through(**proxy_options)``: the starting state of ``_uow_harness``, and a room reaching it via a proxy."""
    files = object_storage
    url = make_url(server_settings["url"])
    commit, port = WIRE[server_settings["backend"]]
    with contextlib.ExitStack() as stack:
        direct = stack.enter_context(Storeroom.from_settings(room_settings(files, server_settings, tmp_path)))
        names = tables()
        prepare(direct, names)

        def make(**options: Any) -> Proxied:
            proxy = stack.enter_context(CuttingProxy((url.host or "127.0.0.1", url.port or port), None, **options))
            via = url.set(host="127.0.0.1", port=proxy.port)
            if server_settings["backend"] == "postgres":  # the proxy must read the messages: no TLS
                via = via.update_query_dict({"sslmode": "disable"})
            database = {**server_settings, "url": via.render_as_string(hide_password=False)}
            room = stack.enter_context(Storeroom.from_settings(room_settings(files, database, tmp_path)))
            return Proxied(room, direct, proxy, names)

        yield lambda **options: make(cut_on=commit, armed=False, **options)


async def run_unit(p: Proxied, asynchronous: bool, journal: bool = True) -> None:
    """The five steps in one unit through the proxy, armed after the last one: the journal's own
    writes commit too, and the unit's COMMIT is the next one (sync units block the loop: fine here)."""

    def arm(step: int) -> None:
        if step == 5:
            p.proxy.arm()

    if asynchronous:
        async with p.room.async_unit_of_work("main", journal=journal) as auow:
            await five_steps_async(auow, p.names, arm)
        return
    with p.room.unit_of_work("main", journal=journal) as uow:
        five_steps(uow, p.names, arm)


def assert_committed(p: Proxied) -> None:
    assert p.objects() == committed_objects()
    assert p.row_count() == 5
    assert p.backups() == []
    assert p.journal_rows() == 0


def assert_untouched_since_commit(p: Proxied) -> None:
    """Objects as the unit left them at COMMIT: its writes there, its deletes not done, its backup kept."""
    objects = p.objects()
    assert {k: objects.get(k) for k in committed_objects()} == committed_objects()
    assert objects["doomed.bin"] == b"to be deleted" and objects["movable.bin"] == b"to be moved"
    assert len(p.backups()) == 1


SYNC_ASYNC = pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])


@pytest.mark.asyncio
@SYNC_ASYNC
async def test_a_lost_reply_is_finished_as_a_commit(through: Callable[..., Proxied], asynchronous: bool) -> None:
    p = through(deliver="reply-lost")
    await run_unit(p, asynchronous)  # it committed: no error
    assert p.proxy.cuts == 1
    assert_committed(p)


@pytest.mark.asyncio
@SYNC_ASYNC
async def test_a_commit_that_never_arrived_is_undone(through: Callable[..., Proxied], asynchronous: bool) -> None:
    p = through(deliver="never")
    before = snapshot(p.direct, p.names)
    with pytest.raises(DatabaseError):
        await run_unit(p, asynchronous)
    assert p.proxy.cuts == 1
    assert snapshot(p.direct, p.names) == before
    assert p.journal_rows() == 0


@pytest.mark.asyncio
@SYNC_ASYNC
async def test_a_commit_still_in_flight_is_waited_for(through: Callable[..., Proxied], asynchronous: bool) -> None:
    """The client gives up before the server even has the COMMIT: a look for the marker would
    find none yet; the check must wait for the transaction to end, and then find it."""
    p = through(deliver="late", delay=1.0)
    await run_unit(p, asynchronous)
    assert p.proxy.cuts == 1
    assert_committed(p)


@pytest.mark.asyncio
@SYNC_ASYNC
@pytest.mark.parametrize("committed", [True, False], ids=["committed", "rolled-back"])
@pytest.mark.parametrize("object_storage", ["local", "s3"], indirect=True)
async def test_an_unreachable_database_leaves_it_to_recover(
    through: Callable[..., Proxied], asynchronous: bool, committed: bool
) -> None:
    p = through(deliver="reply-lost" if committed else "never", offline_after_cut=True)
    before = snapshot(p.direct, p.names)
    with pytest.raises(CommitOutcomeUnknownError) as caught:
        await run_unit(p, asynchronous)
    error = caught.value
    assert error.recoverable and "recover()" in str(error)
    assert isinstance(error.__cause__, DatabaseError)  # the COMMIT's own failure, chained
    assert_untouched_since_commit(p)
    assert p.journal_rows() > 0
    assert p.row_count() == (5 if committed else 1)

    p.proxy.online()
    reports = {r.database: r for r in p.room.recover(older_than=0)}
    assert (reports["main"].finished if committed else reports["main"].undone) == [error.unit_id]
    assert all(r.ok for r in reports.values()), reports
    if committed:
        assert_committed(p)
    else:
        assert snapshot(p.direct, p.names) == before
        assert p.journal_rows() == 0


@pytest.mark.asyncio
@SYNC_ASYNC
@pytest.mark.parametrize("deliver", ["reply-lost", "never"])
async def test_without_a_journal_objects_are_kept(
    through: Callable[..., Proxied], asynchronous: bool, deliver: str
) -> None:
    """No marker, no way to tell: keeping every object is safe either way, deleting one is not."""
    p = through(deliver=deliver)
    with pytest.raises(CommitOutcomeUnknownError) as caught:
        await run_unit(p, asynchronous, journal=False)
    error = caught.value
    assert not error.recoverable
    assert_untouched_since_commit(p)
    assert p.row_count() == (5 if deliver == "reply-lost" else 1)
    # what settling it by hand takes, either way
    assert any("doomed.bin" in line for line in error.if_committed)
    assert any("new.bin" in line for line in error.if_rolled_back)
    assert "doomed.bin" in str(error) and "new.bin" in str(error)
