"""SDK errors become storeroom errors (built from real botocore exception objects)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError

from storeroom.errors import (
    InvalidRangeError,
    ObjectExistsError,
    ObjectNotFoundError,
    PreconditionFailedError,
    StorageError,
)
from storeroom_s3 import AccessDeniedError, BucketNotFoundError, EndpointUnreachableError
from storeroom_s3._base import delete_failure
from storeroom_s3._errors import S3Target, s3_errors, translate

TARGET = S3Target("bucket-a", "http://s3.local:9000")


def client_error(code: str, status: int, message: str = "msg", operation: str = "GetObject") -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


@pytest.mark.parametrize(
    ("code", "status", "key", "create_only", "expected"),
    [
        ("NoSuchKey", 404, "k", False, ObjectNotFoundError),
        ("404", 404, "k", False, ObjectNotFoundError),
        ("NoSuchBucket", 404, "k", False, BucketNotFoundError),
        ("404", 404, None, False, BucketNotFoundError),
        ("PreconditionFailed", 412, "k", True, ObjectExistsError),
        ("PreconditionFailed", 412, "k", False, PreconditionFailedError),
        ("InvalidRange", 416, "k", False, InvalidRangeError),
        ("AccessDenied", 403, "k", False, AccessDeniedError),
        ("InvalidAccessKeyId", 403, None, False, AccessDeniedError),
        ("SignatureDoesNotMatch", 403, "k", False, AccessDeniedError),
        ("SlowDown", 503, "k", False, StorageError),
        ("NoSuchUpload", 404, "k", False, StorageError),
        ("InternalError", 500, "k", False, StorageError),
    ],
)
def test_client_errors(code: str, status: int, key: str | None, create_only: bool, expected: type) -> None:
    error = translate(client_error(code, status), "read", key, TARGET, create_only=create_only)
    assert type(error) is expected
    if expected is ObjectNotFoundError:
        assert error.key == key and isinstance(error, FileNotFoundError)


def test_no_such_upload_is_not_a_missing_object() -> None:
    assert not isinstance(translate(client_error("NoSuchUpload", 404), "upload", "k", TARGET), ObjectNotFoundError)


def test_bucket_errors_name_the_bucket() -> None:
    error = translate(client_error("NoSuchBucket", 404), "read", "k", TARGET)
    assert "bucket-a" in str(error) and "create_bucket" in str(error)


def test_transport_errors() -> None:
    unreachable = translate(EndpointConnectionError(endpoint_url="http://s3.local:9000"), "read", "k", TARGET)
    assert isinstance(unreachable, EndpointUnreachableError) and isinstance(unreachable, ConnectionError)
    assert "http://s3.local:9000" in str(unreachable)
    assert isinstance(translate(NoCredentialsError(), "read", "k", TARGET), AccessDeniedError)
    timeout = translate(ReadTimeoutError(endpoint_url="http://s3.local:9000"), "read", "k", TARGET)
    assert type(timeout) is StorageError


def test_context_manager_chains_the_cause_and_passes_others() -> None:
    original = client_error("NoSuchKey", 404)
    with pytest.raises(ObjectNotFoundError) as excinfo, s3_errors("read", "k", TARGET):
        raise original
    assert excinfo.value.__cause__ is original
    mine = ValueError("caller's own")
    with pytest.raises(ValueError, match="caller") as other, s3_errors("read", "k", TARGET):
        raise mine
    assert other.value is mine


def test_messages_are_redacted() -> None:
    leaked = "http://user:hunter22@s3.local/?X-Amz-Signature=abcdef0123"
    error = translate(client_error("InternalError", 500, message=leaked), "read", "k", TARGET)
    assert "hunter22" not in str(error) and "abcdef0123" not in str(error)


def test_delete_failure_lists_keys_and_codes() -> None:
    errors = [(f"k{i}", "AccessDenied", "nope") for i in range(25)]
    error = delete_failure(errors, deleted=3)
    assert isinstance(error, StorageError)
    assert "25 object(s)" in str(error) and "'k0' (AccessDenied)" in str(error) and "5 more" in str(error)
    assert error.failures["k24"] == "AccessDenied"  # type: ignore[attr-defined]
    assert error.deleted == 3  # type: ignore[attr-defined]


def test_delete_errors_map_back_to_store_keys() -> None:
    from storeroom_s3 import S3Storage

    store = S3Storage("bucket-a", prefix="tenant")
    response = {"Errors": [{"Key": "tenant/a/b", "Code": "AccessDenied", "Message": "no"}]}
    assert store._delete_errors(response) == [("a/b", "AccessDenied", "no")]
    request = store._delete_request(["tenant/x"])
    assert request["Delete"] == {"Objects": [{"Key": "tenant/x"}], "Quiet": True}
    assert [len(b) for b in store._delete_batches([f"k{i}" for i in range(2500)])] == [1000, 1000, 500]
