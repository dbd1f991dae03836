"""Conformance suites and test doubles for storeroom backends - ours and third parties'.

Subclass a suite in your plugin's tests and provide its one abstract fixture::

    class TestMyStorage(ObjectStorageConformance):
        @pytest.fixture
        def storage(self, tmp_path):
            return MyStorage(...)

Requires the ``testing`` extra (pytest, pytest-asyncio).
"""

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
