"""User metadata <-> S3's ASCII-only ``x-amz-meta-*`` headers, reversibly.

HTTP headers carry printable ASCII and lose leading/trailing blanks, so any value
that is not plain printable ASCII is stored as an RFC 2047 encoded word,
``=?utf-8?b?<base64>?=`` or ``=?utf-8?q?<quoted>?=`` (whichever is shorter); this
is also how S3 itself returns non-ASCII metadata set through the console, so other
tools can read it. A plain value that happens to look like an encoded word is
encoded too, so decoding is exact for every string.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

from storeroom.errors import InvalidMetadataError

__all__ = ["MAX_S3_METADATA_BYTES", "decode_metadata", "decode_value", "encode_metadata", "encode_value"]

#: S3 counts the UTF-8 bytes of every name and (stored) value; the total may not exceed 2 KiB
MAX_S3_METADATA_BYTES = 2048

_PLAIN = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
_WORD = re.compile(r"^=\?utf-8\?([bq])\?([^?]*)\?=$", re.IGNORECASE)
_HEX = re.compile(r"[0-9A-Fa-f]{2}")
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def _q_encode(raw: bytes) -> str:
    out = []
    for byte in raw:
        if byte in _Q_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("_")
        else:
            out.append(f"={byte:02X}")
    return "".join(out)


def _q_decode(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char == "_":
            out.append(0x20)
        elif char == "=" and _HEX.fullmatch(text[i + 1 : i + 3]):
            out.append(int(text[i + 1 : i + 3], 16))
            i += 2
        else:
            out += char.encode("ascii")
        i += 1
    return bytes(out)


def encode_value(value: str) -> str:
    """``value`` as a header-safe ASCII string that :func:`decode_value` turns back into it."""
    if value == "" or (_PLAIN.match(value) and not _WORD.match(value)):
        return value
    raw = value.encode("utf-8")
    b_word = "=?utf-8?b?" + base64.b64encode(raw).decode("ascii") + "?="
    q_word = "=?utf-8?q?" + _q_encode(raw) + "?="
    return q_word if len(q_word) < len(b_word) else b_word


def decode_value(value: str) -> str:
    """Inverse of :func:`encode_value`; values other tools stored plainly pass unchanged."""
    match = _WORD.match(value)
    if not match:
        return value
    kind, text = match.group(1).lower(), match.group(2)
    try:
        raw = base64.b64decode(text, validate=True) if kind == "b" else _q_decode(text)
        return raw.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return value  # not ours after all: keep what the server holds


def encode_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """Encode every value; raise InvalidMetadataError (before any I/O) past S3's 2 KiB."""
    encoded = {name: encode_value(value) for name, value in metadata.items()}
    total = sum(len(name) + len(value) for name, value in encoded.items())
    if total > MAX_S3_METADATA_BYTES:
        raise InvalidMetadataError(
            f"metadata takes {total} bytes once encoded for S3 (non-ASCII or padded values are stored "
            f"RFC 2047-encoded); S3 allows {MAX_S3_METADATA_BYTES}"
        )
    return encoded


def decode_metadata(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {name.lower(): decode_value(value) for name, value in (headers or {}).items()}
