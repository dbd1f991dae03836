"""storeroom errors as HTTP over a real uvicorn: the status, a JSON body, and no secret."""

from collections.abc import Iterator

import httpx
import pytest

from fastapi import FastAPI
from storeroom import errors
from storeroom.redaction import register_secret
from storeroom_fastapi import install_error_handlers, status_for
from storeroom_fastapi.testing import serve

SECRET = "sr-fastapi-secret-5b1f0c"
register_secret(SECRET)

CASES: dict[str, tuple[errors.StoreroomError, int]] = {
    "not-found": (errors.ObjectNotFoundError("no object under 'a.txt'", key="a.txt"), 404),
    "exists": (errors.ObjectExistsError("an object exists under 'a.txt'"), 409),
    "integrity": (errors.IntegrityError("unique constraint violated"), 409),
    "too-large": (errors.ContentTooLargeError("too large", max_size=10), 413),
    "type": (errors.ContentTypeNotAllowedError("not allowed"), 415),
    "tenant-violation": (errors.TenantViolationError("another tenant's row"), 403),
    "tenant-required": (errors.TenantRequiredError("no tenant is set"), 400),
    "bad-key": (errors.InvalidKeyError("bad key"), 400),
    "precondition": (errors.PreconditionFailedError("changed"), 412),
    "unreachable": (
        errors.ConnectionFailedError(f"could not connect to postgresql://app:{SECRET}@db.internal/app"),
        503,
    ),
    "pool": (errors.PoolTimeoutError("no connection within 30 s"), 503),
    "retryable": (errors.TransactionError("deadlock detected", retryable=True), 503),
    "storage-down": (errors.StorageError(f"S3 said AccessDenied for key {SECRET}"), 503),
    "unsupported": (errors.NotSupportedError("no presigned URLs"), 501),
    "query": (errors.QueryError("syntax error at SELECT secret_column FROM internal_table"), 500),
    "compensation": (errors.CompensationError("could not undo", remaining=["files: a.txt"]), 500),
    "config": (errors.ConfigurationError("databases.main.url: invalid"), 500),
}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/raise/{case}")
    async def raise_it(case: str) -> None:
        raise CASES[case][0]

    @app.get("/leak")
    async def leak() -> None:
        raise errors.ObjectNotFoundError(f"no object under 'token={SECRET}'")

    with serve(app) as url:
        yield url


@pytest.mark.parametrize("case", list(CASES))
def test_each_error_is_its_status_with_a_json_body(base_url: str, case: str) -> None:
    exc, status = CASES[case]
    assert status_for(exc) == status
    response = httpx.get(f"{base_url}/raise/{case}")
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == type(exc).__name__
    assert SECRET not in response.text
    if status >= 500:  # the message may name hosts, statements, keys: it stays in the log
        assert body["detail"] in {
            "the database is unavailable",
            "a storage service is unavailable",
            "internal error",
            "not supported by this storage backend",
        }
        assert "db.internal" not in response.text and "internal_table" not in response.text
    else:
        assert body["detail"] == str(exc)
    if status == 503:
        assert response.headers["retry-after"] == "1"


def test_a_client_error_message_is_redacted(base_url: str) -> None:
    response = httpx.get(f"{base_url}/leak")
    assert response.status_code == 404
    assert SECRET not in response.text
