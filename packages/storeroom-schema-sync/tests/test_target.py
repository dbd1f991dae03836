from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storeroom.errors import SchemaSyncError
from storeroom_schema_sync.target import explicit_name, resolve_target


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("authors.id"))


def test_metadata_models_and_lists_give_the_same_tables() -> None:
    by_metadata = resolve_target(Base.metadata)
    by_models = resolve_target([Book, Author, Book])
    assert [t.name for t in by_metadata.tables] == ["authors", "books"]
    assert [t.name for t in by_models.tables] == [
        "books",
        "authors",
    ]  # as given, once each; plans sort what they create
    assert by_metadata.schemas == (None,) and by_metadata.only is None


def test_tables_limits_and_unknown_names_are_an_error() -> None:
    assert [t.name for t in resolve_target(Base.metadata, ["books"]).tables] == ["books"]
    assert resolve_target(Base.metadata, "books").only == frozenset({"books"})
    with pytest.raises(SchemaSyncError, match="nope"):
        resolve_target(Base.metadata, ["nope"])


@pytest.mark.parametrize("bad", [42, "models:metadata", object()])
def test_anything_else_is_refused_with_what_is_expected(bad: object) -> None:
    with pytest.raises(SchemaSyncError, match="MetaData"):
        resolve_target(bad)


def test_an_empty_target_would_drop_everything_and_is_refused() -> None:
    with pytest.raises(SchemaSyncError, match="no tables"):
        resolve_target(sa.MetaData())


def test_explicit_names_come_from_the_code_or_its_naming_convention() -> None:
    md = sa.MetaData(naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"})
    t = sa.Table("t", md, sa.Column("a", sa.Integer, unique=True), sa.CheckConstraint("a > 0"))
    names = sorted(str(explicit_name(c)) for c in t.constraints)
    assert names == ["None", "None", "uq_t_a"]  # the PK and the CHECK are left to the server
