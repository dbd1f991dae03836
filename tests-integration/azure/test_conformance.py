"""The core conformance suites on Azurite, sync and async, with both kinds of key-based config."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from storeroom.testing.storage import AsyncObjectStorageConformance, ObjectStorageConformance
from storeroom_azure import AsyncAzureBlobStorage, AzureBlobStorage

KiB = 1024


class _AzureFlags:
    supports_presigned_urls = True
    listing_page_size = 4  # several pages in every listing test
    concurrency = 32
    block_size = 256 * KiB  # "large" objects (2 MiB) go through staged blocks


class TestAzureBlobStorage(_AzureFlags, ObjectStorageConformance):
    """Connection-string config."""

    @pytest.fixture
    def storage(self, azurite, container: str) -> Iterator[AzureBlobStorage]:
        with AzureBlobStorage(
            container,
            block_size=self.block_size,
            list_page_size=self.listing_page_size,
            name="blobs",
            **azurite.cs_config(),
        ) as store:
            yield store


class TestAzureBlobStorageAccountKey(_AzureFlags, ObjectStorageConformance):
    """account_url + account_key config, one block in flight at a time."""

    @pytest.fixture
    def storage(self, azurite, container: str) -> Iterator[AzureBlobStorage]:
        with AzureBlobStorage(
            container,
            block_size=self.block_size,
            list_page_size=self.listing_page_size,
            max_concurrency=1,
            **azurite.key_config(),
        ) as store:
            yield store


class TestAsyncAzureBlobStorage(_AzureFlags, AsyncObjectStorageConformance):
    """account_url + account_key config."""

    @pytest_asyncio.fixture
    async def async_storage(self, azurite, container: str) -> AsyncIterator[AsyncAzureBlobStorage]:
        async with AsyncAzureBlobStorage(
            container, block_size=self.block_size, list_page_size=self.listing_page_size, **azurite.key_config()
        ) as store:
            yield store


class TestAsyncAzureBlobStorageConnectionString(_AzureFlags, AsyncObjectStorageConformance):
    @pytest_asyncio.fixture
    async def async_storage(self, azurite, container: str) -> AsyncIterator[AsyncAzureBlobStorage]:
        async with AsyncAzureBlobStorage(
            container, block_size=self.block_size, list_page_size=self.listing_page_size, **azurite.cs_config()
        ) as store:
            yield store
