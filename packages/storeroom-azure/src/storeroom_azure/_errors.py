"""Translate azure-core / azure-storage exceptions into storeroom errors, cause chained.

Only the SDK's exceptions are translated: an exception raised by the caller's own
data source passes through untouched. Messages go through ``storeroom.redact``
(every ``StoreroomError`` does), and never quote the SDK's text, which can hold URLs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from storeroom.errors import (
    InvalidRangeError,
    ObjectExistsError,
    ObjectNotFoundError,
    PreconditionFailedError,
    StorageError,
)

__all__ = ["ErrorContext", "error_code", "status_of"]

_EXISTS_CODES = frozenset({"BlobAlreadyExists", "ConditionNotMet", "TargetConditionNotMet"})
_AUTH_CODES = frozenset(
    {
        "AuthenticationFailed",
        "AuthorizationFailure",
        "AuthorizationPermissionMismatch",
        "InsufficientAccountPermissions",
    }
)


def error_code(exc: BaseException) -> str | None:
    code = getattr(exc, "error_code", None)
    return str(code.value if hasattr(code, "value") else code) if code else None


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return int(status) if status is not None else None


@dataclass(frozen=True)
class ErrorContext:
    """What a store knows for its messages: which container, on which endpoint."""

    container: str
    endpoint: str

    def translate(
        self, exc: AzureError, action: str, key: str | None, *, create_only: bool = False, target: str | None = None
    ) -> StorageError:
        code, status = error_code(exc), status_of(exc)
        what = f" {key!r}" if key is not None else ""
        if code == "ContainerNotFound":
            return StorageError(
                f"could not {action}{what}: container {self.container!r} does not exist at {self.endpoint}; "
                "create it or set create_container = true",
                key=key,
            )
        if create_only and (code in _EXISTS_CODES or status == 412 or isinstance(exc, ResourceExistsError)):
            shown = target if target is not None else key
            return ObjectExistsError(f"an object already exists under key {shown!r}", key=shown)
        if isinstance(exc, ResourceNotFoundError) or status == 404:
            return ObjectNotFoundError(f"no object under key {key!r}", key=key)
        if status == 416 or code == "InvalidRange":
            return InvalidRangeError(f"could not {action}{what}: the range is not satisfiable")
        if isinstance(exc, ResourceModifiedError) or status == 412:
            return PreconditionFailedError(
                f"could not {action}{what}: the object changed while it was being read or written; try again",
                key=key,
            )
        if isinstance(exc, ClientAuthenticationError) or status == 403 or code in _AUTH_CODES:
            return StorageError(
                f"Azure Blob Storage refused to {action}{what} in container {self.container!r}: authentication or "
                f"authorisation failed ({code or status}); check the account key, SAS token (and its permissions "
                "and expiry) or the identity's role",
                key=key,
            )
        if isinstance(exc, ServiceRequestError):
            return StorageError(
                f"could not reach Azure Blob Storage at {self.endpoint} to {action}{what} ({type(exc).__name__})",
                key=key,
            )
        if isinstance(exc, ServiceResponseError):
            return StorageError(
                f"the connection to {self.endpoint} failed while trying to {action}{what} "
                f"({type(exc).__name__}); nothing was committed",
                key=key,
            )
        if isinstance(exc, HttpResponseError):
            return StorageError(
                f"Azure Blob Storage could not {action}{what}: HTTP {status} {code or ''}".rstrip(), key=key
            )
        return StorageError(f"Azure Blob Storage could not {action}{what} ({type(exc).__name__})", key=key)

    @contextlib.contextmanager
    def errors(
        self, action: str, key: str | None = None, *, create_only: bool = False, target: str | None = None
    ) -> Iterator[None]:
        """Re-raise any SDK exception from the body as a storeroom error (storeroom's own pass)."""
        try:
            yield
        except StorageError:
            raise
        except AzureError as exc:
            raise self.translate(exc, action, key, create_only=create_only, target=target) from exc
