"""Checks of what a storage service answered, before storeroom passes it on.

Servers that claim S3 or Azure compatibility do not all keep the protocol: one answers
``Range: bytes=0-0`` with the whole object, another pages a listing in its own order.
Passed on, that is wrong bytes for ``read_range`` and a broken sequence for whoever
merge-walks a listing (garbage collection does). These helpers are I/O-free; the
backends call them on every reply, sync and async alike.
"""

from __future__ import annotations

import re

from storeroom.errors import InconsistentResponseError, StorageError
from storeroom.redaction import redact

__all__ = ["ListingOrder", "RangeReply", "note_leftover"]

_RANGE = re.compile(r"^\s*bytes=(\d+)-(\d*)\s*$", re.IGNORECASE)
_TO_THE_END = 2**63  # "bytes=a-": up to the object's last byte
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def _shown(key: str) -> str:
    return repr(key if len(key) <= 80 else key[:77] + "...")


class ListingOrder:
    """One listing's keys must strictly increase in UTF-8 byte order: no step back, no repeat.

    ``check`` every key as it arrives, across pages; the first one out of order raises
    :class:`InconsistentResponseError` instead of being yielded, so a caller never sees
    a key twice or in the wrong place.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self._last: bytes | None = None
        self._last_key = ""

    def check(self, key: str) -> str:
        raw = key.encode("utf-8", "surrogatepass")
        if self._last is not None and raw <= self._last:
            how = "twice" if raw == self._last else f"after {_shown(self._last_key)}"
            raise InconsistentResponseError(
                f"{self.service} listed {_shown(key)} {how}: a listing must come in UTF-8 byte order of the keys, "
                "and this server's does not, so it cannot be trusted to be complete",
                key=key,
            )
        self._last, self._last_key = raw, key
        return key


class RangeReply:
    """What the replies to a ranged read of bytes ``[start, end)`` of ``key`` must say.

    :meth:`check` each HTTP reply against the bytes it was asked for (its ``Content-Range``
    and length), then :meth:`check_data` the bytes assembled from them.
    """

    def __init__(self, key: str, start: int, end: int, service: str) -> None:
        self.key = key
        self.start = start
        self.end = end
        self.service = service
        #: the object's size, once a reply has told it
        self.total: int | None = None

    @property
    def header(self) -> str:
        """The ``Range`` header value for the whole read."""
        return f"bytes={self.start}-{self.end - 1}"

    def _wrong(self, what: str) -> InconsistentResponseError:
        return InconsistentResponseError(
            f"{self.service} answered a read of bytes [{self.start}, {self.end}) of {_shown(self.key)} with {what}; "
            "storeroom never returns bytes it did not ask for",
            key=self.key,
        )

    @property
    def due(self) -> int:
        """Bytes the whole read must come to (clipped to the object's size, once known)."""
        return max(0, (self.end if self.total is None else min(self.end, self.total)) - self.start)

    def check(
        self, content_range: str | None, length: int | None, *, first: int | None = None, last: int | None = None
    ) -> int:
        """One reply to a request for bytes ``first..last`` (inclusive; the whole range by default).

        Returns how many bytes of its body to read: none when the object turned out to end
        before the range (whatever the reply claims to carry).
        """
        first = self.start if first is None else first
        last = self.end - 1 if last is None else last
        if content_range is None:  # a plain 200: the whole object, fine only if that is the slice asked for
            if first == 0 and length is not None and length - 1 <= last:
                self.total = length
                return length
            raise self._wrong(f"the whole object ({length} bytes) instead of bytes {first}-{last}")
        match = _CONTENT_RANGE.match(content_range)
        if match is None:
            raise self._wrong(f"a malformed Content-Range {content_range!r}")
        got_first, got_last = int(match[1]), int(match[2])
        total = None if match[3] == "*" else int(match[3])
        if total is not None and first >= total:
            self.total = total  # the object ends before the range: the slice is empty, whatever was sent
            return 0
        want_last = last if total is None else min(last, total - 1)
        if (got_first, got_last) != (first, want_last):
            raise self._wrong(
                f"bytes {got_first}-{got_last} (Content-Range {content_range!r}) for bytes {first}-{last}"
            )
        if length is not None and length != got_last - got_first + 1:
            raise self._wrong(f"{length} bytes for a Content-Range of {got_last - got_first + 1}")
        if total is not None:
            self.total = total
        return got_last - got_first + 1

    def check_for(self, requested: str | None, content_range: str | None, length: int | None) -> int:
        """:meth:`check` a reply to a request whose Range header was ``requested`` (``bytes=a-b``)."""
        match = _RANGE.match(requested or "")
        if match is None:
            return self.check(content_range, length)
        return self.check(content_range, length, first=int(match[1]), last=int(match[2]) if match[2] else _TO_THE_END)

    def check_data(self, data: bytes) -> bytes:
        """``data`` if it is exactly the slice asked for (clipped to the object's size, when known)."""
        if len(data) != self.due:
            raise self._wrong(f"{len(data)} bytes where {self.due} were due")
        return data


def note_leftover(exc: BaseException, leftover: str) -> None:
    """Tell whoever catches ``exc`` what a failed clean-up left behind.

    A WARNING in a log nobody reads is not enough: the exception that reaches the caller
    says it, as a PEP 678 note (printed with the traceback) and, on storeroom's own
    storage errors, in ``leftovers``. The caller's own exception keeps its type and identity.
    """
    text = redact(leftover)
    exc.add_note(f"left behind: {text}")
    if isinstance(exc, StorageError):
        exc.leftovers = (*exc.leftovers, text)
