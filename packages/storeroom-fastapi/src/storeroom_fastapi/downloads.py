"""Streaming an object to the client: validators, conditional requests, ranges, or a redirect.

The body is read from the storage chunk by chunk while it is sent (``read_stream`` for the
whole object, ``read_range`` pieces for ranges), so memory stays bounded whatever the size.
The headers (length, ``ETag``) come from a ``stat`` made first; before the last byte goes out
the object is stat'ed again, and if it changed meanwhile the response is cut short instead of
completed - a client never receives a complete body that mixes two versions, or that its
``ETag`` does not describe.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Literal
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from storeroom import AsyncObjectStorage
from storeroom.errors import InvalidRangeError, NotSupportedError, ObjectNotFoundError, PreconditionFailedError
from storeroom.objects import ObjectInfo
from storeroom_fastapi.errors import error_response
from storeroom_fastapi.ranges import (
    ByteRange,
    http_date,
    if_range_holds,
    matches_if_none_match,
    modified_since,
    multipart_plan,
    parse_range,
    quoted_etag,
)

__all__ = ["content_disposition", "download_response"]

DEFAULT_CHUNK = 1024 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def content_disposition(disposition: Literal["attachment", "inline"], filename: str | None) -> str:
    """``attachment; filename="..."; filename*=UTF-8''...`` (RFC 6266), safe for any file name."""
    if not filename:
        return disposition
    clean = "".join(c for c in filename if c.isprintable() and c not in "\r\n")
    fallback = "".join(c if c.isascii() and c not in '"\\' else "_" for c in clean) or "download"
    value = f'{disposition}; filename="{fallback}"'
    if fallback != clean:
        value += f"; filename*=UTF-8''{quote(clean, safe='')}"
    return value


def _validators(info: ObjectInfo) -> dict[str, str]:
    headers = {"Accept-Ranges": "bytes"}
    if (etag := quoted_etag(info.etag)) is not None:
        headers["ETag"] = etag
    if info.last_modified is not None:
        headers["Last-Modified"] = http_date(info.last_modified)
    return headers


def _not_modified(request: Request, info: ObjectInfo, etag: str | None) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present, else If-Modified-Since (GET/HEAD)."""
    if request.method not in ("GET", "HEAD"):
        return False
    if (inm := request.headers.get("if-none-match")) is not None:
        return matches_if_none_match(inm, etag)
    if (ims := request.headers.get("if-modified-since")) is not None:
        return not modified_since(ims, info.last_modified)
    return False


async def download_response(
    request: Request,
    storage: AsyncObjectStorage,
    key: str,
    *,
    filename: str | None = None,
    disposition: Literal["attachment", "inline"] | None = None,
    presigned: bool = False,
    expires_in: int = 300,
    chunk_size: int = DEFAULT_CHUNK,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The response serving ``key``: 200, 206 (ranges), 304 (not modified), 416, or a redirect.

    ``presigned=True`` redirects (307) to a presigned URL valid ``expires_in`` seconds where
    the backend has them (S3, Azure) - the storage then serves the bytes, ranges and
    validators itself - and streams otherwise. ``filename``/``disposition`` set
    ``Content-Disposition``. A missing object raises ``ObjectNotFoundError`` (404 with
    :func:`~storeroom_fastapi.install_error_handlers`).
    """
    if presigned:
        try:
            url = await storage.presigned_url(key, expires_in=expires_in)
        except NotSupportedError:
            pass
        else:
            return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    info = await storage.stat(key)
    out = {**_validators(info), "X-Content-Type-Options": "nosniff", **(headers or {})}
    if disposition is not None or filename:
        out["Content-Disposition"] = content_disposition(disposition or "attachment", filename)
    etag = out.get("ETag")
    if _not_modified(request, info, etag):
        return Response(status_code=304, headers=out)
    # As stored, set as a header: given as media_type, Starlette would append a charset to text/*
    # types, a claim about bytes it has never seen.
    content_type = info.content_type or DEFAULT_CONTENT_TYPE
    ranges = None
    range_header = request.headers.get("range")
    if range_header is not None and request.method == "GET":
        if_range = request.headers.get("if-range")
        if if_range is None or if_range_holds(if_range, etag, info.last_modified):
            try:
                ranges = parse_range(range_header, info.size)
            except InvalidRangeError as exc:
                return error_response(exc, headers=out)
    head_only = request.method == "HEAD"
    recheck = _recheck(storage, key, etag)
    if ranges is None:
        out["Content-Length"] = str(info.size)
        out["Content-Type"] = content_type
        if head_only:
            return Response(status_code=200, headers=out)
        body = _checked(storage.read_stream(key, chunk_size), info.size, recheck)
        return StreamingResponse(body, status_code=200, headers=out)
    if len(ranges) == 1:
        (only,) = ranges
        out["Content-Range"] = only.content_range(info.size)
        out["Content-Length"] = str(only.length)
        out["Content-Type"] = content_type
        body = _checked(_read_ranges(storage, key, ranges, chunk_size), only.length, recheck)
        return StreamingResponse(body, status_code=206, headers=out)
    plan = multipart_plan(ranges, info.size, content_type, secrets.token_hex(16))
    out["Content-Length"] = str(plan.length)
    out["Content-Type"] = plan.content_type

    async def parts() -> AsyncIterator[bytes]:
        for head, part in plan.parts:
            yield head
            async for chunk in _read_ranges(storage, key, [part], chunk_size):
                yield chunk
        yield plan.tail

    return StreamingResponse(_checked(parts(), plan.length, recheck), status_code=206, headers=out)


async def _read_ranges(
    storage: AsyncObjectStorage, key: str, ranges: list[ByteRange], chunk_size: int
) -> AsyncIterator[bytes]:
    for r in ranges:
        for start in range(r.start, r.end, chunk_size):
            chunk = await storage.read_range(key, start, min(start + chunk_size, r.end))
            if not chunk:
                return  # the object shrank: _checked cuts the response short
            yield chunk


def _recheck(storage: AsyncObjectStorage, key: str, etag: str | None) -> Callable[[], Awaitable[bool]]:
    async def unchanged() -> bool:
        try:
            info = await storage.stat(key)
        except ObjectNotFoundError:
            return False
        return quoted_etag(info.etag) == etag

    return unchanged


async def _checked(
    chunks: AsyncIterator[bytes], expected: int, unchanged: Callable[[], Awaitable[bool]]
) -> AsyncIterator[bytes]:
    """Exactly ``expected`` bytes, the last of them only once the object is known unchanged."""
    sent = 0
    try:
        async for chunk in chunks:
            sent += len(chunk)
            if sent > expected or (sent == expected and not await unchanged()):
                raise PreconditionFailedError("the object changed while it was being sent; the response was cut short")
            yield chunk
            if sent == expected:
                break
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    if sent != expected:
        raise PreconditionFailedError("the object changed while it was being sent; the response was cut short")
