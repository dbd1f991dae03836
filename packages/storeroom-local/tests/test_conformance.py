"""The core conformance suites on the local backend: sync, async, and through both adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from storeroom.adapters import AsyncStorageFromSync, SyncStorageFromAsync
from storeroom.testing.storage import AsyncObjectStorageConformance, ObjectStorageConformance
from storeroom_local import AsyncLocalStorage, LocalStorage


class _LocalFlags:
    supports_presigned_urls = False
    supports_key_as_prefix_folder = False  # a file cannot also be a folder
    concurrency = 32  # the create-only race: 32 writers, one winner


class TestLocalStorage(_LocalFlags, ObjectStorageConformance):
    @pytest.fixture
    def storage(self, root: Path) -> Iterator[LocalStorage]:
        with LocalStorage(root, name="files") as store:
            yield store


class TestLocalStorageNoFsync(_LocalFlags, ObjectStorageConformance):
    @pytest.fixture
    def storage(self, root: Path) -> Iterator[LocalStorage]:
        with LocalStorage(root, fsync=False) as store:
            yield store


class TestAsyncLocalStorage(_LocalFlags, AsyncObjectStorageConformance):
    @pytest_asyncio.fixture
    async def async_storage(self, root: Path) -> AsyncIterator[AsyncLocalStorage]:
        async with AsyncLocalStorage(root) as store:
            yield store


class TestSyncAdapterOverAsyncLocal(_LocalFlags, ObjectStorageConformance):
    """SyncStorageFromAsync (the blocking portal) over the native async backend."""

    @pytest.fixture
    def storage(self, root: Path) -> Iterator[SyncStorageFromAsync]:
        with SyncStorageFromAsync(AsyncLocalStorage(root, fsync=False)) as store:
            yield store


class TestAsyncAdapterOverLocal(_LocalFlags, AsyncObjectStorageConformance):
    """AsyncStorageFromSync (thread offload) over the sync backend."""

    @pytest_asyncio.fixture
    async def async_storage(self, root: Path) -> AsyncIterator[AsyncStorageFromSync]:
        async with AsyncStorageFromSync(LocalStorage(root, fsync=False)) as store:
            yield store
