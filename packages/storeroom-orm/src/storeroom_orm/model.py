"""``Model``: a pydantic model that is also a SQLAlchemy ``Table``.

Defining ``class Document(Model, table="documents")`` injects the system fields (id,
timestamps, actors; ``tenant_id`` unless ``multi_tenant=False``; ``deleted_at``/``deleted_by``
with ``soft_delete=True``; ``version``/``valid_from``/``valid_to`` with ``temporal="scd2"``),
validates the user fields, and builds ``Document.__table__`` in the shared :data:`metadata`
(or the ``metadata=`` given), with a temporal strategy's table beside it (see
:mod:`storeroom_orm.temporal.tables`). SQLAlchemy renders its DDL for every dialect.
``Document.__orm__`` holds the facts the statement builder needs.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import pydantic
import sqlalchemy as sa
from pydantic import AfterValidator
from pydantic._internal._model_construction import ModelMetaclass

from storeroom.errors import ConfigurationError
from storeroom_orm.fields import ColumnSpec, Index, column_spec
from storeroom_orm.files import is_stored_file
from storeroom_orm.ids import uuid7
from storeroom_orm.temporal import tables
from storeroom_orm.types import Kind, column_type, field_kind, unwrap_optional

__all__ = ["SYSTEM_FIELDS", "Model", "ModelInfo", "Temporal", "metadata"]

Temporal = Literal["none", "copy_on_change", "scd2"]
TEMPORAL_STRATEGIES = ("none", "copy_on_change", "scd2")

#: constraint and index names every dialect accepts and schema sync can compare
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

#: the one shared MetaData every model's table lands in (unless a model names its own)
metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ACTOR_LENGTH = 255
TENANT_LENGTH = 255
#: system fields that may hold NULL (the others are always filled by the repository)
NULLABLE_SYSTEM_FIELDS = frozenset({"created_by", "updated_by", "deleted_at", "deleted_by", "valid_to"})

#: every system field, in column order after ``id`` and the user fields
SYSTEM_FIELDS = (
    "id",
    "tenant_id",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "deleted_at",
    "deleted_by",
    "version",
    "valid_from",
    "valid_to",
)


_ZERO = dt.timedelta(0)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """Aware datetimes become UTC; naive ones are refused (their zone would be a guess).

    Runs for every datetime read too, so the common cases are cheap: already UTC, or a
    zero-offset zone (psycopg's ``Etc/UTC``, pydantic's ``+00:00``) relabelled as UTC.
    """
    if value is None:
        return None
    tz = value.tzinfo
    if tz is dt.UTC:
        return value
    offset = None if tz is None else tz.utcoffset(value)
    if offset is None:
        raise ValueError("naive datetime: pass a timezone-aware datetime (it is stored in UTC)")
    return value.replace(tzinfo=dt.UTC) if offset == _ZERO else value.astimezone(dt.UTC)


UTC_VALIDATOR = AfterValidator(_utc)


@dataclass(eq=False)
class ModelInfo:
    """What one table model is, for the statement builder, codecs, RLS, schema sync and GC."""

    model: type[Model]
    table: sa.Table
    multi_tenant: bool
    soft_delete: bool
    temporal: Temporal
    columns: tuple[str, ...]
    kinds: dict[str, Kind]
    nullable: dict[str, bool]
    user_fields: tuple[str, ...]
    system_fields: tuple[str, ...]
    #: StoredFile fields and the policy each names (None when unnamed)
    files: dict[str, str | None]
    #: user fields whose column has a server default (read back after insert when not given)
    server_defaults: frozenset[str]
    decimal_places: dict[str, int]
    #: scd2: the table of closed versions (``<table>_history``); see storeroom_orm.temporal
    history_table: sa.Table | None = None
    #: copy_on_change: the table of field changes (``<table>_audit``)
    audit_table: sa.Table | None = None
    #: per-dialect compiled state (codecs, statements), filled lazily by statements.py
    cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def schema(self) -> str | None:
        return self.table.schema

    @property
    def qualified_name(self) -> str:
        """``schema.table`` or ``table``: what ``bulk_insert`` takes."""
        return f"{self.schema}.{self.name}" if self.schema else self.name


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _system_annotations(multi_tenant: bool, soft_delete: bool, temporal: Temporal) -> dict[str, tuple[Any, Any]]:
    fields: dict[str, tuple[Any, Any]] = {}
    if multi_tenant:
        fields["tenant_id"] = (str | None, pydantic.Field(None, max_length=TENANT_LENGTH))
    fields["created_at"] = (dt.datetime | None, None)
    fields["updated_at"] = (dt.datetime | None, None)
    fields["created_by"] = (str | None, None)
    fields["updated_by"] = (str | None, None)
    if soft_delete:
        fields["deleted_at"] = (dt.datetime | None, None)
        fields["deleted_by"] = (str | None, None)
    if temporal == "scd2":
        fields["version"] = (int | None, None)
        fields["valid_from"] = (dt.datetime | None, None)
        fields["valid_to"] = (dt.datetime | None, None)
    return fields


class ModelMeta(ModelMetaclass):
    """Injects the system fields before pydantic builds the class, then builds the table."""

    def __new__(
        mcs,
        cls_name: str,
        bases: tuple[type[Any], ...],
        namespace: dict[str, Any],
        *,
        table: str | None = None,
        schema: str | None = None,
        multi_tenant: bool = True,
        soft_delete: bool = False,
        temporal: Temporal = "none",
        metadata: sa.MetaData | None = None,
        **kwargs: Any,
    ) -> Any:
        for base in bases:
            if getattr(base, "__orm__", None) is not None:
                raise ConfigurationError(
                    f"{cls_name} subclasses the table model {base.__name__}: share fields through a "
                    "Model subclass without table= instead"
                )
        if table is None:
            return super().__new__(mcs, cls_name, bases, namespace, **kwargs)
        if temporal not in TEMPORAL_STRATEGIES:
            raise ConfigurationError(f"{cls_name}: temporal must be one of {', '.join(TEMPORAL_STRATEGIES)}")
        annotations = dict(namespace.get("__annotations__", {}))
        inherited = {name for base in bases for name in getattr(base, "model_fields", {})}
        clash = sorted((set(annotations) | inherited) & set(SYSTEM_FIELDS))
        if clash:
            raise ConfigurationError(
                f"{cls_name}: {', '.join(clash)} {'is a system field' if len(clash) == 1 else 'are system fields'} "
                "(injected by storeroom_orm); rename the field"
            )
        system = _system_annotations(bool(multi_tenant), bool(soft_delete), temporal)
        namespace["__annotations__"] = {
            "id": uuid.UUID,
            **annotations,
            **{name: annotation for name, (annotation, _) in system.items()},
        }
        namespace["id"] = pydantic.Field(default_factory=uuid7)
        for name, (_, default) in system.items():
            namespace[name] = default
        # pydantic takes its caller's frame for forward references, which here is this
        # metaclass; the class body's own namespace is the frame above it
        defining = sys._getframe(1).f_locals
        cls = super().__new__(mcs, cls_name, bases, namespace, **kwargs)
        _require_utc(cls, defining)
        target = metadata if metadata is not None else globals()["metadata"]
        info = _build_info(cls, table, schema, bool(multi_tenant), bool(soft_delete), temporal, target)
        cls.__orm__ = info  # type: ignore[attr-defined]
        cls.__table__ = info.table  # type: ignore[attr-defined]
        return cls


def _require_utc(cls: Any, defining: dict[str, Any]) -> None:
    """Every datetime field refuses naive values and holds UTC (one rebuild at definition).

    The rebuild also resolves annotations that name types local to the defining function
    (``from __future__ import annotations``), which pydantic could not see from here.
    """
    if not cls.__pydantic_complete__:
        cls.model_rebuild(force=True, _types_namespace=defining)
    changed = False
    for info in cls.model_fields.values():
        base, _ = unwrap_optional(info.annotation)
        if isinstance(base, type) and issubclass(base, dt.datetime) and UTC_VALIDATOR not in info.metadata:
            info.metadata.append(UTC_VALIDATOR)
            changed = True
    if changed:
        cls.model_rebuild(force=True, _types_namespace=defining)
    for info in cls.model_fields.values():  # the rebuild may make new FieldInfos: check it held
        base, _ = unwrap_optional(info.annotation)
        if isinstance(base, type) and issubclass(base, dt.datetime) and UTC_VALIDATOR not in info.metadata:
            raise ConfigurationError(f"{cls.__name__}: could not attach the UTC check to its datetime fields")


def _fk_target(spec: ColumnSpec) -> tuple[str, str]:
    assert spec.foreign_key is not None
    target, dot, column = spec.foreign_key.rpartition(".")
    if not dot or not target or not column:
        raise ConfigurationError(f"foreign_key {spec.foreign_key!r} must be 'table.column' or 'schema.table.column'")
    return target, column


def _build_info(
    cls: Any,
    table_name: str,
    schema: str | None,
    multi_tenant: bool,
    soft_delete: bool,
    temporal: Temporal,
    md: sa.MetaData,
) -> ModelInfo:
    if not isinstance(table_name, str) or not table_name:
        raise ConfigurationError(f"{cls.__name__}: table must be a non-empty string")
    key = f"{schema}.{table_name}" if schema else table_name
    if key in md.tables:
        raise ConfigurationError(f"{cls.__name__}: table {key!r} is already defined in this MetaData")
    columns: list[sa.Column[Any]] = []
    constraints: list[Any] = []
    kinds: dict[str, Kind] = {}
    nullable: dict[str, bool] = {}
    files: dict[str, str | None] = {}
    server_defaults: set[str] = set()
    places: dict[str, int] = {}
    user_fields: list[str] = []
    pk_fields: list[str] = []
    current_uniques: list[tuple[str, ...]] = []
    system_names = set(SYSTEM_FIELDS)
    for name, info in cls.model_fields.items():
        spec = column_spec(info)
        kind = field_kind(info.annotation, info.metadata)
        _, optional = unwrap_optional(info.annotation)
        kinds[name] = kind
        if is_stored_file(info.annotation, info.metadata):
            files[name] = spec.policy
        elif spec.policy is not None:
            raise ConfigurationError(f"{cls.__name__}.{name}: policy= is for StoredFile fields")
        if name in system_names:
            nullable[name] = name in NULLABLE_SYSTEM_FIELDS
            columns.append(_system_column(name, kind))
            continue
        user_fields.append(name)
        nullable[name] = optional
        indexed = spec.index or spec.unique or spec.primary_key or spec.foreign_key is not None
        sa_type = column_type(kind, info.annotation, spec, indexed)
        if kind == "decimal":
            places[name] = getattr(sa_type, "scale", None) or 0
        server_default = spec.server_default
        if server_default is not None:
            server_defaults.add(name)
            if not isinstance(server_default, str | sa.sql.ClauseElement):
                server_default = str(server_default)
        columns.append(sa.Column(name, sa_type, nullable=optional, server_default=server_default, comment=spec.comment))
        if spec.primary_key:
            pk_fields.append(name)
        tenant_cols = ["tenant_id"] if multi_tenant else []
        if spec.unique and temporal == "scd2":
            current_uniques.append((*tenant_cols, name))  # among current versions only (below)
        elif spec.unique:
            constraints.append(sa.UniqueConstraint(*tenant_cols, name))
        if spec.index and not spec.unique:
            constraints.append(sa.Index(None, *tenant_cols, name))
        if spec.check:
            constraints.append(sa.CheckConstraint(spec.check, name=name))
        if spec.foreign_key:
            constraints.append(_foreign_key(cls.__name__, name, spec, multi_tenant, key, md))
    # id is the primary key unless user fields claim it (then id stays unique)
    id_column = next(c for c in columns if c.name == "id")
    if pk_fields and temporal == "scd2":
        raise ConfigurationError(
            f"{cls.__name__}: an scd2 model is keyed by id (versions share it); make {', '.join(pk_fields)} "
            "unique=True instead (unique among current versions)"
        )
    if pk_fields:
        constraints.append(sa.PrimaryKeyConstraint(*pk_fields))
        constraints.append(sa.UniqueConstraint("id"))
    else:
        id_column.primary_key = True
    if multi_tenant:
        # composite foreign keys from other tenant tables reference (tenant_id, id)
        constraints.append(sa.UniqueConstraint("tenant_id", "id"))
    indexes = tuple(getattr(cls, "__indexes__", ()))
    if temporal == "scd2":
        columns += tables.scd2_columns(bool(current_uniques) or any(getattr(i, "unique", False) for i in indexes))
        constraints += tables.scd2_constraints()
    table = sa.Table(table_name, md, *columns, *constraints, schema=schema)
    for index in indexes:
        _add_index(cls.__name__, table, index, multi_tenant, temporal)
    for unique in current_uniques:
        tables.current_unique(table, unique)
    ordered = tuple(c.name for c in columns if c.name not in tables.GENERATED)
    info = ModelInfo(
        model=cls,
        table=table,
        multi_tenant=multi_tenant,
        soft_delete=soft_delete,
        temporal=temporal,
        columns=ordered,
        kinds=kinds,
        nullable=nullable,
        user_fields=tuple(user_fields),
        system_fields=tuple(c for c in ordered if c in system_names),
        files=files,
        server_defaults=frozenset(server_defaults),
        decimal_places=places,
    )
    if temporal == "scd2":
        info.history_table = tables.history_table(table, ordered)
    elif temporal == "copy_on_change":
        info.audit_table = tables.audit_table(table, multi_tenant)
    table.info["storeroom_orm"] = info
    return info


def _system_column(name: str, kind: Kind) -> sa.Column[Any]:
    if name == "id":
        return sa.Column("id", sa.Uuid(), nullable=False)
    if name == "tenant_id":
        return sa.Column("tenant_id", sa.String(TENANT_LENGTH), nullable=False)
    if name == "version":
        return sa.Column("version", sa.BigInteger(), nullable=False)
    if kind == "datetime":
        return sa.Column(
            name, column_type("datetime", dt.datetime, ColumnSpec(), False), nullable=name in NULLABLE_SYSTEM_FIELDS
        )
    return sa.Column(name, sa.String(ACTOR_LENGTH), nullable=True)


def _foreign_key(
    model: str, name: str, spec: ColumnSpec, multi_tenant: bool, own_key: str, md: sa.MetaData
) -> sa.ForeignKeyConstraint:
    target, column = _fk_target(spec)
    if target == own_key:
        tenant_target = multi_tenant
    elif target in md.tables:
        tenant_target = "tenant_id" in md.tables[target].c
    else:  # defined later: assume a tenant table (fail closed; a wrong guess fails loudly at DDL)
        tenant_target = multi_tenant
    if multi_tenant and tenant_target:
        if spec.on_delete in ("SET NULL", "SET DEFAULT"):
            raise ConfigurationError(
                f"{model}.{name}: on_delete={spec.on_delete!r} would also clear tenant_id in the composite "
                "(tenant_id, ...) foreign key between tenant tables; use CASCADE, RESTRICT or NO ACTION"
            )
        return sa.ForeignKeyConstraint(
            ["tenant_id", name], [f"{target}.tenant_id", f"{target}.{column}"], ondelete=spec.on_delete
        )
    return sa.ForeignKeyConstraint([name], [f"{target}.{column}"], ondelete=spec.on_delete)


def _add_index(model: str, table: sa.Table, index: Index, multi_tenant: bool, temporal: Temporal) -> None:
    if not isinstance(index, Index):
        raise ConfigurationError(f"{model}.__indexes__ takes storeroom_orm.Index(...) items, got {index!r}")
    names = list(index.columns)
    if index.unique and multi_tenant and "tenant_id" not in names:
        names.insert(0, "tenant_id")  # uniques are per tenant
    if index.unique and temporal == "scd2":
        if index.using or index.include:
            raise ConfigurationError(f"{model}: a unique index of an scd2 model takes no using= or include=")
        tables.current_unique(table, tuple(names), index.name, index.where)
        return
    parts = [table.c[c] if c in table.c else sa.text(c) for c in names]
    options: dict[str, Any] = {}
    if index.where:
        for dialect in ("postgresql", "sqlite", "mssql"):
            options[f"{dialect}_where"] = sa.text(index.where)
    if index.using:
        options["postgresql_using"] = index.using
    if index.include:
        options["postgresql_include"] = list(index.include)
    made = sa.Index(index.name, *parts, unique=index.unique, _table=table, **options)
    if index.using or index.include:
        made.ddl_if(dialect="postgresql")  # an access method or INCLUDE list means PostgreSQL's index


class Model(pydantic.BaseModel, metaclass=ModelMeta):
    """Base of every table model (see the module doc). Subclass without ``table=`` to share fields."""

    model_config = pydantic.ConfigDict(validate_assignment=False, extra="forbid")

    __orm__: ClassVar[ModelInfo | None] = None
    __table__: ClassVar[sa.Table]
    __indexes__: ClassVar[tuple[Index, ...]] = ()

    if TYPE_CHECKING:  # injected per table model (see SYSTEM_FIELDS); declared here for type checkers
        id: uuid.UUID
        tenant_id: str | None
        created_at: dt.datetime | None
        updated_at: dt.datetime | None
        created_by: str | None
        updated_by: str | None
        deleted_at: dt.datetime | None
        deleted_by: str | None
        version: int | None
        valid_from: dt.datetime | None
        valid_to: dt.datetime | None
