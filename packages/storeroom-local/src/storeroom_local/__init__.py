"""storeroom-local: objects as plain files under a root folder (the ``local`` backend)."""

from storeroom_local.async_storage import AsyncLocalStorage
from storeroom_local.settings import LocalStorageSettings
from storeroom_local.storage import LocalStorage

__all__ = ["AsyncLocalStorage", "LocalStorage", "LocalStorageSettings"]
