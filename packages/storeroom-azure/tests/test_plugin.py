"""Registration and construction through the Storeroom (no server needed)."""

from __future__ import annotations

import pytest

from storeroom.errors import ConfigurationError
from storeroom.plugins import PluginManager
from storeroom.room import Storeroom
from storeroom_azure import AsyncAzureBlobStorage, AzureBlobStorage

KEY = "dW5pdC10ZXN0LWtleS1ub3QtYS1yZWFsLW9uZQ=="


def test_registered_under_azure() -> None:
    pm = PluginManager()
    assert pm.storages.get("azure") is AzureBlobStorage
    assert pm.storages.get_async("azure") is AsyncAzureBlobStorage
    assert any(p.name == "azure" and not p.error for p in pm.plugins)


def test_storeroom_builds_both_flavours() -> None:
    settings = {
        "storages": {
            "blobs": {
                "backend": "azure",
                "container": "files",
                "prefix": "app",
                "account_url": "https://acct.blob.core.windows.net",
                "account_key": KEY,
                "block_size": "4 MiB",
            }
        }
    }
    with Storeroom.from_settings(settings, embedded_default=False) as room:
        store = room.storage("blobs")
        assert isinstance(store, AzureBlobStorage)
        assert (store.name, store.container, store.prefix) == ("blobs", "files", "app/")
        assert store.settings.block_size == 4 * 1024 * 1024
        assert isinstance(room.async_storage("blobs"), AsyncAzureBlobStorage)


def test_unknown_setting_is_named() -> None:
    settings = {"storages": {"blobs": {"backend": "azure", "container": "files", "conection_string": "x"}}}
    with pytest.raises(ConfigurationError, match="conection_string"):
        Storeroom.from_settings(settings, embedded_default=False)
