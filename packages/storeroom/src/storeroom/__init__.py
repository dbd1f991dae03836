"""storeroom: one coherent storage layer - databases, object storage, policies, health.

Names are re-exported lazily so ``import storeroom`` stays cheap: it imports no
database driver, SQLAlchemy, cloud SDK, pydantic or Dynaconf until they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from storeroom._version import __version__

if TYPE_CHECKING:
    from storeroom._markers import hookimpl
    from storeroom.database import (
        AsyncDatabaseInterface,
        AsyncTransaction,
        DatabaseInterface,
        Transaction,
    )
    from storeroom.health import HealthResult, HealthStatus
    from storeroom.objects import ObjectInfo
    from storeroom.policy import StoragePolicy
    from storeroom.pool import PoolInfo
    from storeroom.redaction import redact
    from storeroom.refs import StoredObjectRef
    from storeroom.room import Storeroom, from_config
    from storeroom.storage import AsyncObjectStorage, ObjectStorage
    from storeroom.uow import AsyncUnitOfWork, UnitOfWork

__all__ = [
    "AsyncDatabaseInterface",
    "AsyncObjectStorage",
    "AsyncTransaction",
    "AsyncUnitOfWork",
    "DatabaseInterface",
    "HealthResult",
    "HealthStatus",
    "ObjectInfo",
    "ObjectStorage",
    "PoolInfo",
    "StoragePolicy",
    "StoredObjectRef",
    "Storeroom",
    "Transaction",
    "UnitOfWork",
    "__version__",
    "errors",
    "from_config",
    "hookimpl",
    "redact",
]

_LAZY = {
    "AsyncDatabaseInterface": "storeroom.database",
    "AsyncObjectStorage": "storeroom.storage",
    "AsyncTransaction": "storeroom.database",
    "AsyncUnitOfWork": "storeroom.uow",
    "DatabaseInterface": "storeroom.database",
    "HealthResult": "storeroom.health",
    "HealthStatus": "storeroom.health",
    "ObjectInfo": "storeroom.objects",
    "ObjectStorage": "storeroom.storage",
    "PoolInfo": "storeroom.pool",
    "StoragePolicy": "storeroom.policy",
    "StoredObjectRef": "storeroom.refs",
    "Storeroom": "storeroom.room",
    "Transaction": "storeroom.database",
    "UnitOfWork": "storeroom.uow",
    "from_config": "storeroom.room",
    "hookimpl": "storeroom._markers",
    "redact": "storeroom.redaction",
}


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module("storeroom.errors")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'storeroom' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
