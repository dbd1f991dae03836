"""storeroom-s3: objects in S3 or any S3-compatible server (the ``s3`` backend)."""

from storeroom_s3.async_storage import AsyncS3Storage
from storeroom_s3.errors import AccessDeniedError, BucketNotFoundError, EndpointUnreachableError
from storeroom_s3.settings import S3StorageSettings
from storeroom_s3.storage import S3Storage

__all__ = [
    "AccessDeniedError",
    "AsyncS3Storage",
    "BucketNotFoundError",
    "EndpointUnreachableError",
    "S3Storage",
    "S3StorageSettings",
]
