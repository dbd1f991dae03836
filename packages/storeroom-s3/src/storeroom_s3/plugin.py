"""Entry point of the ``s3`` backend (``[project.entry-points.storeroom] s3``)."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl

__all__ = ["storeroom_register_object_storages"]


@hookimpl
def storeroom_register_object_storages() -> list[type[Any]]:
    from storeroom_s3.async_storage import AsyncS3Storage
    from storeroom_s3.storage import S3Storage

    return [S3Storage, AsyncS3Storage]
