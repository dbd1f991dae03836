"""storeroom-azure: objects as block blobs in an Azure Storage container (the ``azure`` backend)."""

from storeroom_azure.async_storage import AsyncAzureBlobStorage
from storeroom_azure.settings import AzureBlobStorageSettings
from storeroom_azure.storage import AzureBlobStorage

__all__ = ["AsyncAzureBlobStorage", "AzureBlobStorage", "AzureBlobStorageSettings"]
