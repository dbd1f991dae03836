"""Reversible mapping of storeroom metadata onto Azure's stricter rules.

Names. storeroom names are case-insensitive ASCII tokens (``[a-z0-9][a-z0-9_.-]*``);
Azure wants C# identifiers (``[A-Za-z_][A-Za-z0-9_]*``), compared case-insensitively.
Letters and digits are kept; every other character, and a leading digit, becomes
``_`` plus its two lowercase hex digits: ``-`` -> ``_2d``, ``.`` -> ``_2e``, ``_`` ->
``_5f``, a leading ``1`` -> ``_31``. So ``content-type`` -> ``content_2dtype`` and
``content_type`` -> ``content_5ftype`` stay distinct, and decoding is exact because
a bare ``_`` never appears in an encoded name.

Values. Azure values travel as HTTP header values: printable ASCII, with outer
whitespace trimmed. A value that is printable ASCII, non-empty, has no outer
whitespace and does not start with ``=?`` is stored as is (readable in the portal);
any other value is stored as an RFC 2047 encoded word, ``=?utf-8?b?<base64 of
UTF-8>?=``. Values written by other tools decode by the same rules.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from collections.abc import Mapping

from storeroom.errors import InvalidMetadataError

__all__ = [
    "MAX_AZURE_METADATA_BYTES",
    "decode_metadata",
    "decode_name",
    "decode_value",
    "encode_metadata",
    "encode_name",
    "encode_value",
]

#: Azure's limit for all names and values of one blob together
MAX_AZURE_METADATA_BYTES = 8 * 1024

_KEEP = frozenset(string.ascii_lowercase + string.digits)
_ESCAPE = re.compile(r"_([0-9a-f]{2})")
_WORD_START = "=?utf-8?b?"
_WORD_END = "?="


def encode_name(name: str) -> str:
    """``content-type`` -> ``content_2dtype``; ``name`` is a core-validated, lower-case token."""
    out = []
    for index, char in enumerate(name):
        if char in _KEEP and not (index == 0 and char.isdigit()):
            out.append(char)
        else:
            out.append(f"_{ord(char):02x}")
    return "".join(out)


def decode_name(stored: str) -> str:
    """The inverse of :func:`encode_name`; Azure may return names in any case."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), stored.lower())


def _plain(value: str) -> bool:
    return bool(value) and value.isascii() and value.isprintable() and value == value.strip() and value[:2] != "=?"


def encode_value(value: str) -> str:
    if _plain(value):
        return value
    return _WORD_START + base64.b64encode(value.encode("utf-8")).decode("ascii") + _WORD_END


def decode_value(stored: str) -> str:
    if stored[: len(_WORD_START)].lower() == _WORD_START and stored.endswith(_WORD_END):
        body = stored[len(_WORD_START) : -len(_WORD_END)]
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return stored  # not one of ours: hand it over untouched
    return stored


def encode_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """Azure-safe names and values for core-validated metadata; raises before any I/O."""
    out = {encode_name(name): encode_value(value) for name, value in metadata.items()}
    total = sum(len(k) + len(v) for k, v in out.items())
    if total > MAX_AZURE_METADATA_BYTES:
        raise InvalidMetadataError(
            f"metadata takes {total} bytes once encoded for Azure; the limit is {MAX_AZURE_METADATA_BYTES}"
        )
    return out


def decode_metadata(stored: Mapping[str, str] | None) -> dict[str, str]:
    return {decode_name(name): decode_value(value) for name, value in (stored or {}).items()}
