"""copy_on_change models: one audit row per changed user field - on SQLite, PostgreSQL and MariaDB, sync and async."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from _orm_harness import OrmEnv, temporal_doc
from storeroom.errors import QueryError
from storeroom.refs import StoredObjectRef
from storeroom_orm import F, Field, FieldChange, Model, StoredFile, actor, tenant

UTC = dt.UTC


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(pydantic.BaseModel):
    street: str
    city: str


@pytest.fixture
def Doc(orm: OrmEnv, define: Any) -> Any:
    return temporal_doc(define, "adoc", "copy_on_change", soft_delete=True, create=orm)


def audit_rows(orm: OrmEnv, model: Any) -> list[dict[str, Any]]:
    return orm.raw(f"SELECT * FROM {model.__orm__.audit_table.name} ORDER BY seq")


def summary(changes: list[FieldChange]) -> list[tuple[Any, ...]]:
    return [(c.operation, c.field, c.old, c.new) for c in changes]


def test_one_row_per_changed_user_field_and_none_for_a_no_op(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    with actor("alice"):
        made = repo.create(Doc(title="a", price=Decimal("1.50")))
    with actor("bob"):
        repo.update(made.id, price=Decimal("2.00"), note="n", title="a")  # title unchanged
        repo.update(made.id, price=Decimal("2"), note="n")  # nothing changes: no row
        repo.update(made.id)
    changes = repo.history(made.id)
    assert summary(changes) == [
        ("create", "title", None, "a"),
        ("create", "price", None, Decimal("1.50")),
        ("create", "note", None, None),
        ("update", "price", Decimal("1.50"), Decimal("2.00")),
        ("update", "note", None, "n"),
    ]
    assert [c.changed_by for c in changes] == ["alice"] * 3 + ["bob"] * 2
    assert changes[0].changed_at == made.created_at and changes[3].changed_at == repo.get(made.id).updated_at
    assert len({c.transaction_id for c in changes[:3]}) == 1 and changes[3].transaction_id == changes[4].transaction_id
    assert changes[0].transaction_id != changes[3].transaction_id
    stored = audit_rows(orm, Doc)
    assert {r["tenant_id"] for r in stored} == {"acme"} and {r["field"] for r in stored} <= set(Doc.__orm__.user_fields)
    assert summary(repo.field_history(made.id, "price")) == [
        ("create", "price", None, Decimal("1.50")),
        ("update", "price", Decimal("1.50"), Decimal("2.00")),
    ]
    with pytest.raises(QueryError, match="system field"):
        repo.field_history(made.id, "updated_by")
    with pytest.raises(QueryError, match="no field"):
        repo.field_history(made.id, "nope")


def test_old_and_new_values_round_trip_through_json(orm: OrmEnv, define: Any) -> None:
    class Every(Model, **define("every", temporal="copy_on_change")):
        amount: Decimal = Field(Decimal("0"), max_digits=18, decimal_places=4)
        ref: uuid.UUID | None = None
        when: dt.datetime | None = None
        day: dt.date | None = None
        blob: bytes | None = None
        color: Color | None = None
        tags: list[str] = Field(default_factory=list)
        address: Address | None = None
        file: StoredFile | None = Field(None, policy="avatars")
        ratio: float = 0.0
        big: int = 0

    orm.create_all()
    repo = orm.repo(Every, tenant="acme")
    made = repo.create(Every())
    plus_two = dt.timezone(dt.timedelta(hours=2))
    new = {
        "amount": Decimal("12345678.0123"),  # SQLite keeps 15 digits of the row; the audit row all
        "ref": uuid.uuid4(),
        "when": dt.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=plus_two),
        "day": dt.date(2024, 2, 29),
        "blob": b"\x00\xff binary",
        "color": Color.GREEN,
        "tags": ["ä", "b"],
        "address": Address(street="Hauptstraße 1", city="Köln"),
        "file": StoredObjectRef(storage="files", key="avatars/a.png", size=3, content_type="image/png"),
        "ratio": 0.1,
        "big": 2**62,
    }
    repo.update(made.id, **new)
    changes = {c.field: c for c in repo.history(made.id) if c.operation == "update"}
    assert set(changes) == set(new)
    for name, value in new.items():
        assert changes[name].new == value and type(changes[name].new) is type(value), name
        assert changes[name].old == getattr(made, name), name
    assert changes["when"].new.utcoffset() == dt.timedelta(0)
    repo.update(made.id, ref=None, when=None)
    assert [(c.old, c.new) for c in repo.field_history(made.id, "ref")][-1] == (new["ref"], None)


def test_delete_restore_and_purge_are_recorded(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a", note="n"))
    with actor("carol"):
        assert repo.delete(made.id)
        assert repo.restore(made.id)
        assert repo.delete(made.id)
        assert repo.purge(made.id)  # already soft-deleted: recorded once
    ops = [(c.operation, c.old, c.new) for c in repo.field_history(made.id, "note")]
    assert ops == [("create", None, "n"), ("delete", "n", None), ("restore", None, "n"), ("delete", "n", None)]
    assert repo.get(made.id, include_deleted=True) is None and len(repo.history(made.id)) == 12
    live = repo.create(Doc(title="b"))
    assert repo.purge(live.id)  # a live row purged: its delete is recorded
    assert [c.operation for c in repo.field_history(live.id, "title")] == ["create", "delete"]


def test_hard_delete_without_soft_delete_is_recorded(orm: OrmEnv, define: Any) -> None:
    Doc = temporal_doc(define, "adoc", "copy_on_change")
    orm.create_all()
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a"))
    assert repo.delete(made.id) and repo.get(made.id) is None
    assert [c.operation for c in repo.field_history(made.id, "title")] == ["create", "delete"]
    with pytest.raises(QueryError, match="no soft delete"):
        repo.restore(made.id)


def test_set_based_writes_bulk_and_upsert_are_recorded(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    assert repo.bulk_create([Doc(title=f"t{i}", price=Decimal(i)) for i in range(3)]) == 3
    made = {d.title: d for d in repo.list()}
    assert summary(repo.field_history(made["t1"].id, "price")) == [("create", "price", None, Decimal("1.00"))]
    assert repo.update_where(F.price <= 1, price=Decimal("1"), note="x") == 2
    assert summary(repo.history(made["t0"].id))[-2:] == [
        ("update", "price", Decimal("0.00"), Decimal("1")),
        ("update", "note", None, "x"),
    ]
    assert summary(repo.history(made["t1"].id))[-1] == ("update", "note", None, "x")  # its price was 1 already
    changes = repo.history(made["t0"].id) + repo.history(made["t1"].id)
    assert len({c.transaction_id for c in changes if c.operation == "update"}) == 1  # one change
    assert repo.delete_where(F.title == "t2") == 1
    assert [c.operation for c in repo.field_history(made["t2"].id, "title")] == ["create", "delete"]
    created = repo.upsert(Doc(title="u", price=Decimal("1")), on=("title",))
    repo.upsert(Doc(title="u", price=Decimal("2")), on=("title",))
    repo.upsert(Doc(title="u", price=Decimal("2")), on=("title",))  # unchanged: nothing
    assert summary(repo.field_history(created.id, "price")) == [
        ("create", "price", None, Decimal("1.00")),
        ("update", "price", Decimal("1.00"), Decimal("2")),
    ]
    assert repo.bulk_create([]) == 0 and repo.update_where(F.title == "none", note="y") == 0


def test_audit_reads_are_tenant_scoped_and_outlive_the_record(orm: OrmEnv, Doc: Any) -> None:
    acme = orm.repo(Doc, tenant="acme")
    made = acme.create(Doc(title="a"))
    acme.update(made.id, note="n")
    with tenant("globex"):
        other = orm.repo(Doc)
        assert other.history(made.id) == [] and other.field_history(made.id, "note") == []
        assert other.update(made.id, note="x") is None and not other.delete(made.id)
        assert other.purge_audit(older_than=dt.timedelta(0)) == 0
    assert len(acme.history(made.id)) == 4
    acme.purge(made.id)
    assert [c.operation for c in acme.field_history(made.id, "note")] == ["create", "update", "delete"]
    with pytest.raises(QueryError, match="needs temporal='scd2'"):
        acme.get(made.id, as_of=dt.datetime.now(UTC))
    with pytest.raises(QueryError, match="needs temporal='scd2'"):
        acme.compare_versions(made.id, 1, 2)
