"""Portable object keys and metadata, validated once in core for every backend.

The rules are the intersection of what S3, Azure Blob and POSIX filesystems accept
safely, so an application that works on local files keeps working on the cloud.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from storeroom.errors import InvalidKeyError, InvalidMetadataError

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_METADATA_BYTES",
    "MAX_METADATA_NAME_LENGTH",
    "validate_key",
    "validate_metadata",
    "validate_prefix",
]

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
MAX_METADATA_NAME_LENGTH = 128

#: C0 controls, DEL and the C1 controls (U+0080-U+009F), which terminals and logs interpret
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Unicode noncharacters, U+FDD0-U+FDEF and the last two code points of every plane, are not for
#: interchange; U+FFFE and U+FFFF are not even valid XML, so a blob named with one makes every
#: later Azure listing fail (HTTP 500).
_NONCHARACTER = re.compile(
    "[\ufdd0-\ufdef" + "".join(f"{chr(p << 16 | 0xFFFE)}{chr(p << 16 | 0xFFFF)}" for p in range(17)) + "]"
)
#: bidirectional overrides and isolates: they make a key display as a different key
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_METADATA_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


def _show(key: str) -> str:
    shown = key if len(key) <= 80 else key[:77] + "..."
    return repr(shown)


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def _check_text(key: str, what: str) -> None:
    if not isinstance(key, str):
        raise InvalidKeyError(f"{what} must be a str, got {type(key).__name__}", key=None)
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"{what} {_show(key)} is longer than {MAX_KEY_BYTES} UTF-8 bytes", key=key)
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKeyError(f"{what} {_show(key)} is not valid Unicode (lone surrogate)", key=key) from None
    bad = _CONTROL.search(key)
    if bad:
        raise InvalidKeyError(
            f"{what} {_show(key)} contains control character {bad.group()!r} ({_code(bad.group())}); "
            "use printable characters",
            key=key,
        )
    bad = _NONCHARACTER.search(key)
    if bad:
        raise InvalidKeyError(
            f"{what} {_show(key)} contains the Unicode noncharacter {_code(bad.group())}, which is not for "
            "interchange (Azure cannot list it)",
            key=key,
        )
    bad = _BIDI.search(key)
    if bad:
        raise InvalidKeyError(
            f"{what} {_show(key)} contains the bidirectional formatting character {_code(bad.group())}, which "
            "makes a key display as another",
            key=key,
        )
    if "\\" in key:
        raise InvalidKeyError(f"{what} {_show(key)} contains a backslash; separate segments with '/'", key=key)
    if key.startswith("/"):
        raise InvalidKeyError(f"{what} {_show(key)} starts with '/'; keys are relative, drop the leading '/'", key=key)


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is portable, else raise :class:`InvalidKeyError`."""
    _check_text(key, "key")
    if not key:
        raise InvalidKeyError("key must not be empty", key=key)
    segments = key.split("/")
    for segment in segments:
        if segment in (".", ".."):
            raise InvalidKeyError(f"key {_show(key)} contains a {segment!r} segment; keys cannot navigate", key=key)
    if "" in segments[:-1] or key.endswith("/"):
        raise InvalidKeyError(f"key {_show(key)} has an empty segment ('//' or a trailing '/')", key=key)
    return key


def validate_prefix(prefix: str) -> str:
    """Listing prefixes follow the key rules but may be empty or end with '/'."""
    if prefix == "":
        return prefix
    _check_text(prefix, "prefix")
    for segment in prefix.split("/"):
        if segment in (".", ".."):
            raise InvalidKeyError(f"prefix {_show(prefix)} contains a {segment!r} segment", key=prefix)
    if "//" in prefix:
        raise InvalidKeyError(f"prefix {_show(prefix)} has an empty segment ('//')", key=prefix)
    return prefix


def validate_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Normalise metadata: names lower-cased ASCII tokens, values ``str``, total <= 2 KiB."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidMetadataError(f"metadata must be a mapping of str to str, got {type(metadata).__name__}")
    out: dict[str, str] = {}
    total = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidMetadataError(
                f"metadata {name!r}: names and values must be str, got {type(name).__name__}={type(value).__name__}"
            )
        lowered = name.lower()
        if not lowered.isascii() or not _METADATA_NAME.match(lowered):
            raise InvalidMetadataError(
                f"metadata name {name!r} is not an ASCII token; use letters, digits, '-', '_' or '.', "
                "starting with a letter or digit"
            )
        if len(lowered) > MAX_METADATA_NAME_LENGTH:
            raise InvalidMetadataError(f"metadata name {name[:40]!r}... is longer than {MAX_METADATA_NAME_LENGTH}")
        if lowered in out:
            raise InvalidMetadataError(f"metadata name {name!r} is given twice (names are case-insensitive)")
        try:
            encoded = value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidMetadataError(f"metadata {name!r}: value is not valid Unicode") from None
        total += len(lowered) + len(encoded)
        out[lowered] = value
    if total > MAX_METADATA_BYTES:
        raise InvalidMetadataError(
            f"metadata is {total} bytes (names plus UTF-8 values); the limit is {MAX_METADATA_BYTES}"
        )
    return out
