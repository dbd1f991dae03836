"""storeroom errors as HTTP responses: a status, a JSON body, and no secret.

The table is the contract: a client learns what it can act on (404, 409, 413, 415, 403, 400,
503) and nothing about the servers behind. A 4xx body carries the error's message (already
redacted when the error was made, and redacted again here); a 5xx body says only what kind of
failure it was, and the details go to the log, redacted.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse
from starlette.types import ExceptionHandler

from fastapi import FastAPI, Request
from storeroom import errors, redact
from storeroom.logs import get_logger

__all__ = ["error_response", "install_error_handlers", "status_for"]

logger = get_logger("storeroom_fastapi")

#: most specific first: the first class an error is an instance of decides its status
STATUS: tuple[tuple[type[errors.StoreroomError], int], ...] = (
    (errors.ObjectNotFoundError, 404),
    (errors.ObjectExistsError, 409),
    (errors.IntegrityError, 409),
    (errors.ContentTooLargeError, 413),
    (errors.ContentTypeNotAllowedError, 415),
    (errors.InvalidRangeError, 416),
    (errors.PreconditionFailedError, 412),
    (errors.InvalidKeyError, 400),
    (errors.InvalidMetadataError, 400),
    (errors.TenantViolationError, 403),
    (errors.TenantError, 400),  # no tenant, or a malformed one: the request did not say whose data
    (errors.ConnectionFailedError, 503),
    (errors.PoolTimeoutError, 503),
    (errors.NotSupportedError, 501),
    (errors.StorageError, 503),  # a backend failure (network, permissions) behind a translated error
)


def _public_detail(exc: errors.StoreroomError, status: int) -> str:
    """What a 5xx body says instead of the message, which may name hosts, paths or statements."""
    if status == 501:
        return "not supported by this storage backend"
    if status == 503:
        return (
            "the database is unavailable"
            if isinstance(exc, errors.DatabaseError)
            else "a storage service is unavailable"
        )
    return "internal error"


def status_for(exc: BaseException) -> int:
    """The HTTP status for a storeroom error (500 for anything the table does not name)."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    if isinstance(exc, errors.DatabaseError) and exc.retryable:
        return 503  # a deadlock or serialization failure: the client may simply retry
    return 500


def error_response(exc: errors.StoreroomError, *, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """``{"error": "<class>", "detail": "..."}`` with the status of :func:`status_for`."""
    status = status_for(exc)
    if status >= 500:
        logger.error("%s %s: %s", status, type(exc).__name__, exc, exc_info=exc)
        detail = _public_detail(exc, status)
    else:
        detail = redact(str(exc))
    out = dict(headers or {})
    if status == 503:
        out.setdefault("Retry-After", "1")
    if status == 416 and (size := getattr(exc, "size", None)) is not None:
        out.setdefault("Content-Range", f"bytes */{size}")
    return JSONResponse({"error": type(exc).__name__, "detail": detail}, status_code=status, headers=out)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.StoreroomError)
    return error_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every :class:`storeroom.errors.StoreroomError` an endpoint raises with :func:`error_response`."""
    handler: ExceptionHandler = _handle
    app.add_exception_handler(errors.StoreroomError, handler)
