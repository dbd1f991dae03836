"""SDK exceptions -> storeroom errors (exceptions built directly; no service involved)."""

from __future__ import annotations

import pytest
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
from storeroom.redaction import register_secret
from storeroom_azure._errors import ErrorContext

CTX = ErrorContext("files", "https://acct.blob.core.windows.net")


def _sdk(cls: type[AzureError], code: str | None = None, status: int | None = None) -> AzureError:
    exc = cls(message=f"{code} happened")
    if code is not None:
        exc.error_code = code  # type: ignore[attr-defined]
    if status is not None:
        exc.status_code = status  # type: ignore[attr-defined]
    return exc


@pytest.mark.parametrize(
    ("exc", "create_only", "expected", "text"),
    [
        (_sdk(ResourceNotFoundError, "BlobNotFound", 404), False, ObjectNotFoundError, "no object under key 'k'"),
        (_sdk(ResourceNotFoundError, "CannotVerifyCopySource", 404), False, ObjectNotFoundError, "'k'"),
        (_sdk(ResourceNotFoundError, "ContainerNotFound", 404), False, StorageError, "container 'files' does not"),
        (_sdk(ResourceExistsError, "BlobAlreadyExists", 409), True, ObjectExistsError, "already exists"),
        (_sdk(ResourceModifiedError, "ConditionNotMet", 412), True, ObjectExistsError, "already exists"),
        (_sdk(ResourceModifiedError, "ConditionNotMet", 412), False, PreconditionFailedError, "changed"),
        (_sdk(HttpResponseError, "InvalidRange", 416), False, InvalidRangeError, "not satisfiable"),
        (_sdk(ClientAuthenticationError, "AuthenticationFailed", 403), False, StorageError, "authentication"),
        (_sdk(HttpResponseError, "AuthorizationPermissionMismatch", 403), False, StorageError, "authorisation"),
        (_sdk(ServiceRequestError), False, StorageError, "could not reach"),
        (_sdk(ServiceResponseError), False, StorageError, "connection"),
        (_sdk(HttpResponseError, "ServerBusy", 503), False, StorageError, "HTTP 503 ServerBusy"),
        (_sdk(ResourceExistsError, "LeaseIdMissing", 409), False, StorageError, "HTTP 409"),
    ],
)
def test_translation(exc: AzureError, create_only: bool, expected: type[Exception], text: str) -> None:
    got = CTX.translate(exc, "write", "k", create_only=create_only)
    assert type(got) is expected
    assert text in str(got)


def test_context_manager_chains_and_lets_storeroom_errors_pass() -> None:
    original = _sdk(ResourceNotFoundError, "BlobNotFound", 404)
    with pytest.raises(ObjectNotFoundError) as excinfo, CTX.errors("read", "k"):
        raise original
    assert excinfo.value.__cause__ is original and excinfo.value.key == "k"
    mine = ObjectExistsError("mine")
    with pytest.raises(ObjectExistsError) as again, CTX.errors("read", "k"):
        raise mine
    assert again.value is mine
    with pytest.raises(KeyError), CTX.errors("read", "k"):  # not the SDK's: untouched
        raise KeyError("x")


def test_exists_names_the_target_of_a_copy() -> None:
    got = CTX.translate(
        _sdk(ResourceExistsError, "BlobAlreadyExists", 409), "copy", "src", create_only=True, target="dst"
    )
    assert isinstance(got, ObjectExistsError) and got.key == "dst"


def test_messages_are_redacted() -> None:
    secret = "c2VjcmV0LXNhcy1zaWduYXR1cmUtdmFsdWU="
    register_secret(secret)
    ctx = ErrorContext("files", f"https://acct.blob.core.windows.net/?sig={secret}")
    got = ctx.translate(_sdk(ServiceRequestError), "read", "k")
    assert secret not in str(got)
