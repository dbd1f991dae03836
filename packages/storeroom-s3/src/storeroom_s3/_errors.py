"""Translate botocore / aiobotocore exceptions into storeroom errors, cause chained.

Only the SDK's own failures are wrapped: the caller's data source is never read
inside :func:`s3_errors`, so its exceptions pass through unchanged.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from storeroom.errors import (
    InvalidRangeError,
    ObjectExistsError,
    ObjectNotFoundError,
    PreconditionFailedError,
    StorageError,
)
from storeroom_s3.errors import AccessDeniedError, BucketNotFoundError, EndpointUnreachableError

__all__ = ["S3Target", "error_code", "missing", "s3_errors", "translate", "transport_errors"]

_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
_DENIED = frozenset(
    {
        "AccessDenied",
        "403",
        "Forbidden",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AllAccessDisabled",
    }
)
_THROTTLED = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "503"})


class S3Target:
    """Where requests go, for messages: bucket and endpoint (never credentials)."""

    def __init__(self, bucket: str, endpoint: str | None) -> None:
        self.bucket = bucket
        self.endpoint = endpoint or "AWS S3"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def missing(key: str) -> ObjectNotFoundError:
    return ObjectNotFoundError(f"no object under key {key!r}", key=key)


def _client_error(exc: ClientError, action: str, key: str | None, target: S3Target, create_only: bool) -> StorageError:
    code = error_code(exc)
    status = _status(exc)
    message = str(exc.response.get("Error", {}).get("Message", "")) or code
    what = f" {key!r}" if key is not None else ""
    if code == "NoSuchBucket" or (key is None and code in _NOT_FOUND):
        return BucketNotFoundError(
            f"bucket {target.bucket!r} does not exist at {target.endpoint} (create it, or set create_bucket = true)",
            bucket=target.bucket,
        )
    if key is not None and (code in _NOT_FOUND or (status == 404 and code != "NoSuchUpload")):
        return missing(key)
    if code == "PreconditionFailed" or status == 412:
        if create_only:
            return ObjectExistsError(f"an object already exists under key {key!r} (create-only write)", key=key)
        return PreconditionFailedError(f"precondition failed for{what}: {message}", key=key)
    if code == "InvalidRange" or status == 416:
        return InvalidRangeError(f"invalid range for{what}: {message}")
    if code in _DENIED or status == 403:
        return AccessDeniedError(
            f"S3 denied {action}{what} in bucket {target.bucket!r} ({code}): check the credentials and their "
            "permissions",
            bucket=target.bucket,
        )
    if code == "NoSuchUpload":
        return StorageError(f"the multipart upload for{what} no longer exists (aborted or expired)", key=key)
    if code in _THROTTLED:
        return StorageError(f"S3 throttled {action}{what} ({code}) after retries; slow down or retry later", key=key)
    return StorageError(f"S3 could not {action}{what}: {code} (HTTP {status}): {message}", key=key)


def translate(
    exc: BaseException, action: str, key: str | None, target: S3Target, *, create_only: bool = False
) -> StorageError:
    if isinstance(exc, ClientError):
        return _client_error(exc, action, key, target, create_only)
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return EndpointUnreachableError(
            f"cannot reach the S3 endpoint {target.endpoint} to {action}: {type(exc).__name__}",
            endpoint=target.endpoint,
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AccessDeniedError(
            "no usable AWS credentials: set access_key_id and secret_access_key, or configure the default chain "
            "(environment, ~/.aws, instance role)",
            bucket=target.bucket,
        )
    if isinstance(exc, (ReadTimeoutError, ConnectionClosedError, *transport_errors())):
        return StorageError(f"the connection to {target.endpoint} failed during {action} ({type(exc).__name__})")
    return StorageError(f"S3 could not {action}{'' if key is None else f' {key!r}'}: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def s3_errors(action: str, key: str | None, target: S3Target, *, create_only: bool = False) -> Iterator[None]:
    """Re-raise SDK exceptions from the body as storeroom errors (storeroom errors pass as they are)."""
    try:
        yield
    except StorageError:
        raise
    except (ClientError, BotoCoreError, *transport_errors()) as exc:
        raise translate(exc, action, key, target, create_only=create_only) from exc


@functools.cache
def transport_errors() -> tuple[type[BaseException], ...]:
    """Errors of the HTTP layer that can escape the SDK while a body streams.

    aiobotocore wraps aiohttp's connection errors but not ``ClientPayloadError``
    (a response body cut short).
    """
    found: list[type[BaseException]] = []
    with contextlib.suppress(ImportError):
        import urllib3.exceptions

        found.append(urllib3.exceptions.HTTPError)
    with contextlib.suppress(ImportError):
        import aiohttp

        found.append(aiohttp.ClientError)
    return tuple(found)
