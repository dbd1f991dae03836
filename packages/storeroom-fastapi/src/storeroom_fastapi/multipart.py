"""``multipart/form-data`` uploads streamed part by part: the file goes to the storage as it arrives.

FastAPI's ``UploadFile`` is convenient, but Starlette parses the whole form before the endpoint
runs and spools each file to a temporary file. :func:`upload_form` instead reads the request
body itself with python-multipart's push parser (the one Starlette uses) and hands the bytes of
the file part to the policy while they arrive: no temporary copy, memory bounded by one body
chunk. The other fields are small text values, collected up to a limit.

What it accepts: one file part named ``field`` (the first such part; a second file is refused
with 400), and up to ``max_fields`` text fields of ``max_field_size`` bytes each, before or
after it. A declared ``Content-Length`` larger than the policy's ``max_size`` plus what the
fields and part headers may take is refused with 413 before anything is read; otherwise the
file is counted while it streams. A body cut short (a client that disconnected) stores nothing.
When anything fails after the file was stored - a bad field after it, a second file - the file
is deleted again (or, in a unit of work, undone with the unit).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from fastapi import HTTPException
from storeroom.errors import ContentTooLargeError
from storeroom_fastapi.uploads import check_upload, declared_length, store

if TYPE_CHECKING:
    from storeroom import AsyncUnitOfWork, StoragePolicy, StoredObjectRef

__all__ = ["FormUpload", "upload_form"]

MAX_HEADER_COUNT = 8
MAX_HEADER_SIZE = 1024
#: what one part may add besides its value: the boundary line and its headers
_PART_OVERHEAD = 300 + MAX_HEADER_COUNT * (MAX_HEADER_SIZE + 2)


@dataclass(frozen=True)
class FormUpload:
    """The stored file's reference and the form's text fields."""

    ref: StoredObjectRef
    fields: dict[str, str] = field(default_factory=dict)


def _malformed(message: str) -> HTTPException:
    return HTTPException(400, detail=f"malformed multipart body: {message}")


class _Parts:
    """Feeds the body to the push parser and hands out its events in order, one chunk at a time:
    ``("headers", {name: value})``, ``("data", bytes)``, ``("end", None)``."""

    def __init__(self, request: Request, boundary: bytes) -> None:
        self._body = request.stream().__aiter__()
        self._events: deque[tuple[str, Any]] = deque()
        self._name = bytearray()
        self._value = bytearray()
        self._headers: dict[str, str] = {}
        self.complete = False
        callbacks: Any = {
            "on_part_begin": self._headers.clear,
            "on_header_field": lambda data, start, end: self._header_part(self._name, data[start:end]),
            "on_header_value": lambda data, start, end: self._header_part(self._value, data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": lambda: self._events.append(("headers", dict(self._headers))),
            "on_part_data": lambda data, start, end: self._events.append(("data", bytes(data[start:end]))),
            "on_part_end": lambda: self._events.append(("end", None)),
            "on_end": self._end,
        }
        self._parser = MultipartParser(boundary, callbacks)

    def _header_part(self, into: bytearray, data: bytes) -> None:
        into.extend(data)
        if len(self._name) + len(self._value) > MAX_HEADER_SIZE:
            raise _malformed(f"a part header longer than {MAX_HEADER_SIZE} bytes")

    def _header_end(self) -> None:
        if len(self._headers) >= MAX_HEADER_COUNT:
            raise _malformed(f"more than {MAX_HEADER_COUNT} headers in a part")
        self._headers[self._name.decode("latin-1").lower()] = self._value.decode("latin-1")
        self._name.clear()
        self._value.clear()

    def _end(self) -> None:
        self.complete = True

    async def next(self) -> tuple[str, Any] | None:
        """The next event; None after the closing boundary. A body cut short raises 400."""
        while not self._events:
            if self.complete:
                return None
            try:
                chunk = await self._body.__anext__()
            except StopAsyncIteration:
                raise _malformed("the body ended before the closing boundary") from None
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise _malformed(str(exc)) from None
        return self._events.popleft()

    async def value(self, limit: int, name: str) -> bytes:
        """A part's whole value, refused (413) past ``limit`` bytes."""
        out = bytearray()
        while (event := await self.next()) is not None and event[0] == "data":
            out += event[1]
            if len(out) > limit:
                raise ContentTooLargeError(f"form field {name!r} exceeds {limit} bytes", max_size=limit)
        return bytes(out)

    async def file_data(self) -> AsyncIterator[bytes]:
        while (event := await self.next()) is not None and event[0] == "data":
            yield event[1]


def _disposition(headers: dict[str, str]) -> tuple[str | None, str | None]:
    kind, options = parse_options_header(headers.get("content-disposition", ""))
    if kind != b"form-data":
        return None, None
    name, filename = options.get(b"name"), options.get(b"filename")
    return (
        name.decode("utf-8", "replace") if name is not None else None,
        filename.decode("utf-8", "replace") if filename is not None else None,
    )


async def upload_form(
    request: Request,
    policy: StoragePolicy,
    *,
    field: str = "file",
    uow: AsyncUnitOfWork | None = None,
    key: str | None = None,
    max_fields: int = 16,
    max_field_size: int = 16 * 1024,
) -> FormUpload:
    """Store the file part ``field`` of a ``multipart/form-data`` request through ``policy``, streaming.

    The file's name and type come from its part; the refusals are those of
    :func:`~storeroom_fastapi.upload_body` (415 for the type before any of the file is read,
    413 for the size) plus 400 for a malformed form.
    """
    kind, options = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data":
        raise HTTPException(415, detail="expected a multipart/form-data body")
    boundary = options.get(b"boundary")
    if not boundary:
        raise _malformed("no boundary in the Content-Type")
    length = declared_length(request)
    if length is not None and policy.max_size is not None:
        allowance = policy.max_size + (max_fields + 1) * _PART_OVERHEAD + max_fields * max_field_size
        if length > allowance:
            raise ContentTooLargeError(
                f"a form of {length} bytes exceeds what policy {policy.name!r} accepts "
                f"({policy.max_size} bytes of file and {max_fields} fields of {max_field_size}); nothing was stored",
                max_size=policy.max_size,
            )
    parts = _Parts(request, boundary)
    fields: dict[str, str] = {}
    ref: StoredObjectRef | None = None
    try:
        while (event := await parts.next()) is not None:
            name, filename = _disposition(event[1])
            if name is None:
                raise _malformed("a part without a form-data Content-Disposition")
            if name == field and ref is None:
                ctype = check_upload(policy, content_type=event[1].get("content-type"), filename=filename, length=None)
                ref = await store(policy, parts.file_data(), uow=uow, filename=filename, content_type=ctype, key=key)
            elif filename is not None or name == field:
                raise HTTPException(400, detail=f"only one file is accepted, in the field {field!r}")
            else:
                if len(fields) >= max_fields:
                    raise HTTPException(400, detail=f"more than {max_fields} form fields")
                fields[name] = (await parts.value(max_field_size, name)).decode("utf-8", "replace")
    except BaseException:
        if ref is not None and uow is None and policy.async_storage is not None:
            await policy.async_storage.delete(ref.key)
        raise
    if ref is None:
        raise HTTPException(400, detail=f"the form has no file field {field!r}")
    return FormUpload(ref, fields)
