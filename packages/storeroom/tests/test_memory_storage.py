"""The conformance suites on MemoryObjectStorage, and through the sync -> async adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from storeroom.adapters import AsyncStorageFromSync
from storeroom.testing.memory import MemoryObjectStorage
from storeroom.testing.storage import AsyncObjectStorageConformance, ObjectStorageConformance


class TestMemoryObjectStorage(ObjectStorageConformance):
    @pytest.fixture
    def storage(self) -> Iterator[MemoryObjectStorage]:
        with MemoryObjectStorage() as store:
            yield store


class TestAsyncStorageFromSyncMemory(AsyncObjectStorageConformance):
    @pytest_asyncio.fixture
    async def async_storage(self) -> AsyncIterator[AsyncStorageFromSync]:
        async with AsyncStorageFromSync(MemoryObjectStorage()) as store:
            yield store


def test_memory_is_not_a_registered_plugin() -> None:
    from storeroom.plugins import PluginManager

    assert "memory" not in PluginManager().storages


def test_clear_and_probe() -> None:
    store = MemoryObjectStorage("unit")
    store.write("a", b"x")
    assert store.health_check().details["objects"] == 1
    store.clear()
    assert store.list_keys() == []
    assert repr(store) == "<MemoryObjectStorage 'unit'>"


def test_from_settings_uses_name() -> None:
    assert MemoryObjectStorage.from_settings("files", None).name == "files"
