from __future__ import annotations

from typing import Any

import pytest

from storeroom import hookimpl
from storeroom.config.models import StorageSettings
from storeroom.plugins import PluginManager
from storeroom.testing import MemoryObjectStorage


class ConfiguredMemoryStorage(MemoryObjectStorage):
    """MemoryObjectStorage buildable from settings, for registry and policy tests."""

    settings_model = StorageSettings

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> ConfiguredMemoryStorage:
        store = cls()
        store.name = name
        return store


class MemoryPlugin:
    @hookimpl
    def storeroom_register_object_storages(self) -> list[type[Any]]:
        return [ConfiguredMemoryStorage]


@pytest.fixture
def memory_plugins() -> PluginManager:
    """Real entry-point plugins plus an in-memory storage backend named 'memory'."""
    pm = PluginManager()
    pm.register(MemoryPlugin(), name="test-memory")
    return pm
