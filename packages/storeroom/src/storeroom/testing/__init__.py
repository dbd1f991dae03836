"""Conformance suites and test doubles for storeroom backends - ours and third parties'.

Subclass a suite in your plugin's tests and provide its one abstract fixture::

    class TestMyStorage(ObjectStorageConformance):
        @pytest.fixture
        def storage(self, tmp_path):
            return MyStorage(...)

Requires the ``testing`` extra (pytest, pytest-asyncio). Names are imported lazily,
so using the object storage suite never imports the database one (or SQLAlchemy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storeroom.testing.database import AsyncDatabaseConformance, DatabaseConformance
    from storeroom.testing.memory import MemoryObjectStorage
    from storeroom.testing.storage import AsyncObjectStorageConformance, ObjectStorageConformance

__all__ = [
    "AsyncDatabaseConformance",
    "AsyncObjectStorageConformance",
    "DatabaseConformance",
    "MemoryObjectStorage",
    "ObjectStorageConformance",
]

_LAZY = {
    "AsyncDatabaseConformance": "storeroom.testing.database",
    "AsyncObjectStorageConformance": "storeroom.testing.storage",
    "DatabaseConformance": "storeroom.testing.database",
    "MemoryObjectStorage": "storeroom.testing.memory",
    "ObjectStorageConformance": "storeroom.testing.storage",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'storeroom.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
