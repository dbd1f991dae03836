"""Adapters giving a one-sided plugin the other side (thread offload / blocking portal)."""

from storeroom.adapters.database import AsyncDatabaseFromSync, SyncDatabaseFromAsync
from storeroom.adapters.portal import BlockingPortal
from storeroom.adapters.storage import AsyncStorageFromSync, SyncStorageFromAsync

__all__ = [
    "AsyncDatabaseFromSync",
    "AsyncStorageFromSync",
    "BlockingPortal",
    "SyncDatabaseFromAsync",
    "SyncStorageFromAsync",
]
