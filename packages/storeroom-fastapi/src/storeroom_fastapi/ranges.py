"""HTTP range and conditional requests (RFC 9110 sections 13 and 14), without any I/O.

``Range: bytes=...`` is parsed against the object's size into the byte ranges to send:
one range gives a 206 with ``Content-Range``; several that overlap or touch are coalesced
into one; several apart give a ``multipart/byteranges`` body. A malformed header, ranges that
all lie past the end, or more than :data:`MAX_RANGES` separate ranges (a sign of a broken
client or an attack, section 14.2) are refused with 416. A unit other than ``bytes`` is
ignored and the whole object sent, as the RFC asks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from storeroom.errors import InvalidRangeError

__all__ = [
    "MAX_RANGES",
    "ByteRange",
    "MultipartPlan",
    "http_date",
    "if_range_holds",
    "matches_if_none_match",
    "modified_since",
    "multipart_plan",
    "parse_range",
    "quoted_etag",
]

MAX_RANGES = 16
_RANGE_SPEC = re.compile(r"(\d*)-(\d*)")
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
_ETAG_CHARS = re.compile(r"[\x21\x23-\x7e]+")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``[start, end)`` of the object (``end`` exclusive, like ``read_range``)."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


def _refuse(message: str, size: int) -> InvalidRangeError:
    return InvalidRangeError(f"{message}; the object has {size} bytes", size=size)


def _number(digits: str) -> int:
    if len(digits) > 19:  # past any object's size; also keeps int() away from huge strings
        return 1 << 63
    return int(digits)


def parse_range(header: str | None, size: int) -> list[ByteRange] | None:
    """The ranges a ``Range`` header asks for, in the object's bounds; None to send it whole.

    Raises :class:`~storeroom.errors.InvalidRangeError` (416, with ``.size``) for a
    malformed header, ranges that are all unsatisfiable, or too many separate ranges.
    """
    if header is None:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None  # another unit (or none): ignored, the whole representation is sent
    wanted: list[ByteRange] = []
    for raw in specs.split(","):
        spec = raw.strip(" \t")
        if not spec:
            continue  # the list syntax allows empty elements
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None or (not match[1] and not match[2]):
            raise _refuse(f"malformed range {spec[:40]!r}", size)
        first, last = match[1], match[2]
        if first:
            start = _number(first)
            if last and _number(last) < start:
                raise _refuse(f"range {spec[:40]!r} ends before it starts", size)
            if start >= size:
                continue  # unsatisfiable; others may still be satisfiable
            end = min(_number(last) + 1, size) if last else size
        else:
            suffix = _number(last)
            if suffix == 0 or size == 0:
                continue
            start, end = max(0, size - suffix), size
        wanted.append(ByteRange(start, end))
    if not wanted:
        raise _refuse("no requested range overlaps the object", size)
    ranges = _coalesce(wanted)
    if len(ranges) > MAX_RANGES:
        raise _refuse(f"more than {MAX_RANGES} separate ranges", size)
    return ranges


def _coalesce(ranges: Sequence[ByteRange]) -> list[ByteRange]:
    """Overlapping and touching ranges merged, in ascending order (RFC 9110 allows both)."""
    out: list[ByteRange] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if out and r.start <= out[-1].end:
            if r.end > out[-1].end:
                out[-1] = ByteRange(out[-1].start, r.end)
        else:
            out.append(r)
    return out


@dataclass(frozen=True, slots=True)
class MultipartPlan:
    """A ``multipart/byteranges`` body: each part's head and range, the closing line, the length."""

    content_type: str
    parts: list[tuple[bytes, ByteRange]]
    tail: bytes
    length: int


def multipart_plan(ranges: Sequence[ByteRange], size: int, content_type: str, boundary: str) -> MultipartPlan:
    parts: list[tuple[bytes, ByteRange]] = []
    length = 0
    for r in ranges:
        head = (
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {r.content_range(size)}\r\n\r\n"
        ).encode("latin-1")
        parts.append((head, r))
        length += len(head) + r.length
    tail = f"\r\n--{boundary}--\r\n".encode("latin-1")
    return MultipartPlan(f"multipart/byteranges; boundary={boundary}", parts, tail, length + len(tail))


# -- validators -------------------------------------------------------------------------------


def quoted_etag(etag: str | None) -> str | None:
    """A storage etag as a strong HTTP entity tag (``"..."``); one with characters an entity tag
    cannot hold is replaced by a digest of itself, which changes exactly when it does."""
    if not etag:
        return None
    bare = etag[2:] if etag.startswith("W/") else etag
    bare = bare.strip('"')
    if not _ETAG_CHARS.fullmatch(bare):
        bare = hashlib.sha256(etag.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f'"{bare}"'


def _tags(header: str) -> list[tuple[bool, str]] | None:
    """``(weak, opaque)`` for each entity tag of a list header; None if it is malformed."""
    out: list[tuple[bool, str]] = []
    pos = 0
    while pos < len(header):
        if not header[pos:].strip(" \t,"):
            break
        match = _ENTITY_TAG.match(header, pos)
        if match is None:
            return None
        out.append((bool(match[1]), match[2]))
        pos = match.end()
    return out


def matches_if_none_match(header: str, etag: str | None) -> bool:
    """Whether ``If-None-Match`` matches the current entity tag (weak comparison): send 304."""
    if header.strip() == "*":
        return True
    if etag is None:
        return False
    current = etag.strip('"')
    tags = _tags(header) or []
    return any(opaque == current for _weak, opaque in tags)


def _parse_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _utc(when: datetime) -> datetime:
    """Whole seconds in UTC (HTTP dates have no fraction); a naive time is taken as UTC."""
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.replace(microsecond=0)


def http_date(when: datetime) -> str:
    return format_datetime(_utc(when), usegmt=True)


def modified_since(header: str, last_modified: datetime | None) -> bool:
    """``If-Modified-Since``: False (send 304) only when the object is provably not newer."""
    since = _parse_date(header)
    if since is None or last_modified is None:
        return True
    return _utc(last_modified) > since


def if_range_holds(header: str, etag: str | None, last_modified: datetime | None) -> bool:
    """``If-Range``: whether the ranges may be served (else the whole object, with 200).

    An entity tag must match strongly; a date must equal ``Last-Modified`` exactly.
    """
    value = header.strip()
    if value.startswith(('"', "W/")):
        tags = _tags(value)
        if etag is None or not tags or len(tags) != 1:
            return False
        weak, opaque = tags[0]
        return not weak and opaque == etag.strip('"')
    when = _parse_date(value)
    return when is not None and last_modified is not None and when == _utc(last_modified)
