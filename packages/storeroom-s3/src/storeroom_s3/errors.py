"""S3-specific failures, each a :class:`storeroom.errors.StorageError` (catch that family)."""

from __future__ import annotations

from storeroom.errors import StorageError

__all__ = ["AccessDeniedError", "BucketNotFoundError", "EndpointUnreachableError"]


class BucketNotFoundError(StorageError):
    """The configured bucket does not exist (or is not visible to these credentials)."""

    bucket: str | None = None


class AccessDeniedError(StorageError, PermissionError):
    """The credentials are missing, wrong, expired, or lack permission for the request."""

    bucket: str | None = None


class EndpointUnreachableError(StorageError, ConnectionError):
    """The S3 endpoint could not be reached (DNS, refused connection, connect timeout)."""

    endpoint: str | None = None
