"""Unit-of-work semantics on the embedded default (SQLite + local files): what a caller sees.

The failure-at-every-step and crash suites, on every backend pair, are in
tests-integration/uow/.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from storeroom import Storeroom
from storeroom.errors import (
    CommitOutcomeUnknownError,
    ConnectionFailedError,
    ContentTooLargeError,
    ContentTypeNotAllowedError,
    DatabaseError,
    IntegrityError,
    InvalidKeyError,
    ObjectExistsError,
    ObjectNotFoundError,
    TransactionError,
    UnitOfWorkError,
)
from storeroom.uow import BACKUP_PREFIX, JOURNAL_TABLE, UnitOfWork
from storeroom.uow.outcome import Outcome, settle
from storeroom.uow.state import UnitState
from storeroom.uow.steps import Action, Op, State, Step, finish_actions, undo_actions


class Boom(Exception):
    pass


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Storeroom]:
    settings = {
        "databases": {"main": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/main.db", "default": True}},
        "storages": {
            "files": {"backend": "local", "root": str(tmp_path / "files"), "fsync": False, "default": True},
            "archive": {"backend": "local", "root": str(tmp_path / "archive"), "fsync": False},
        },
        "policies": {
            "avatars": {"storage": "files", "key_prefix": "avatars/", "max_size": 1000, "content_types": ["image/*"]}
        },
    }
    with Storeroom.from_settings(settings) as room:
        room.database().execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, object_key TEXT)")
        yield room


def journal_rows(room: Storeroom) -> int:
    return int(room.database().fetch_value(f"SELECT COUNT(*) FROM {JOURNAL_TABLE}"))


# -- planning (pure) -----------------------------------------------------------------------------


def _put(seq: int, key: str, *, backup: bool = False, etag: str | None = None, state: State = State.APPLIED) -> Step:
    return Step("u", seq, Op.PUT, "files", key, backup=f"b{seq}" if backup else None, etag=etag, state=state)


def test_undo_uses_the_first_write_of_each_key_newest_key_first() -> None:
    steps = [_put(1, "a", etag="e1"), _put(2, "b", backup=True, etag="e2"), _put(3, "a", backup=False, etag="e3")]
    assert undo_actions(steps) == [
        Action("restore", "files", "b", source="b2"),
        Action("remove", "files", "a", expect_etag="e3"),  # the unit's last write to 'a' is what is there
    ]


def test_undo_of_a_pending_write_removes_without_an_etag_check() -> None:
    assert undo_actions([_put(1, "a", state=State.PENDING)]) == [Action("remove", "files", "a")]


def test_undo_drops_the_backup_of_a_write_that_never_happened() -> None:
    assert undo_actions([_put(1, "a", backup=True, state=State.CANCELLED)]) == [Action("drop", "files", "b1")]


def test_undo_leaves_a_create_cut_off_before_it_was_known_to_win() -> None:
    pending = Step("u", 1, Op.CREATE, "files", "taken", state=State.PENDING)
    won = Step("u", 2, Op.CREATE, "files", "mine", etag="e2", state=State.APPLIED)
    assert undo_actions([pending, won]) == [Action("remove", "files", "mine", expect_etag="e2")]


def test_finish_runs_deferred_deletes_then_drops_backups() -> None:
    delete = Step("u", 2, Op.DELETE, "files", "old")
    cancelled = Step("u", 3, Op.DELETE, "files", "kept", state=State.CANCELLED)
    assert finish_actions([_put(1, "a", backup=True), delete, cancelled]) == [
        Action("drop", "files", "old"),
        Action("drop", "files", "b1"),
    ]


# -- a failed commit: the decision (pure) --------------------------------------------------------


def _sent(*steps: Step) -> UnitState:
    """A unit whose COMMIT went out, with these steps."""
    state = UnitState({})
    state.steps = list(steps)
    state.commit_sent = True
    return state


_LOST = ConnectionFailedError("could not reach database 'main': server closed the connection")


def test_a_failure_before_commit_was_sent_is_a_rollback() -> None:
    assert settle(UnitState({}), _LOST, None, journal_in_tx=False) is Outcome.ROLLED_BACK


def test_the_marker_check_decides() -> None:
    assert settle(_sent(), _LOST, True, journal_in_tx=False) is Outcome.COMMITTED
    assert settle(_sent(), _LOST, False, journal_in_tx=False) is Outcome.ROLLED_BACK


def test_a_refusal_from_the_server_is_a_rollback_even_unchecked() -> None:
    assert settle(_sent(), IntegrityError("deferred foreign key"), None, journal_in_tx=False) is Outcome.ROLLED_BACK
    serialization = TransactionError("could not serialize", retryable=True)
    assert settle(_sent(), serialization, _LOST, journal_in_tx=False) is Outcome.ROLLED_BACK


def test_an_unanswered_check_is_unknown_and_recover_settles_it() -> None:
    state = _sent(_put(1, "a", backup=True), Step("u", 2, Op.DELETE, "files", "old"))
    with pytest.raises(CommitOutcomeUnknownError) as caught:
        settle(state, _LOST, ConnectionFailedError("could not reach database 'main'"), journal_in_tx=False)
    error = caught.value
    assert error.__cause__ is _LOST
    assert error.recoverable and error.unit_id == state.unit_id
    assert "recover()" in str(error) and "ConnectionFailedError" in str(error)
    assert error.if_committed == ("delete files:old", "delete files:b1")
    assert error.if_rolled_back == ("restore files:a from its backup b1",)


def test_without_a_marker_it_is_unknown_and_says_what_to_do_by_hand() -> None:
    with pytest.raises(CommitOutcomeUnknownError) as caught:
        settle(_sent(_put(1, "a")), _LOST, None, journal_in_tx=False)
    error = caught.value
    assert not error.recoverable
    assert "no journal" in str(error) and "remove files:a written by the unit" in str(error)
    # a journal inside the transaction is gone with it, if it rolled back: recover() cannot settle it either
    with pytest.raises(CommitOutcomeUnknownError) as caught:
        settle(_sent(_put(1, "a")), _LOST, _LOST, journal_in_tx=True)
    assert not caught.value.recoverable


def test_an_unknown_outcome_lets_a_cancellation_through_with_a_note() -> None:
    cancelled = asyncio.CancelledError()
    with pytest.raises(asyncio.CancelledError) as caught:
        settle(_sent(_put(1, "a")), cancelled, _LOST, journal_in_tx=False)
    assert caught.value is cancelled
    assert any("recover()" in note for note in getattr(cancelled, "__notes__", []))


# -- a failed commit: the check, and recover() ----------------------------------------------------


def test_the_check_finds_a_committed_marker_and_fences_an_absent_one(room: Storeroom) -> None:
    from storeroom.uow.journal import Journal

    db = room.database()
    journal = Journal(db)
    journal.ensure_table()
    with db.transaction() as tx:
        Journal.mark_committed(tx, "committed")
    assert journal.check_commit("committed") is True
    assert journal.check_commit("never") is False
    # the check took the marker's place: the unit it asked about can never commit now
    with pytest.raises(IntegrityError), db.transaction() as tx:
        Journal.mark_committed(tx, "never")
    assert not journal.has_commit("never")


def test_the_check_reports_an_unreachable_database(tmp_path: Path) -> None:
    from storeroom.uow.journal import Journal

    (tmp_path / "gone.db").write_bytes(b"not a database file " * 100)
    settings = {"databases": {"gone": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/gone.db"}}}
    with Storeroom.from_settings(settings) as room:
        assert isinstance(Journal(room.database()).check_commit("u"), DatabaseError)


def test_recover_undoes_a_unit_whose_check_found_no_marker(room: Storeroom) -> None:
    from storeroom.uow.journal import Journal

    st = room.storage("files")
    journal = Journal(room.database())
    journal.ensure_table()
    etag = st.write("debris.txt", b"x").etag  # a unit wrote it, and its COMMIT failed
    journal.record(Step("dead", 1, Op.PUT, "files", "debris.txt", etag=etag, state=State.APPLIED))
    assert journal.check_commit("dead") is False  # leaves its abort row
    reports = room.recover(older_than=0)
    assert [u for r in reports for u in r.undone] == ["dead"] and all(r.ok for r in reports)
    assert not st.exists("debris.txt")
    assert journal_rows(room) == 0


def test_a_unit_only_fenced_here_is_not_recovered_here(room: Storeroom) -> None:
    """A unit journaled elsewhere leaves its marker - or the check's abort row - in its own database."""
    from storeroom.uow.journal import Journal

    journal = Journal(room.database())
    journal.ensure_table()
    assert journal.check_commit("elsewhere") is False
    assert all(not r.undone and not r.failed for r in room.recover(older_than=0))
    assert journal_rows(room) == 1


@pytest.mark.parametrize("journal", [True, False])
def test_a_commit_refused_by_the_server_is_undone(room: Storeroom, journal: bool) -> None:
    """A deferred constraint fails only at COMMIT, with or without a marker to check."""
    db = room.database()
    db.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TABLE kids (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED)"
    )
    st = room.storage("files")
    st.write("kept.txt", b"original")
    with pytest.raises(IntegrityError), room.unit_of_work("main", journal=journal) as uow:  # noqa: PT012
        uow.put("files", "kept.txt", b"replaced")
        uow.put("files", "new.txt", b"new")
        uow.tx.execute("INSERT INTO kids (id, parent) VALUES (1, 99)")
    assert st.list_keys() == ["kept.txt"] and st.read("kept.txt") == b"original"
    assert db.fetch_value("SELECT COUNT(*) FROM kids") == 0
    if journal:
        assert journal_rows(room) == 0


# -- behaviour -----------------------------------------------------------------------------------


def test_reads_inside_the_unit_see_its_own_deletes_and_writes(room: Storeroom) -> None:
    files = room.storage("files")
    files.write("old.txt", b"old")
    with room.unit_of_work("main") as uow:
        uow.put("files", "new.txt", b"new")
        assert uow.delete("files", "old.txt") is True
        assert uow.delete("files", "old.txt") is False  # already deleted in this unit
        assert uow.read("files", "new.txt") == b"new"
        assert not uow.exists("files", "old.txt")
        with pytest.raises(ObjectNotFoundError):
            uow.read("files", "old.txt")
        with pytest.raises(ObjectNotFoundError):
            uow.stat("files", "old.txt")
        assert uow.list_keys("files") == ["new.txt"]
        assert files.exists("old.txt")  # outside the unit the delete has not happened yet
    assert files.list_keys() == ["new.txt"]


def test_delete_then_put_keeps_the_new_object(room: Storeroom) -> None:
    files = room.storage("files")
    files.write("k", b"v1")
    with room.unit_of_work("main") as uow:
        uow.delete("files", "k")
        uow.put("files", "k", b"v2")
        assert uow.read("files", "k") == b"v2"
    assert files.read("k") == b"v2"
    assert files.list_keys() == ["k"]  # no backup left behind


def test_overwrite_undone_restores_bytes_type_and_metadata(room: Storeroom) -> None:
    files = room.storage("files")
    files.write("k", b"v1", content_type="text/plain", metadata={"owner": "ann"})
    with pytest.raises(Boom), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit\'s block is under test
        uow.put("files", "k", b"v2", content_type="image/png")
        uow.put("files", "k", b"v3")
        raise Boom
    info = files.stat("k")
    assert (files.read("k"), info.content_type, dict(info.metadata)) == (b"v1", "text/plain", {"owner": "ann"})
    assert files.list_keys() == ["k"]


def test_lost_create_race_never_removes_the_winner(room: Storeroom) -> None:
    files = room.storage("files")
    files.write("taken", b"theirs")
    with pytest.raises(Boom), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit\'s block is under test
        with pytest.raises(ObjectExistsError):
            uow.create("files", "taken", b"mine")
        uow.put("files", "other", b"x")
        raise Boom
    assert files.read("taken") == b"theirs"
    assert files.list_keys() == ["taken"]


def test_a_refused_write_stores_nothing_and_is_not_undone(room: Storeroom) -> None:
    files = room.storage("files")
    files.write("big", b"small original")
    with room.unit_of_work("main") as uow, pytest.raises(ContentTooLargeError):
        uow.put("files", "big", iter([b"x" * 100] * 10), max_size=500)
    assert files.read("big") == b"small original"
    assert files.list_keys() == ["big"]


def test_journal_rows_are_cleared_after_success_and_failure(room: Storeroom) -> None:
    with room.unit_of_work("main") as uow:
        uow.put("files", "a", b"a")
    with pytest.raises(Boom), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit\'s block is under test
        uow.put("files", "b", b"b")
        raise Boom
    assert journal_rows(room) == 0


def test_database_rows_and_objects_commit_together(room: Storeroom) -> None:
    db = room.database()
    with room.unit_of_work("main") as uow:
        uow.put("files", "doc.pdf", b"%PDF")
        uow.tx.execute("INSERT INTO docs (object_key) VALUES (:k)", {"k": "doc.pdf"})
        db.execute("INSERT INTO docs (object_key) VALUES ('joined')")  # joins the unit's transaction
    assert [r["object_key"] for r in db.fetch_all("SELECT object_key FROM docs ORDER BY id")] == ["doc.pdf", "joined"]
    with pytest.raises(Boom), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit\'s block is under test
        uow.put("files", "doc2.pdf", b"%PDF")
        uow.tx.execute("INSERT INTO docs (object_key) VALUES ('doc2.pdf')")
        raise Boom
    assert db.fetch_value("SELECT COUNT(*) FROM docs") == 2
    assert not room.storage("files").exists("doc2.pdf")


def test_without_a_database(room: Storeroom) -> None:
    files = room.storage("files")
    with pytest.raises(Boom), room.unit_of_work() as uow:  # noqa: PT012 - the unit\'s block is under test
        uow.put("files", "a", b"a")
        with pytest.raises(UnitOfWorkError, match="no database"):
            _ = uow.tx
        raise Boom
    assert files.list_keys() == []


def test_copy_and_move_across_storages(room: Storeroom) -> None:
    files, archive = room.storage("files"), room.storage("archive")
    files.write("a", b"A", content_type="text/plain", metadata={"m": "1"})
    files.write("b", b"B")
    with room.unit_of_work("main") as uow:
        uow.copy("files", "a", "a-copy", to_storage="archive")
        uow.move("files", "b", "b-moved", to_storage="archive")
    assert archive.read("a-copy") == b"A" and archive.stat("a-copy").metadata == {"m": "1"}
    assert archive.read("b-moved") == b"B" and not files.exists("b")
    with pytest.raises(Boom), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit\'s block is under test
        uow.move("archive", "a-copy", "back", to_storage="files")
        raise Boom
    assert archive.list_keys() == ["a-copy", "b-moved"] and files.list_keys() == ["a"]


def test_bad_input_is_refused_before_anything_happens(room: Storeroom) -> None:
    with room.unit_of_work("main") as uow:
        with pytest.raises(InvalidKeyError):
            uow.put("files", "../escape", b"x")
        with pytest.raises(UnitOfWorkError, match="reserved"):
            uow.put("files", BACKUP_PREFIX + "x", b"x")
        with pytest.raises(UnitOfWorkError, match="storage name or a storage object"):
            uow.put(42, "k", b"x")  # type: ignore[arg-type]
    assert room.storage("files").list_keys() == []
    assert journal_rows(room) == 0


def test_lifecycle_errors(room: Storeroom) -> None:
    uow = room.unit_of_work("main")
    with pytest.raises(UnitOfWorkError, match="not entered"):
        uow.put("files", "k", b"x")
    with uow:
        pass
    with pytest.raises(UnitOfWorkError, match="already finished"):
        uow.put("files", "k", b"x")
    with pytest.raises(UnitOfWorkError, match="entered once"), uow:
        pass


def test_a_unit_inside_an_open_transaction_is_refused(room: Storeroom) -> None:
    with room.database().transaction(), pytest.raises(UnitOfWorkError, match="already open"):
        room.unit_of_work("main").__enter__()


def test_unknown_storage_in_a_mapping(room: Storeroom) -> None:
    with UnitOfWork({"files": room.storage("files")}) as uow, pytest.raises(UnitOfWorkError, match="unknown storage"):
        uow.put("nope", "k", b"x")


def test_recover_rejects_a_negative_age(room: Storeroom) -> None:
    with pytest.raises(UnitOfWorkError, match="older_than"):
        room.recover(older_than=-1)


@pytest.mark.asyncio
async def test_async_cancellation_is_undone(room: Storeroom) -> None:
    files = room.storage("files")
    files.write("k", b"v1")
    started = asyncio.Event()

    async def unit() -> None:
        async with room.async_unit_of_work("main") as uow:
            await uow.put("files", "k", b"v2")
            await uow.put("files", "new", b"n")
            await uow.tx.execute("INSERT INTO docs (object_key) VALUES ('new')")
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(unit())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert files.read("k") == b"v1" and files.list_keys() == ["k"]
    assert room.database().fetch_value("SELECT COUNT(*) FROM docs") == 0
    await room.aclose()


@pytest.mark.asyncio
async def test_async_reads_see_pending_deletes(room: Storeroom) -> None:
    room.storage("files").write("old", b"o")
    async with room.async_unit_of_work("main") as uow:
        assert await uow.delete("files", "old")
        assert not await uow.exists("files", "old")
        assert await uow.list_keys("files") == []
        with pytest.raises(ObjectNotFoundError):
            await uow.read("files", "old")
    assert room.storage("files").list_keys() == []
    await room.aclose()


def test_policy_uploads_are_steps_of_the_unit(room: Storeroom) -> None:
    files, db = room.storage("files"), room.database()
    with room.unit_of_work("main") as uow:
        ref = uow.upload("avatars", iter([b"\x89PNG", b"rest"]), filename="me.png")
        uow.tx.execute("INSERT INTO docs (object_key) VALUES (:k)", {"k": ref.key})
    assert ref.key.startswith("avatars/") and ref.key.endswith(".png") and ref.storage == "files"
    assert ref.content_type == "image/png" and ref.size == 8
    assert ref.checksum == "sha256:" + hashlib.sha256(b"\x89PNGrest").hexdigest()
    assert files.read(ref.key) == b"\x89PNGrest"
    with pytest.raises(Boom), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit's block is under test
        lost = uow.upload(room.policy("avatars"), b"GIF89a", filename="x.gif")
        raise Boom
    assert not files.exists(lost.key)
    assert db.fetch_value("SELECT COUNT(*) FROM docs") == 1


def test_policy_refusals_inside_a_unit_store_nothing(room: Storeroom) -> None:
    with room.unit_of_work("main") as uow:
        with pytest.raises(ContentTypeNotAllowedError):
            uow.upload("avatars", b"%PDF", filename="doc.pdf")
        with pytest.raises(ContentTooLargeError):
            uow.upload("avatars", iter([b"x" * 600, b"x" * 600]), filename="big.png")
    assert room.storage("files").list_keys() == []


@pytest.mark.asyncio
async def test_async_policy_upload(room: Storeroom) -> None:
    async with room.async_unit_of_work("main") as uow:
        ref = await uow.upload("avatars", b"\x89PNG", content_type="image/png")
        assert await uow.read("files", ref.key) == b"\x89PNG"
    assert room.storage("files").read(ref.key) == b"\x89PNG"
    await room.aclose()


# -- review: sequences the unit must get right ---------------------------------------------------


def test_move_onto_itself_keeps_the_object(room: Storeroom) -> None:
    st = room.storage("files")
    st.write("same.txt", b"keep me")
    with room.unit_of_work("main") as uow:
        uow.move("files", "same.txt", "same.txt")
        assert uow.read("files", "same.txt") == b"keep me"
    assert st.read("same.txt") == b"keep me"  # like storage.move(k, k): a no-op, never a delete


def test_create_after_a_delete_in_the_unit(room: Storeroom) -> None:
    st = room.storage("files")
    st.write("k.txt", b"old")
    with room.unit_of_work("main") as uow:
        assert uow.delete("files", "k.txt")
        assert not uow.exists("files", "k.txt")
        uow.create("files", "k.txt", b"new")  # the unit sees no object there
    assert st.read("k.txt") == b"new"
    assert [k for k in st.list_keys() if k.startswith(BACKUP_PREFIX)] == []
    with pytest.raises(Boom), room.unit_of_work("main") as uow:  # noqa: PT012 - the unit's block is under test
        uow.copy("files", "k.txt", "k2.txt")
        uow.delete("files", "k.txt")
        uow.create("files", "k.txt", b"newer")
        raise Boom
    assert st.read("k.txt") == b"new"
    assert sorted(st.list_keys()) == ["k.txt"]


def test_a_storage_object_outside_the_mapping_is_undone(room: Storeroom) -> None:
    st = room.storage("files")
    with pytest.raises(Boom), UnitOfWork({}) as uow:  # noqa: PT012 - the unit's block is under test
        uow.put(st, "loose.txt", b"x")
        raise Boom
    assert not st.exists("loose.txt")


def test_recover_a_crash_between_the_journal_row_and_the_backup_copy(room: Storeroom) -> None:
    """The row announcing an overwrite is written, the process dies before the backup copy:
    nothing was touched, and recovery must say so (not fail on the missing backup forever)."""
    from storeroom.uow.journal import Journal
    from storeroom.uow.steps import backup_key

    st = room.storage("files")
    st.write("k.txt", b"original")
    journal = Journal(room.database())
    journal.ensure_table()
    journal.record(Step("dead", 1, Op.PUT, "files", "k.txt", backup=backup_key("dead", 1)))
    for _ in range(2):  # and a second run finds nothing left
        reports = room.recover(older_than=0)
        assert all(r.ok for r in reports), reports
    assert [u for r in reports for u in r.undone] == []
    assert st.read("k.txt") == b"original"
    assert journal_rows(room) == 0


def test_recover_reports_a_unit_whose_own_database_is_unreachable(tmp_path: Path) -> None:
    from storeroom.uow.journal import Journal

    settings = {
        "databases": {
            "journal": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/journal.db", "default": True},
            "offline": {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/offline.db"},
        },
        "storages": {"files": {"backend": "local", "root": str(tmp_path / "files"), "fsync": False}},
    }
    (tmp_path / "offline.db").write_bytes(b"not a database file " * 100)  # cannot be read at all
    with Storeroom.from_settings(settings) as room:
        journal = Journal(room.database("journal"))
        journal.ensure_table()
        journal.begin("dead", "offline")  # a unit of 'offline', journaled here, died after its write
        journal.record(Step("dead", 1, Op.PUT, "files", "k.txt"))
        room.storage("files").write("k.txt", b"debris")
        reports = room.recover(older_than=0)  # does not raise: the unit is reported, retried next time
        by_name = {r.database: r for r in reports}
        assert list(by_name["journal"].failed) == ["dead"]
        assert by_name["offline"].error is not None
        assert room.storage("files").exists("k.txt")  # undecided: left as it is
