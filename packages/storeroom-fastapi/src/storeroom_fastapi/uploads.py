"""Uploads streamed through an upload policy, refused before anything is stored when they can be.

``upload_body`` sends the raw request body (``PUT /files/x`` with the bytes as the body)
straight from the socket to the storage: no temporary copy, memory bounded by the server's
receive buffer and the storage's block size. The content type and a declared
``Content-Length`` are checked first, so a refused upload (415, 413) is answered before a
byte of it is read; a body without a length (chunked) is counted as it streams and refused
the moment it passes ``max_size``, and the storage drops what it had received (nothing
appears under any key).

``upload_file`` takes a FastAPI ``UploadFile``. Starlette has already spooled that part to a
temporary file (in memory up to 1 MiB, then on disk) while parsing the form, before the
endpoint runs; from there it is streamed to the storage. For multipart forms without that
copy, see :func:`storeroom_fastapi.upload_form`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from storeroom.errors import ContentTooLargeError, ContentTypeNotAllowedError

if TYPE_CHECKING:
    from fastapi import UploadFile
    from storeroom import AsyncUnitOfWork, StoragePolicy, StoredObjectRef

__all__ = ["check_upload", "declared_length", "store", "upload_body", "upload_file"]

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[\x20-\x7e\t]*)?")


def declared_length(request: Request) -> int | None:
    """The request's ``Content-Length``, or None when it has none (a chunked body)."""
    value = request.headers.get("content-length")
    if value is None or not value.isdigit():  # the server refuses malformed lengths itself
        return None
    return int(value)


def check_upload(policy: StoragePolicy, *, content_type: str | None, filename: str | None, length: int | None) -> str:
    """Refuse what the policy would refuse, before any byte is read; the content type to store.

    Raises ``ContentTypeNotAllowedError`` (415) for a malformed or disallowed type and
    ``ContentTooLargeError`` (413) for a declared length over ``max_size``.
    """
    if content_type is not None and not _MEDIA_TYPE.fullmatch(content_type.strip()):
        raise ContentTypeNotAllowedError("the content type is not a media type like 'image/png'", content_type=None)
    resolved = policy.resolve_content_type(content_type.strip() if content_type else None, filename)
    if length is not None and policy.max_size is not None and length > policy.max_size:
        raise ContentTooLargeError(
            f"content of {length} bytes exceeds max_size of {policy.max_size} bytes of policy {policy.name!r}; "
            "nothing was stored",
            max_size=policy.max_size,
        )
    return resolved


async def store(
    policy: StoragePolicy,
    data: Any,
    *,
    uow: AsyncUnitOfWork | None,
    filename: str | None,
    content_type: str,
    key: str | None,
) -> StoredObjectRef:
    """``policy.aput``, or ``uow.upload`` so the object is undone with the request's unit."""
    if uow is not None:
        return await uow.upload(policy, data, filename=filename, content_type=content_type, key=key)
    return await policy.aput(data, filename=filename, content_type=content_type, key=key)


async def upload_body(
    request: Request,
    policy: StoragePolicy,
    *,
    uow: AsyncUnitOfWork | None = None,
    filename: str | None = None,
    content_type: str | None = None,
    key: str | None = None,
) -> StoredObjectRef:
    """Store the raw request body through ``policy``; a ``StoredObjectRef`` to keep in a row.

    ``content_type`` defaults to the request's ``Content-Type`` (else guessed from
    ``filename``); ``key`` places the object under the policy's prefix (default: a generated,
    create-only key). With ``uow`` the object is a step of that unit of work.
    """
    ctype = request.headers.get("content-type") if content_type is None else content_type
    length = declared_length(request)
    return await _checked(policy, request.stream(), uow, filename, ctype, length, key)


async def upload_file(
    file: UploadFile,
    policy: StoragePolicy,
    *,
    uow: AsyncUnitOfWork | None = None,
    filename: str | None = None,
    content_type: str | None = None,
    key: str | None = None,
) -> StoredObjectRef:
    """Store a FastAPI ``UploadFile`` through ``policy`` (its name and type unless given)."""
    name = file.filename if filename is None else filename
    ctype = file.content_type if content_type is None else content_type
    await file.seek(0)
    return await _checked(policy, file, uow, name, ctype, file.size, key)


async def _checked(
    policy: StoragePolicy,
    data: Any,
    uow: AsyncUnitOfWork | None,
    filename: str | None,
    content_type: str | None,
    length: int | None,
    key: str | None,
) -> StoredObjectRef:
    ctype = check_upload(policy, content_type=content_type, filename=filename, length=length)
    return await store(policy, data, uow=uow, filename=filename, content_type=ctype, key=key)
