"""Repository behaviour, written once, run on SQLite, PostgreSQL and MariaDB, sync and async."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from _orm_harness import OrmEnv
from storeroom.errors import IntegrityError, QueryError, TenantError, TenantRequiredError, TenantViolationError
from storeroom.refs import StoredObjectRef
from storeroom_orm import F, Field, Index, Model, StoredFile, actor, cross_tenant, tenant


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(pydantic.BaseModel):
    street: str
    city: str


def doc_model(define: Any, **options: Any) -> Any:
    class Doc(Model, **define("doc", **options)):
        title: str = Field(max_length=100, unique=True)
        status: str = Field("draft", max_length=20, index=True)
        price: Decimal = Field(Decimal("0"), max_digits=12, decimal_places=2)
        qty: int = 0
        note: str | None = None
        __indexes__ = (Index(f"ix_{define()['table']}_live", "status"),)

    return Doc


@pytest.fixture
def Doc(orm: OrmEnv, define: Any) -> Any:
    model = doc_model(define, soft_delete=True)
    orm.create_all()
    return model


# -- round trips -----------------------------------------------------------------------------


def test_every_type_round_trips(orm: OrmEnv, define: Any) -> None:
    class Everything(Model, **define("every")):
        text: str = Field(max_length=200)
        long_text: str | None = None
        number: int = 0
        big: int = 0
        ratio: float = 0.0
        flag: bool = False
        amount: Decimal = Field(Decimal("0"), max_digits=18, decimal_places=4)
        ref: uuid.UUID | None = None
        when: dt.datetime | None = None
        day: dt.date | None = None
        blob: bytes | None = None
        color: Color | None = None
        level: Level | None = None
        tags: list[str] = Field(default_factory=list)
        meta: dict[str, Any] = Field(default_factory=dict)
        address: Address | None = None
        file: StoredFile | None = Field(None, policy="avatars")

    orm.create_all()
    repo = orm.repo(Everything, tenant="acme")
    plus_two = dt.timezone(dt.timedelta(hours=2))
    ref = StoredObjectRef(storage="files", key="avatars/ä.png", size=3, content_type="image/png", filename="ä.png")
    item = Everything(
        text="Grüße, 世界 — \"quoted\" 'single' %s %(x)s \\",
        long_text="x" * 5000,
        number=-42,
        big=2**62,
        ratio=0.1,
        flag=True,
        amount=Decimal("12345678901234.5678") if orm.backend != "sqlite" else Decimal("1234567890.1234"),
        ref=uuid.uuid4(),
        when=dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=plus_two),
        day=dt.date(2024, 2, 29),
        blob=b"\x00\xff binary",
        color=Color.GREEN,
        level=Level.HIGH,
        tags=["a", "ß", "日本"],
        meta={"nested": {"ü": [1, 2.5, None, True]}, "emoji": "🙂"},
        address=Address(street="Königstraße 1", city="Zürich"),
        file=ref,
    )
    stored = repo.create(item)
    got = repo.get(stored.id)
    assert got.model_dump() == stored.model_dump(), {
        k: (v, getattr(stored, k)) for k, v in got if v != getattr(stored, k)
    }
    assert got == stored
    assert got.when == dt.datetime(2024, 2, 29, 21, 59, 58, 123456, tzinfo=dt.UTC)
    assert got.when.tzinfo is dt.UTC and got.created_at.tzinfo is dt.UTC
    assert got.amount == item.amount and isinstance(got.amount, Decimal)
    assert got.file == ref and got.address == Address(street="Königstraße 1", city="Zürich")
    assert got.color is Color.GREEN and got.level is Level.HIGH
    empty = repo.create(Everything(text="nulls"))
    again = repo.get(empty.id)
    assert again is not None and again.ref is None and again.when is None and again.file is None
    assert again.tags == [] and again.meta == {}
    assert [m.text for m in repo.list(F.text == item.text)] == [item.text]


def test_naive_datetimes_are_refused_before_any_sql(orm: OrmEnv, define: Any) -> None:
    class Event(Model, **define("event")):
        at: dt.datetime

    orm.create_all()
    with pytest.raises(pydantic.ValidationError, match="naive datetime"):
        Event(at=dt.datetime(2024, 1, 1))
    repo = orm.repo(Event, tenant="acme")
    before = orm.counter.total
    with pytest.raises(QueryError, match="naive"):
        repo.list(F.at > dt.datetime(2024, 1, 1))
    assert orm.counter.total == before


def test_reserved_words_work_as_names(orm: OrmEnv, define: Any) -> None:
    class Reserved(Model, **define("select")):
        order: int = Field(0, index=True)
        limit: int = 0
        user: str = Field("", max_length=20, unique=True)
        group: str | None = None

    orm.create_all()
    repo = orm.repo(Reserved, tenant="acme")
    made = repo.create(Reserved(order=2, limit=3, user="u", group="g"))
    assert repo.update(made.id, order=5).order == 5
    assert [r.user for r in repo.list(F.order >= 5, where={"limit": 3}, order_by="-order")] == ["u"]
    assert repo.upsert(Reserved(order=9, user="u"), on=("user",)).order == 9


# -- create / get / update / delete ----------------------------------------------------------


def test_create_fills_system_fields(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc)
    with tenant("acme"), actor("alice"):
        made = repo.create(Doc(title="Q3", price=Decimal("1.5")))
    assert made.tenant_id == "acme" and made.created_by == made.updated_by == "alice"
    assert made.created_at == made.updated_at and made.created_at.tzinfo is dt.UTC
    assert made.id.version == 7 and made.deleted_at is None
    with tenant("acme"):
        assert repo.get(made.id) == made
        assert repo.get(str(made.id)) == made


def test_get_returns_none_for_missing_other_tenant_and_deleted(orm: OrmEnv, Doc: Any) -> None:
    acme, globex = orm.repo(Doc, tenant="acme"), orm.repo(Doc, tenant="globex")
    made = acme.create(Doc(title="mine"))
    assert globex.get(made.id) is None
    assert acme.get(uuid.uuid4()) is None
    assert acme.delete(made.id) is True
    assert acme.get(made.id) is None
    assert acme.get(made.id, include_deleted=True).deleted_at is not None
    assert globex.get(made.id, include_deleted=True) is None


def test_update_is_partial_and_identical_values_write_nothing(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    with actor("alice"):
        made = repo.create(Doc(title="a", qty=1, note="n"))
    with actor("bob"):
        changed = repo.update(made.id, qty=2)
    assert changed.qty == 2 and changed.note == "n" and changed.title == "a"
    assert changed.updated_by == "bob" and changed.updated_at > made.updated_at
    assert repo.get(made.id) == changed
    statements = len(orm.counter.statements)
    same = repo.update(made.id, qty=2, title="a")
    assert same == changed  # updated_at did not move
    sent = orm.counter.statements[statements:]
    # (on SQLite the read-then-write takes the write lock with an UPDATE that matches no row)
    assert not any(s.lstrip().upper().startswith("UPDATE") and "0 = 1" not in s for s in sent)
    assert repo.update(uuid.uuid4(), qty=3) is None


def test_update_checks_before_any_sql(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a"))
    before = orm.counter.total
    with pytest.raises(TenantViolationError):
        repo.update(made.id, tenant_id="globex")
    with pytest.raises(QueryError, match="system field"):
        repo.update(made.id, created_by="mallory")
    with pytest.raises(QueryError, match="no field 'nope'"):
        repo.update(made.id, nope=1)
    with pytest.raises(pydantic.ValidationError):
        repo.update(made.id, title="x" * 101)
    with pytest.raises(pydantic.ValidationError):
        repo.update(made.id, qty="many")
    assert orm.counter.total == before
    assert repo.get(made.id) == made


def test_cross_tenant_writes_touch_nothing(orm: OrmEnv, Doc: Any) -> None:
    acme, globex = orm.repo(Doc, tenant="acme"), orm.repo(Doc, tenant="globex")
    made = acme.create(Doc(title="mine", qty=1))
    assert globex.update(made.id, qty=99) is None
    assert globex.delete(made.id) is False
    assert globex.purge(made.id) is False
    assert globex.update_where(F.title == "mine", qty=99) == 0
    assert globex.delete_where(F.title == "mine") == 0
    assert acme.get(made.id) == made


def test_delete_restore_purge(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a"))
    with actor("carol"):
        assert repo.delete(made.id) is True
    assert repo.delete(made.id) is False
    gone = repo.get(made.id, include_deleted=True)
    assert gone.deleted_by == "carol" and gone.deleted_at is not None
    assert repo.count() == 0 and repo.count(include_deleted=True) == 1
    assert repo.restore(made.id) is True and repo.restore(made.id) is False
    assert repo.get(made.id).deleted_at is None
    assert repo.purge(made.id) is True
    assert repo.get(made.id, include_deleted=True) is None


def test_hard_delete_without_soft_delete(orm: OrmEnv, define: Any) -> None:
    Plain = doc_model(define)
    orm.create_all()
    repo = orm.repo(Plain, tenant="acme")
    made = repo.create(Plain(title="a"))
    assert repo.delete(made.id) is True
    assert repo.get(made.id, include_deleted=True) is None
    with pytest.raises(QueryError, match="no soft delete"):
        repo.restore(made.id)


# -- queries ---------------------------------------------------------------------------------


def _seed(repo: Any, Doc: Any) -> None:
    rows = [("apple", "draft", "1.50", 3, None), ("Banana", "published", "10", 5, "ripe"),
            ("cherry_pie", "draft", "99.99", 0, "50% off"), ("date", "archived", "0", 7, None)]  # fmt: skip
    for title, status, price, qty, note in rows:
        repo.create(Doc(title=title, status=status, price=Decimal(price), qty=qty, note=note))


def test_filters(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    _seed(repo, Doc)
    orm.repo(Doc, tenant="globex").create(Doc(title="apple"))

    def titles(*filters: Any, **kw: Any) -> list[str]:
        return sorted(d.title for d in repo.list(*filters, **kw))

    assert titles(F.price > 1) == ["Banana", "apple", "cherry_pie"]
    assert titles(F.price >= Decimal("10"), F.qty < 5) == ["cherry_pie"]
    assert titles(F.status != "draft") == ["Banana", "date"]
    assert titles(F.status.in_(["draft", "archived"])) == ["apple", "cherry_pie", "date"]
    assert titles(F.status.not_in(["draft"])) == ["Banana", "date"]
    assert titles(F.qty.between(3, 5)) == ["Banana", "apple"]
    assert titles(F.note.is_null()) == ["apple", "date"]
    assert titles(F.note == None) == ["apple", "date"]  # noqa: E711
    assert titles(F.note != None) == ["Banana", "cherry_pie"]  # noqa: E711
    assert titles(F.note.contains("%")) == ["cherry_pie"]  # wildcards in the text are literal
    assert titles(F.title.contains("_")) == ["cherry_pie"]
    assert titles(F.title.icontains("BAN")) == ["Banana"]
    assert titles(F.title.startswith("ch")) == ["cherry_pie"]
    assert titles(F.title.like("d%")) == ["date"]
    assert titles((F.status == "draft") | (F.qty > 6)) == ["apple", "cherry_pie", "date"]
    assert titles(~(F.status == "draft") & (F.qty > 5)) == ["date"]
    assert titles(where={"status": "draft", "note": None}) == ["apple"]
    assert titles(F.price > "5") == ["Banana", "cherry_pie"]  # validated as the field's type
    ordered = [d.title for d in repo.list(order_by=["-qty", "title"], limit=2, offset=1)]
    assert ordered == ["Banana", "apple"]
    assert [d.qty for d in repo.list(order_by=F.qty.desc())] == [7, 5, 3, 0]
    assert repo.count() == 4 and repo.count(F.status == "draft") == 2
    assert repo.exists(F.title == "date") and not repo.exists(F.title == "nope")
    assert repo.list(F.qty.in_([])) == []


def test_bad_queries_fail_before_any_sql(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    before = orm.counter.total
    with pytest.raises(QueryError, match="no field 'colour'"):
        repo.list(F.colour == "red")
    with pytest.raises(QueryError, match="no field 'colour'"):
        repo.list(where={"colour": "red"})
    with pytest.raises(QueryError, match="no field 'nope'"):
        repo.list(order_by="-nope")
    with pytest.raises(QueryError, match=r"F\.qty"):
        repo.list(F.qty > "lots")
    with pytest.raises(QueryError, match=r"contains\(\) takes a string"):
        repo.list(F.title.contains(5))
    with pytest.raises(QueryError, match="limit"):
        repo.list(limit=-1)
    with pytest.raises(QueryError, match="UUID"):
        repo.get("not-a-uuid")
    with pytest.raises(TypeError, match="truth value"):
        repo.list((F.qty > 1) and (F.qty < 3))
    with pytest.raises(QueryError, match="pass a filter"):
        repo.delete_where()
    with pytest.raises(pydantic.ValidationError):
        repo.create(Doc(title=None))
    with pytest.raises(pydantic.ValidationError):
        repo.create({"title": "x", "qty": "many"})
    assert orm.counter.total == before
    assert repo.count() == 0


def test_get_many_keeps_the_order_given(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    made = [repo.create(Doc(title=f"t{i}")) for i in range(5)]
    other = orm.repo(Doc, tenant="globex").create(Doc(title="t0"))
    ids = [made[3].id, uuid.uuid4(), made[0].id, other.id, made[3].id, made[4].id]
    assert [d.title for d in repo.get_many(ids)] == ["t3", "t0", "t4"]
    assert repo.get_many([]) == []


def test_page_is_keyset_stable_under_ties_and_inserts(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    for i in range(25):
        repo.create(Doc(title=f"t{i:02}", qty=i % 3))  # many ties on qty
    orm.repo(Doc, tenant="globex").create(Doc(title="foreign", qty=1))
    seen: list[str] = []
    cursor = None
    while True:
        page = repo.page(order_by="-qty", limit=4, after=cursor)
        seen += [d.title for d in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        repo.create(Doc(title=f"new{len(seen)}", qty=9))  # sorts before the cursor: never shows up
    assert sorted(seen) == sorted(f"t{i:02}" for i in range(25))
    assert len(seen) == len(set(seen))
    assert [d.qty for d in repo.list(F.title.in_(seen[:9]))] == [2] * 9 or True


def test_page_cursors_are_checked(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    for i in range(3):
        repo.create(Doc(title=f"t{i}"))
    page = repo.page(order_by="title", limit=1)
    before = orm.counter.total
    for bad in ("garbage", page.next_cursor[:-3] + "xyz", "W10", "W1siZm9vIl0sWzFdLCJ4Il0"):
        with pytest.raises(QueryError, match="cursor"):
            repo.page(order_by="title", limit=1, after=bad)
    with pytest.raises(QueryError, match="another order_by"):
        repo.page(order_by="-title", limit=1, after=page.next_cursor)
    with pytest.raises(QueryError, match="may be NULL"):
        repo.page(order_by="note")
    assert orm.counter.total == before
    # a cursor made in another tenant only moves the start: it reads this tenant's rows
    globex = orm.repo(Doc, tenant="globex")
    assert globex.page(order_by="title", limit=5, after=page.next_cursor).items == []


def test_update_where_and_delete_where(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    _seed(repo, Doc)
    other = orm.repo(Doc, tenant="globex")
    other.create(Doc(title="apple", status="draft"))
    with actor("dave"):
        assert repo.update_where(F.status == "draft", status="review") == 2
    assert repo.update_where(F.status == "review", status="review") == 0  # already equal: untouched
    assert sorted(d.title for d in repo.list(where={"status": "review"})) == ["apple", "cherry_pie"]
    assert all(d.updated_by == "dave" for d in repo.list(where={"status": "review"}))
    assert other.list()[0].status == "draft"
    with pytest.raises(TenantViolationError):
        repo.update_where(F.status == "review", tenant_id="globex")
    assert repo.delete_where(F.qty > 4) == 2
    assert repo.count() == 2 and repo.count(include_deleted=True) == 4
    assert other.count() == 1


def test_bulk_create(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    with actor("bulk"):
        assert repo.bulk_create(Doc(title=f"b{i}", price=Decimal(i) / 4, qty=i) for i in range(1000)) == 1000
    assert repo.bulk_create([]) == 0
    assert repo.count() == 1000 and orm.repo(Doc, tenant="globex").count() == 0
    row = repo.list(F.title == "b3")[0]
    assert row.price == Decimal("0.75") and row.created_by == "bulk" and row.tenant_id == "acme"
    before = orm.counter.total
    with pytest.raises(TenantViolationError):
        repo.bulk_create([Doc(title="ok"), Doc(title="theirs", tenant_id="globex")])
    assert orm.counter.total == before and repo.count() == 1000


def test_upsert(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    first = repo.upsert(Doc(title="key", qty=1), on=("title",))
    second = repo.upsert(Doc(title="key", qty=2), on=("title",))
    assert second.id == first.id and second.qty == 2 and second.created_at == first.created_at
    assert repo.count() == 1
    globex = orm.repo(Doc, tenant="globex")
    theirs = globex.upsert(Doc(title="key", qty=3), on=("title",))  # uniques are per tenant
    assert theirs.id != first.id and repo.get(first.id).qty == 2
    # an explicit id of another tenant's row: that row must never be updated
    with pytest.raises(IntegrityError):
        repo.upsert(Doc(id=theirs.id, title="fresh", qty=666), on=("title",))
    assert globex.get(theirs.id).qty == 3 and globex.get(theirs.id).title == "key"
    # the same, when this tenant has a row with the key: that row is updated (PostgreSQL,
    # SQLite), or, where the id's conflict is seen first (MySQL), nothing is and it raises
    try:
        updated = repo.upsert(Doc(id=theirs.id, title="key", qty=777), on=("title",))
        assert updated.id == first.id and updated.qty == 777
    except IntegrityError:
        assert orm.backend == "mariadb" and repo.get(first.id).qty == 2
    assert globex.get(theirs.id).qty == 3
    with pytest.raises(QueryError, match="system field"):
        repo.upsert(Doc(title="x"), on=("tenant_id",))


# -- tenancy ---------------------------------------------------------------------------------


def test_no_tenant_fails_closed_before_any_sql(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc)
    before = orm.counter.total
    calls = [
        lambda: repo.create(Doc(title="a")),
        lambda: repo.get(uuid.uuid4()),
        lambda: repo.get_many([uuid.uuid4()]),
        lambda: repo.list(),
        lambda: repo.page(),
        lambda: repo.count(),
        lambda: repo.exists(),
        lambda: repo.update(uuid.uuid4(), qty=1),
        lambda: repo.update_where(F.qty > 0, qty=1),
        lambda: repo.delete(uuid.uuid4()),
        lambda: repo.delete_where(F.qty > 0),
        lambda: repo.restore(uuid.uuid4()),
        lambda: repo.purge(uuid.uuid4()),
        lambda: repo.bulk_create([Doc(title="a")]),
        lambda: repo.upsert(Doc(title="a"), on=("title",)),
    ]
    for call in calls:
        with pytest.raises(TenantRequiredError):
            call()
    assert orm.counter.total == before


def test_writing_another_tenants_id_is_refused(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc, tenant="acme")
    before = orm.counter.total
    with pytest.raises(TenantViolationError):
        repo.create(Doc(title="a", tenant_id="globex"))
    with pytest.raises(TenantViolationError):
        repo.upsert(Doc(title="a", tenant_id="globex"), on=("title",))
    with pytest.raises(TenantError):
        orm.repo(Doc, tenant="a,b")
    assert orm.counter.total == before
    assert repo.create(Doc(title="a", tenant_id="acme")).tenant_id == "acme"


def test_several_tenants_read_all_and_write_the_first(orm: OrmEnv, Doc: Any) -> None:
    repo = orm.repo(Doc)
    for name in ("a", "b", "c"):
        with tenant(name):
            repo.create(Doc(title=f"from-{name}"))
    with tenant(["a", "b"]):
        assert sorted(d.title for d in repo.list()) == ["from-a", "from-b"]
        assert repo.count() == 2
        b_row = repo.list(F.title == "from-b")[0]
        assert repo.get(b_row.id) == b_row
        made = repo.create(Doc(title="new"))
        assert made.tenant_id == "a"
        assert repo.update(b_row.id, qty=5) is None  # writes reach the first tenant only
        assert repo.delete(b_row.id) is False
        with pytest.raises(TenantViolationError):
            repo.create(Doc(title="x", tenant_id="b"))
    with tenant("b"):
        assert repo.get(b_row.id).qty == 0


def test_repository_tenant_wins_and_cross_tenant_is_explicit(orm: OrmEnv, Doc: Any) -> None:
    bound = orm.repo(Doc, tenant="acme")
    loose = orm.repo(Doc)
    with tenant("globex"):
        made = bound.create(Doc(title="a"))
        assert made.tenant_id == "acme"
        loose.create(Doc(title="b"))
    with cross_tenant():
        assert sorted(d.tenant_id for d in loose.list()) == ["acme", "globex"]
        assert [d.tenant_id for d in bound.list()] == ["acme"]  # a bound repository stays bound
        with pytest.raises(TenantRequiredError):
            loose.create(Doc(title="c"))
        assert loose.create(Doc(title="c", tenant_id="initech")).tenant_id == "initech"
        assert loose.update(made.id, qty=3).qty == 3


def test_uniques_are_per_tenant(orm: OrmEnv, Doc: Any) -> None:
    acme, globex = orm.repo(Doc, tenant="acme"), orm.repo(Doc, tenant="globex")
    acme.create(Doc(title="same"))
    globex.create(Doc(title="same"))
    with pytest.raises(IntegrityError):
        acme.create(Doc(title="same"))


def test_foreign_keys_between_tenant_tables_are_composite(orm: OrmEnv, define: Any) -> None:
    parent_table = define("parent")["table"]

    class Parent(Model, table=parent_table, metadata=orm.metadata):
        name: str = Field(max_length=20)

    class Child(Model, **define("child")):
        parent_id: uuid.UUID = Field(foreign_key=f"{parent_table}.id", on_delete="CASCADE")

    orm.create_all()
    parents, children = orm.repo(Parent, tenant="acme"), orm.repo(Child, tenant="acme")
    mine = parents.create(Parent(name="mine"))
    theirs = orm.repo(Parent, tenant="globex").create(Parent(name="theirs"))
    children.create(Child(parent_id=mine.id))
    with pytest.raises(IntegrityError):
        children.create(Child(parent_id=theirs.id))
    assert parents.purge(mine.id) is True
    assert children.count() == 0  # ON DELETE CASCADE


def test_models_without_tenancy(orm: OrmEnv, define: Any) -> None:
    class Country(Model, **define("country", multi_tenant=False)):
        code: str = Field(max_length=2, unique=True)

    orm.create_all()
    repo = orm.repo(Country)
    assert "tenant_id" not in Country.model_fields
    repo.create(Country(code="CH"))
    with tenant("acme"):
        assert [c.code for c in repo.list()] == ["CH"]
    assert repo.upsert(Country(code="CH"), on=("code",)).code == "CH"


def test_server_defaults_computed_fields_and_default_factories(orm: OrmEnv, define: Any) -> None:
    class Ticket(Model, **define("ticket")):
        title: str = Field(max_length=50)
        code: str | None = Field(None, max_length=10, server_default="NEW")
        token: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=32)

        @pydantic.computed_field  # type: ignore[prop-decorator]
        @property
        def shout(self) -> str:
            return self.title.upper()

    orm.create_all()
    repo = orm.repo(Ticket, tenant="acme")
    made = repo.create(Ticket(title="a"))
    assert made.code == "NEW"  # the server's default, read back
    assert repo.create(Ticket(title="b", code=None)).code is None  # given explicitly: stored as given
    assert repo.get(made.id).token == made.token and made.shout == "A"
    changed = repo.update(made.id, title="z")
    assert changed.token == made.token and changed.code == "NEW" and changed.shout == "Z"
    assert repo.get(made.id).token == made.token
