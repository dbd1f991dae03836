"""Model definition: system fields, tables, constraints and the DDL SQLAlchemy renders."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from storeroom.errors import ConfigurationError
from storeroom_orm import Field, Index, Model, StoredFile, metadata
from storeroom_orm.model import SYSTEM_FIELDS

DIALECTS = {
    "postgresql": postgresql.dialect(),
    "mysql": mysql.dialect(),
    "sqlite": sqlite.dialect(),
    "mssql": mssql.dialect(),
}


@pytest.mark.parametrize("multi_tenant", [True, False])
@pytest.mark.parametrize("soft_delete", [True, False])
def test_system_fields_matrix(multi_tenant: bool, soft_delete: bool) -> None:
    class Thing(Model, table="things", metadata=sa.MetaData(), multi_tenant=multi_tenant, soft_delete=soft_delete):
        name: str = ""

    expected = {"id", "created_at", "updated_at", "created_by", "updated_by"}
    expected |= {"tenant_id"} if multi_tenant else set()
    expected |= {"deleted_at", "deleted_by"} if soft_delete else set()
    assert set(Thing.model_fields) - {"name"} == expected
    assert set(Thing.__table__.c.keys()) == expected | {"name"}
    assert list(Thing.model_fields)[:2] == ["id", "name"]
    assert Thing.__orm__.user_fields == ("name",)
    assert isinstance(Thing().id, uuid.UUID) and Thing().id.version == 7


def test_the_shared_metadata_is_the_default() -> None:
    class SharedDoc(Model, table="orm_unit_shared_docs"):
        title: str = ""

    try:
        assert SharedDoc.__table__.metadata is metadata
        assert metadata.tables["orm_unit_shared_docs"] is SharedDoc.__table__
    finally:
        metadata.remove(SharedDoc.__table__)


@pytest.mark.parametrize("name", ["id", "tenant_id", "created_at", "deleted_by"])
def test_a_system_field_name_is_refused_when_the_class_is_defined(name: str) -> None:
    with pytest.raises(ConfigurationError, match="system field"):
        type(Model)(
            "Clash",
            (Model,),
            {"__annotations__": {name: str}, "__module__": __name__},
            table="clash",
            metadata=sa.MetaData(),
        )
    assert name in SYSTEM_FIELDS


def test_definition_errors() -> None:
    md = sa.MetaData()

    class Base(Model):
        shared: str = ""

    class One(Base, table="one", metadata=md):
        pass

    assert "shared" in One.__table__.c
    with pytest.raises(ConfigurationError, match="already defined"):

        class Again(Model, table="one", metadata=md):
            pass

    with pytest.raises(ConfigurationError, match="subclasses the table model"):

        class Child(One, table="child", metadata=md):
            pass

    with pytest.raises(ConfigurationError, match="policy= is for StoredFile"):

        class Misplaced(Model, table="misplaced", metadata=md):
            name: str = Field("", policy="avatars")

    class Parent(Model, table="parents", metadata=md):
        pass

    with pytest.raises(ConfigurationError, match="also clear tenant_id"):

        class Orphan(Model, table="orphans", metadata=md):
            parent_id: uuid.UUID | None = Field(None, foreign_key="parents.id", on_delete="SET NULL")

    with pytest.raises(ValueError, match="on_delete"):
        Field(None, foreign_key="parents.id", on_delete="EXPLODE")


def test_types_local_to_a_function_resolve_and_datetimes_are_utc() -> None:
    class Mood(enum.Enum):
        GOOD = "good"

    class Local(Model, table="locals", metadata=sa.MetaData()):
        mood: Mood = Mood.GOOD
        at: dt.datetime | None = None
        price: Decimal = Decimal("0")

    assert Local.__orm__.kinds["mood"] == "enum"
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert Local(at=dt.datetime(2024, 1, 1, 1, tzinfo=plus_one)).at == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert Local(at=dt.datetime(2024, 1, 1, 1, tzinfo=plus_one)).at.tzinfo is dt.UTC
    with pytest.raises(pydantic.ValidationError, match="naive"):
        Local(at=dt.datetime(2024, 1, 1))
    with pytest.raises(pydantic.ValidationError, match="naive"):
        Local(at="2024-01-01T00:00:00")


def test_stored_file_fields_are_recorded_with_their_policy() -> None:
    class Profile(Model, table="profiles", metadata=sa.MetaData()):
        avatar: StoredFile | None = Field(None, policy="avatars")
        cv: StoredFile | None = None

    assert Profile.__orm__.files == {"avatar": "avatars", "cv": None}
    assert Profile.__orm__.kinds["avatar"] == "json"
    ref = {"storage": "files", "key": "avatars/a.png", "size": 3}
    assert Profile(avatar=ref).avatar.key == "avatars/a.png"


def _documents() -> Any:
    md = sa.MetaData(naming_convention=metadata.naming_convention)

    class User(Model, table="users", metadata=md):
        name: str = Field(max_length=50, unique=True)

    class Document(Model, table="documents", metadata=md, soft_delete=True):
        title: str = Field(max_length=255)
        status: str = Field("draft", max_length=20, index=True, check="status IN ('draft', 'published')")
        price: Decimal = Field(Decimal("0"), max_digits=12, decimal_places=2)
        owner_id: uuid.UUID | None = Field(None, foreign_key="users.id", on_delete="CASCADE")
        meta: dict[str, Any] = Field(default_factory=dict)
        order: int = 0
        __indexes__ = (
            Index("documents_live_status", "status", where="deleted_at IS NULL"),
            Index("documents_meta", "meta", using="gin"),
            Index("documents_title_unique", "title", unique=True),
            Index("documents_title_lower", "lower(title)"),
        )

    return Document


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_ddl_for_every_dialect(dialect: str) -> None:
    Document = _documents()
    compiled = DIALECTS[dialect]
    table = str(CreateTable(Document.__table__).compile(dialect=compiled))
    assert "UNIQUE (tenant_id, id)" in table
    assert "FOREIGN KEY(tenant_id, owner_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE" in table
    assert "CHECK (status IN ('draft', 'published'))" in table
    assert "NUMERIC(12, 2)" in table
    quoted = {"mysql": "`order`", "mssql": "[order]"}.get(dialect, '"order"')
    assert quoted in table
    indexes = {ix.name: ix for ix in Document.__table__.indexes}
    assert [c.name for c in indexes["ix_documents_tenant_id_status"].columns] == ["tenant_id", "status"]
    assert [c.name for c in indexes["documents_title_unique"].columns] == ["tenant_id", "title"]  # per tenant
    live = str(CreateIndex(indexes["documents_live_status"]).compile(dialect=compiled))
    assert ("WHERE deleted_at IS NULL" in live) == (dialect != "mysql")
    expected_types = {
        "postgresql": ("UUID", "TIMESTAMP WITH TIME ZONE", "JSONB"),
        "mysql": ("CHAR(32)", "DATETIME(6)", "JSON"),
        "sqlite": ("CHAR(32)", "DATETIME", "JSON"),
        "mssql": ("UNIQUEIDENTIFIER", "DATETIME2(6)", "NVARCHAR(max)"),
    }[dialect]
    for fragment in expected_types:
        assert fragment in table
    expression = str(CreateIndex(indexes["documents_title_lower"]).compile(dialect=compiled))
    assert "(lower(title))" in expression
    gin = indexes["documents_meta"]
    assert gin._ddl_if is not None and gin._ddl_if.dialect == "postgresql"  # created on PostgreSQL only
