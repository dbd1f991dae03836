"""The schema-provider interface and the catalog facts it reports, dialect-neutral.

storeroom-schema-sync compares a desired schema (SQLAlchemy ``MetaData``) with a live one
*like with like*: it renders the desired side into scratch space on the same server and
reads both sides with the same :class:`SchemaProvider`, so the server spells both the same
way. A provider knows one SQL dialect: how to read its catalog in a few bulk queries, where
its scratch space is, how to serialize concurrent applies and how to ask the server whether
two default expressions have the same value. Each SQL plugin ships one, registered through
``storeroom_register_schema_providers`` with ``PLUGIN_NAME`` = the SQLAlchemy dialect name.

This module imports no SQLAlchemy: connections are typed ``Any`` here (they are SQLAlchemy
``Connection`` objects at run time) so ``import storeroom`` stays light.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

__all__ = [
    "Catalog",
    "ColumnInfo",
    "ConstraintInfo",
    "ConstraintKind",
    "EnumInfo",
    "IndexInfo",
    "SchemaProvider",
    "Scratch",
    "TableInfo",
    "TableKey",
    "TableStats",
]

#: ``(schema, table)``; the schema is always a real name (the default one resolved)
TableKey = tuple[str, str]
ConstraintKind = Literal["primary_key", "unique", "check", "foreign_key"]


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """One column as the server spells it."""

    name: str
    type: str
    nullable: bool
    default: str | None = None
    #: ``"always"`` / ``"by default"`` (identity), ``"auto_increment"``, ``"rowid"``; None for none
    identity: str | None = None
    #: the generation expression of a computed column
    computed: str | None = None
    persisted: bool | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """A stand-alone index (indexes backing a PK/UNIQUE constraint are compared as the constraint)."""

    name: str
    unique: bool
    #: keys in order: column names, or the server's text of an expression
    columns: tuple[str, ...]
    #: the server's text of everything that makes the index what it is (method, keys, opclasses,
    #: INCLUDE, predicate); two indexes with the same definition are the same index
    definition: str


@dataclass(frozen=True, slots=True)
class ConstraintInfo:
    name: str
    kind: ConstraintKind
    columns: tuple[str, ...]
    #: the server's text of the constraint (CHECK expression, FK clause with its actions)
    definition: str
    referred_schema: str | None = None
    referred_table: str | None = None
    referred_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None


@dataclass(frozen=True, slots=True)
class TableInfo:
    schema: str
    name: str
    columns: tuple[ColumnInfo, ...]
    indexes: tuple[IndexInfo, ...] = ()
    constraints: tuple[ConstraintInfo, ...] = ()
    comment: str | None = None

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)

    def column(self, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, slots=True)
class EnumInfo:
    """A named enum type (PostgreSQL); dialects with inline enums report none."""

    schema: str
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Catalog:
    """What one read of the catalog found in the schemas asked for."""

    schemas: frozenset[str]
    tables: Mapping[TableKey, TableInfo] = field(default_factory=dict)
    enums: Mapping[TableKey, EnumInfo] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TableStats:
    """Enough about a table's contents to classify a change: estimated rows, and whether any exist."""

    rows: int
    populated: bool


@dataclass(frozen=True, slots=True)
class Scratch:
    """Scratch space on the server: where the desired schema is rendered, then read and thrown away.

    ``connection`` is where to create it; ``schema_map`` is SQLAlchemy's
    ``schema_translate_map`` (MetaData schema -> scratch schema); ``real`` maps each scratch
    schema name back to the real one.
    """

    connection: Any
    schema_map: Mapping[str | None, str | None]
    real: Mapping[str, str]
    #: real schemas whose objects the scratch side spells unqualified (PostgreSQL's ``pg_temp``
    #: is always searched): the normalizer drops their qualifier on both sides
    unqualified: frozenset[str] = frozenset()


class SchemaProvider(abc.ABC):
    """Reads one SQL dialect's catalog; instances are stateless and cheap.

    Connections passed in are SQLAlchemy ``Connection`` objects of that dialect.
    """

    #: the SQLAlchemy dialect name this provider reads (``"postgresql"``, ``"mysql"``, ...)
    PLUGIN_NAME: ClassVar[str]
    #: DDL runs inside a transaction that can roll it back (False: MySQL/MariaDB)
    transactional_ddl: ClassVar[bool] = True
    #: indexes can be built outside a transaction without blocking writes (PostgreSQL)
    concurrent_indexes: ClassVar[bool] = False
    #: the driver runs several ``;``-separated DDL statements in one call (one round trip)
    batch_ddl: ClassVar[bool] = True

    @abc.abstractmethod
    def default_schema(self, conn: Any) -> str:
        """The schema unqualified names land in (``public``, the current database, ``main``, ``dbo``)."""

    @abc.abstractmethod
    def read_catalog(self, conn: Any, schemas: Collection[str], tables: Collection[str] | None = None) -> Catalog:
        """Tables, columns, indexes, constraints and enums of ``schemas`` in a fixed number of queries.

        ``tables`` limits the tables read (by name); None reads every table of the schemas.
        """

    @abc.abstractmethod
    def scratch(self, conn: Any, schemas: Collection[str | None]) -> AbstractContextManager[Scratch]:
        """Scratch space for ``schemas`` (MetaData schema names; None = the default schema).

        Whatever is created there is gone when the context exits, also on an error.
        """

    @abc.abstractmethod
    def table_stats(self, conn: Any, tables: Collection[TableKey]) -> dict[TableKey, TableStats]:
        """Estimated rows and whether any row exists, for the tables a plan changes."""

    @abc.abstractmethod
    def columns_with_nulls(self, conn: Any, columns: Collection[tuple[TableKey, str]]) -> set[tuple[TableKey, str]]:
        """Which of ``columns`` hold a NULL (a NOT NULL added there cannot succeed)."""

    @abc.abstractmethod
    def same_values(self, conn: Any, pairs: Sequence[tuple[str, str, str]]) -> list[bool]:
        """For each ``(default, default, column type)``, whether the server evaluates both to one value."""

    @abc.abstractmethod
    def apply_lock(self, conn: Any, key: str, timeout: float) -> AbstractContextManager[None]:
        """Hold a server-side lock serializing applies on ``key``; raise on ``timeout`` seconds."""

    def begin_apply(  # noqa: B027 - an optional hook: most dialects have no per-transaction limits
        self, conn: Any, lock_timeout: float | None, statement_timeout: float | None
    ) -> None:
        """Set per-transaction limits for the DDL about to run (PostgreSQL: ``SET LOCAL``)."""
