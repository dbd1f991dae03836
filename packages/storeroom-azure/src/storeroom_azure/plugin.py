"""Entry point of the ``azure`` backend (``[project.entry-points.storeroom] azure``)."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl

__all__ = ["storeroom_register_object_storages"]


@hookimpl
def storeroom_register_object_storages() -> list[type[Any]]:
    from storeroom_azure.async_storage import AsyncAzureBlobStorage
    from storeroom_azure.storage import AzureBlobStorage

    return [AzureBlobStorage, AsyncAzureBlobStorage]
