"""storeroom-orm: pydantic models on SQLAlchemy tables, repositories, multi-tenancy by default.

See docs/orm.md. ``storeroom_orm.metadata`` is the one shared MetaData every model's table
lands in; ``storeroom_orm.rls.policies(metadata)`` gives PostgreSQL row-level security.
"""

from storeroom_orm import rls
from storeroom_orm.async_repository import AsyncRepository
from storeroom_orm.cursor import Page
from storeroom_orm.fields import Field, Index
from storeroom_orm.files import StoredFile
from storeroom_orm.filters import F, Filter, OrderBy
from storeroom_orm.ids import uuid7
from storeroom_orm.model import Model, ModelInfo, metadata
from storeroom_orm.repository import Repository
from storeroom_orm.temporal import FieldChange, FieldDiff
from storeroom_orm.tenancy import actor, cross_tenant, current_actor, current_tenants, tenant

__all__ = [
    "AsyncRepository",
    "F",
    "Field",
    "FieldChange",
    "FieldDiff",
    "Filter",
    "Index",
    "Model",
    "ModelInfo",
    "OrderBy",
    "Page",
    "Repository",
    "StoredFile",
    "actor",
    "cross_tenant",
    "current_actor",
    "current_tenants",
    "metadata",
    "rls",
    "tenant",
    "uuid7",
]
