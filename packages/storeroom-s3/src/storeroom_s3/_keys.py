"""Store keys <-> bucket keys, under the store's ``prefix``.

A store with prefix ``docs`` keeps ``a.txt`` at ``docs/a.txt`` and lists with
``docs/`` + the caller's prefix, so it never sees ``docs2/...`` of a sibling
store in the same bucket.
"""

from __future__ import annotations

from storeroom.errors import InvalidKeyError
from storeroom.keys import MAX_KEY_BYTES

__all__ = ["KeyMap"]


class KeyMap:
    def __init__(self, prefix: str = "") -> None:
        prefix = prefix.strip("/")
        self.prefix = prefix
        self.root = prefix + "/" if prefix else ""
        self._root_bytes = len(self.root.encode("utf-8"))

    @property
    def max_key_bytes(self) -> int:
        """The longest store key that still fits S3's 1024-byte limit once prefixed."""
        return MAX_KEY_BYTES - self._root_bytes

    def to_s3(self, key: str) -> str:
        """The bucket key; raise InvalidKeyError (before I/O) if the prefix makes it too long."""
        if self._root_bytes and len(key.encode("utf-8")) > self.max_key_bytes:
            shown = key if len(key) <= 60 else key[:57] + "..."
            raise InvalidKeyError(
                f"key {shown!r} is too long for this store: with the prefix {self.root!r} keys may be at most "
                f"{self.max_key_bytes} UTF-8 bytes (S3 stops at {MAX_KEY_BYTES})",
                key=key,
            )
        return self.root + key

    def listing_prefix(self, prefix: str) -> str:
        return self.root + prefix

    def start_after(self, key: str | None) -> str | None:
        return None if key is None else self.root + key

    def from_s3(self, s3_key: str) -> str:
        return s3_key[len(self.root) :]

    def owns(self, s3_key: str) -> bool:
        return s3_key.startswith(self.root)
