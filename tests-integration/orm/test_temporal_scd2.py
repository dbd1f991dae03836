"""scd2 models: versions, the database's guarantees, time travel - on SQLite, PostgreSQL and MariaDB, sync and async."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from _orm_harness import OrmEnv, temporal_doc
from storeroom.errors import IntegrityError, QueryError
from storeroom.refs import StoredObjectRef
from storeroom_orm import F, Field, FieldChange, FieldDiff, Model, StoredFile, actor, tenant

UTC = dt.UTC
MICROSECOND = dt.timedelta(microseconds=1)


@pytest.fixture
def Doc(orm: OrmEnv, define: Any) -> Any:
    return temporal_doc(define, "doc", "scd2", soft_delete=True, create=orm)


def assert_chain(versions: list[Any]) -> None:
    """Contiguous, half-open, strictly increasing; only the last may be open."""
    assert [v.version for v in versions] == list(range(versions[0].version, versions[0].version + len(versions)))
    for v in versions:
        assert v.valid_to is None or v.valid_to > v.valid_from
    for prev, nxt in pairwise(versions):
        assert prev.valid_to is not None and nxt.valid_from > prev.valid_from
        if getattr(prev, "deleted_at", None) is None:
            assert prev.valid_to == nxt.valid_from
        else:  # deleted, then restored: a gap
            assert prev.valid_to <= nxt.valid_from


def rows(orm: OrmEnv, table: str) -> int:
    return int(orm.raw(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def db_id(orm: OrmEnv, value: uuid.UUID) -> Any:
    """An id as the column holds it (native uuid on PostgreSQL, hex text elsewhere)."""
    return value if orm.backend == "postgres" else value.hex


# -- versions ---------------------------------------------------------------------------------


def test_an_update_closes_the_version_and_opens_the_next(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    with actor("alice"):
        made = repo.create(Doc(title="a", price=Decimal("1.00")))
    assert (made.version, made.valid_from, made.valid_to) == (1, made.created_at, None)
    with actor("bob"):
        second = repo.update(made.id, price=Decimal("2.00"))
    assert second.version == 2 and second.valid_from > made.valid_from and second.updated_by == "bob"
    with actor("carol"):
        repo.update(made.id, note="n")
    versions = repo.history(made.id)
    assert [(v.version, v.price, v.note) for v in versions] == [
        (1, Decimal("1.00"), None),
        (2, Decimal("2.00"), None),
        (3, Decimal("2.00"), "n"),
    ]
    assert [v.updated_by for v in versions] == ["alice", "bob", "carol"]
    assert {v.created_by for v in versions} == {"alice"} and {v.id for v in versions} == {made.id}
    assert_chain(versions)
    assert versions[-1].valid_to is None and versions[1].valid_from == second.valid_from
    # get() and list() see the current version only; the model's table holds one row per entity
    assert repo.get(made.id) == versions[-1]
    assert [d.version for d in repo.list()] == [3] and repo.count() == 1
    assert rows(orm, Doc.__table__.name) == 1 and rows(orm, Doc.__orm__.history_table.name) == 2


def test_a_no_op_update_creates_no_version(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a", price=Decimal("1.5")))
    again = repo.update(made.id, title="a", price=Decimal("1.50"))
    assert again.version == 1 and again.updated_at == made.updated_at
    assert len(repo.history(made.id)) == 1 and repo.update_where(F.title == "a", price=Decimal("1.5")) == 0
    assert len(repo.history(made.id)) == 1


def test_timestamps_strictly_increase_when_the_clock_stands_still_or_goes_back(
    orm: OrmEnv, Doc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = dt.datetime(2030, 1, 1, tzinfo=UTC)
    clock = {"now": frozen}
    for module in ("storeroom_orm.statements", "storeroom_orm.temporal.base"):
        monkeypatch.setattr(f"{module}.utc_now", lambda: clock["now"])
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a"))
    for i in range(3):
        repo.update(made.id, note=f"n{i}")
    clock["now"] = frozen - dt.timedelta(hours=1)  # another host, behind
    repo.delete(made.id)
    repo.restore(made.id)
    repo.update(made.id, note="last")
    versions = repo.history(made.id)
    assert [v.valid_from for v in versions] == [frozen + n * MICROSECOND for n in (0, 1, 2, 3, 5, 6)]
    assert versions[3].valid_to == versions[3].deleted_at == frozen + 4 * MICROSECOND
    assert_chain(versions)


# -- the database's guarantees ------------------------------------------------------------------


def test_the_database_allows_one_current_row_per_entity_and_closed_versions_only_in_history(
    orm: OrmEnv, Doc: Any
) -> None:
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a"))
    repo.update(made.id, note="n")
    table, history = Doc.__table__.name, Doc.__orm__.history_table.name
    columns = ", ".join(Doc.__orm__.columns)
    with pytest.raises(IntegrityError):  # a second current row of the entity
        orm.sync_database.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}")
    with pytest.raises(IntegrityError):  # an open version in the history table
        orm.sync_database.execute(f"INSERT INTO {history} ({columns}) SELECT {columns} FROM {table}")
    with pytest.raises(IntegrityError):  # an empty interval
        orm.sync_database.execute(
            f"UPDATE {history} SET valid_to = valid_from WHERE id = :id", {"id": db_id(orm, made.id)}
        )
    assert rows(orm, history) == 1 and rows(orm, table) == 1


def test_business_keys_are_unique_among_current_rows_and_free_again_after_delete(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    first = repo.create(Doc(title="key"))
    with pytest.raises(IntegrityError):
        repo.create(Doc(title="key"))
    table = Doc.__table__.name
    others = ", ".join(c for c in Doc.__orm__.columns if c != "id")
    with pytest.raises(IntegrityError):  # raw SQL too: the database enforces it
        orm.sync_database.execute(
            f"INSERT INTO {table} (id, {others}) SELECT :id, {others} FROM {table}", {"id": db_id(orm, uuid.uuid4())}
        )
    assert repo.delete(first.id)
    second = repo.create(Doc(title="key"))  # the key is free: its holder is closed
    assert repo.get(second.id).title == "key" and orm.repo(Doc, tenant="globex").create(Doc(title="key"))
    with pytest.raises(IntegrityError):  # restoring the first would make two current holders
        repo.restore(first.id)
    assert repo.get(first.id) is None and len(repo.history(first.id)) == 1  # nothing changed
    assert repo.update(second.id, title="other").version == 2
    assert repo.restore(first.id) and repo.get(first.id).version == 2


def test_foreign_keys_reference_the_entity_and_resolve_after_updates(orm: OrmEnv, define: Any) -> None:
    Doc = temporal_doc(define, "doc", "scd2")  # no soft delete: delete removes the current row

    class Line(Model, **define("line")):
        doc_id: uuid.UUID = Field(foreign_key=f"{Doc.__table__.name}.id")
        qty: int = 0

    orm.create_all()
    docs, lines = orm.repo(Doc, tenant="acme"), orm.repo(Line, tenant="acme")
    made = docs.create(Doc(title="a"))
    first = lines.create(Line(doc_id=made.id, qty=1))
    docs.update(made.id, price=Decimal("2"))
    docs.update(made.id, title="b")
    second = lines.create(Line(doc_id=made.id, qty=2))  # after the updates: the same stable id
    joined = orm.raw(
        f"SELECT d.version AS version, d.title AS title FROM {Line.__table__.name} l "
        f"JOIN {Doc.__table__.name} d ON d.tenant_id = l.tenant_id AND d.id = l.doc_id ORDER BY l.qty"
    )
    assert [(int(r["version"]), r["title"]) for r in joined] == [(3, "b"), (3, "b")]
    assert {lines.get(first.id).doc_id, lines.get(second.id).doc_id} == {made.id}
    with pytest.raises(IntegrityError):  # still referenced: the delete is refused, all of it
        docs.delete(made.id)
    assert docs.get(made.id).version == 3 and len(docs.history(made.id)) == 3
    assert lines.delete_where(F.doc_id == made.id) == 2 and docs.delete(made.id)
    assert docs.get(made.id) is None and [v.version for v in docs.history(made.id)] == [1, 2, 3]


# -- deletes and restores -------------------------------------------------------------------------


def test_soft_delete_closes_the_version_and_restore_opens_the_next(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    with actor("alice"):
        made = repo.create(Doc(title="a"))
    with actor("bob"):
        repo.update(made.id, note="n")
    with actor("carol"):
        assert repo.delete(made.id)
    assert repo.get(made.id) is None and repo.list() == [] and not repo.delete(made.id)
    deleted = repo.get(made.id, include_deleted=True)
    assert deleted.deleted_by == "carol" and deleted.valid_to == deleted.deleted_at
    assert deleted.version == 2 and deleted.updated_by == "bob"  # who made the version stays
    assert repo.update(made.id, note="x") is None  # a deleted entity takes no update
    with actor("dave"):
        assert repo.restore(made.id)
    restored = repo.get(made.id)
    assert (restored.version, restored.note, restored.deleted_at, restored.updated_by) == (3, "n", None, "dave")
    versions = repo.history(made.id)
    assert [(v.version, v.deleted_by) for v in versions] == [(1, None), (2, "carol"), (3, None)]
    assert_chain(versions)
    assert repo.get(made.id, as_of=deleted.deleted_at) is None  # between the delete and the restore
    assert repo.get(made.id, as_of=deleted.deleted_at - MICROSECOND).version == 2
    assert [(c.operation, c.old, c.new, c.changed_by) for c in repo.field_history(made.id, "note")] == [
        ("create", None, None, "alice"),
        ("update", None, "n", "bob"),
        ("delete", "n", None, "carol"),
        ("restore", None, "n", "dave"),
    ]


def test_delete_without_soft_delete_keeps_the_versions_until_purge(orm: OrmEnv, define: Any) -> None:
    Doc = temporal_doc(define, "doc", "scd2")
    orm.create_all()
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a"))
    updated = repo.update(made.id, note="n")
    assert repo.delete(made.id) and repo.get(made.id) is None
    assert rows(orm, Doc.__table__.name) == 0
    versions = repo.history(made.id)
    assert [v.version for v in versions] == [1, 2] and versions[-1].valid_to is not None
    assert_chain(versions)
    assert repo.get(made.id, as_of=updated.valid_from).note == "n"
    assert repo.get(made.id, as_of=versions[-1].valid_to) is None
    assert repo.field_history(made.id, "note")[-1].operation == "delete"
    with pytest.raises(QueryError, match="no soft delete"):
        repo.restore(made.id)
    assert repo.create(Doc(title="a")).version == 1  # the key is free
    assert repo.purge(made.id) and repo.history(made.id) == [] and not repo.purge(made.id)


def test_purge_removes_every_version(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a"))
    kept = repo.create(Doc(title="b"))
    repo.update(made.id, note="1")
    repo.update(kept.id, note="1")
    repo.delete(made.id)
    assert orm.repo(Doc, tenant="globex").purge(made.id) is False  # another tenant's: nothing
    assert repo.purge(made.id) and repo.history(made.id) == []
    assert [v.version for v in repo.history(kept.id)] == [1, 2]


# -- reading the past -----------------------------------------------------------------------------


def test_as_of_finds_the_version_valid_at_each_instant(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a", price=Decimal("1")))
    for price in ("2", "3"):
        repo.update(made.id, price=Decimal(price))
    versions = repo.history(made.id)
    assert repo.get(made.id, as_of=made.valid_from - MICROSECOND) is None  # before creation
    for v in versions:
        assert repo.get(made.id, as_of=v.valid_from) == v  # exactly at valid_from: that version
        if v.valid_to is not None:
            assert repo.get(made.id, as_of=v.valid_to - MICROSECOND) == v
    far = dt.datetime.now(UTC) + dt.timedelta(days=1)
    assert repo.get(made.id, as_of=far).price == Decimal("3.00")
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert repo.get(made.id, as_of=versions[1].valid_from.astimezone(plus_two)).version == 2
    assert repo.delete(made.id)
    assert repo.get(made.id, as_of=far) is None  # after the delete
    with pytest.raises(QueryError, match="naive"):
        repo.get(made.id, as_of=dt.datetime(2030, 1, 1))


def test_get_version_and_compare_versions(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a", price=Decimal("1")))
    repo.update(made.id, price=Decimal("2"), note="n")
    repo.update(made.id, title="b")
    assert repo.get_version(made.id, 1).price == Decimal("1.00") and repo.get_version(made.id, 3).title == "b"
    assert repo.get_version(made.id, 4) is None and repo.get_version(uuid.uuid4(), 1) is None
    assert repo.compare_versions(made.id, 1, 3) == {
        "title": FieldDiff("a", "b", True),
        "price": FieldDiff(Decimal("1.00"), Decimal("2.00"), True),
        "note": FieldDiff(None, "n", True),
    }
    assert repo.compare_versions(made.id, 2, 3)["price"] == FieldDiff(Decimal("2.00"), Decimal("2.00"), False)
    with pytest.raises(QueryError, match="no version 9"):
        repo.compare_versions(made.id, 1, 9)
    with pytest.raises(QueryError, match="positive integer"):
        repo.get_version(made.id, 0)
    changes = repo.field_history(made.id, "price")
    assert [(c.operation, c.old, c.new) for c in changes] == [
        ("create", None, Decimal("1.00")),
        ("update", Decimal("1.00"), Decimal("2.00")),
    ]
    assert all(isinstance(c, FieldChange) and c.transaction_id is None for c in changes)
    with pytest.raises(QueryError, match="system field"):
        repo.field_history(made.id, "updated_at")


def test_every_history_read_is_tenant_scoped(orm: OrmEnv, Doc: Any) -> None:
    acme = orm.repo(Doc, tenant="acme")
    made = acme.create(Doc(title="a"))
    acme.update(made.id, note="n")
    with tenant("globex"):
        other = orm.repo(Doc)
        assert other.history(made.id) == [] and other.field_history(made.id, "note") == []
        assert other.get_version(made.id, 1) is None and other.get(made.id, as_of=made.valid_from) is None
        with pytest.raises(QueryError, match="no version"):
            other.compare_versions(made.id, 1, 2)
        assert other.prune_versions(older_than=dt.timedelta(0)) == 0
    assert len(acme.history(made.id)) == 2
    with tenant(["globex", "acme"]):
        assert [v.version for v in orm.repo(Doc).history(made.id)] == [1, 2]


# -- set-based writes, upserts, transactions ------------------------------------------------------


def test_set_based_writes_and_upserts_keep_versions(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    assert repo.bulk_create([Doc(title=f"t{i}", price=Decimal(i)) for i in range(4)]) == 4
    made = {d.title: d for d in repo.list()}
    assert {(d.version, d.valid_from == d.created_at, d.valid_to) for d in made.values()} == {(1, True, None)}
    assert repo.update_where(F.price <= 2, price=Decimal("2")) == 2  # t2 holds 2 already
    assert {d.title: d.version for d in repo.list()} == {"t0": 2, "t1": 2, "t2": 1, "t3": 1}
    assert repo.history(made["t0"].id)[0].price == Decimal("0.00")
    assert repo.delete_where(F.title.in_(["t0", "t3"])) == 2
    assert {d.title for d in repo.list()} == {"t1", "t2"} and repo.history(made["t3"].id)[-1].deleted_at
    created = repo.upsert(Doc(title="t9", price=Decimal("9")), on=("title",))
    assert created.version == 1 and repo.get(created.id).price == Decimal("9.00")
    changed = repo.upsert(Doc(title="t9", price=Decimal("10")), on=("title",))
    assert (changed.id, changed.version, changed.price) == (created.id, 2, Decimal("10"))
    same = repo.upsert(Doc(title="t9", price=Decimal("10")), on=("title",))
    assert same.version == 2 and len(repo.history(created.id)) == 2
    reused = repo.upsert(Doc(title="t0", price=Decimal("5")), on=("title",))  # t0's holder is deleted
    assert reused.id != made["t0"].id and reused.version == 1


def test_stored_file_references_stay_in_the_versions(orm: OrmEnv, define: Any) -> None:
    class Avatar(Model, **define("avatar", temporal="scd2")):
        name: str = Field(max_length=50)
        file: StoredFile | None = Field(None, policy="avatars")

    orm.create_all()
    repo = orm.repo(Avatar, tenant="acme")
    old = StoredObjectRef(storage="files", key="avatars/old.png", size=3, content_type="image/png")
    new = StoredObjectRef(storage="files", key="avatars/new.png", size=4, content_type="image/png")
    made = repo.create(Avatar(name="a", file=old))
    repo.update(made.id, file=new)
    repo.update(made.id, file=None)
    assert [v.file for v in repo.history(made.id)] == [old, new, None]
    assert [c.old for c in repo.field_history(made.id, "file")] == [None, old, new]


def test_upsert_needs_a_unique_key_on_its_fields(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    with pytest.raises(QueryError, match="unique key"):
        repo.upsert(Doc(title="a", note="n"), on=("note",))
    with pytest.raises(QueryError, match="unique key"):
        repo.upsert(Doc(title="a", note="n"), on=("title", "note"))
    assert repo.count() == 0
