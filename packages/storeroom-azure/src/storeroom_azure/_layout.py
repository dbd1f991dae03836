"""Where a storeroom key lives in the container: ``prefix + key``, within Azure's name limits."""

from __future__ import annotations

from storeroom.errors import InvalidKeyError

__all__ = ["MAX_BLOB_NAME_LENGTH", "MAX_BLOB_SEGMENTS", "BlobLayout"]

#: Azure: "a blob name ... cannot be more than 1,024 characters long"
MAX_BLOB_NAME_LENGTH = 1024
#: Azure: "the number of path segments comprising the blob name cannot exceed 254"
MAX_BLOB_SEGMENTS = 254


class BlobLayout:
    """Maps keys to blob names and back; ``prefix`` is already normalised (empty or ending in '/')."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def blob_name(self, key: str) -> str:
        """The blob name of a (core-validated) key; Azure's own limits are checked here, before I/O."""
        name = self.prefix + key
        if len(name) > MAX_BLOB_NAME_LENGTH:
            extra = f" with the store's prefix {self.prefix!r}" if self.prefix else ""
            raise InvalidKeyError(
                f"key {key[:60]!r}... is too long for Azure Blob Storage{extra}: blob names are at most "
                f"{MAX_BLOB_NAME_LENGTH} characters",
                key=key,
            )
        if name.count("/") + 1 > MAX_BLOB_SEGMENTS:
            raise InvalidKeyError(
                f"key {key[:60]!r}... has more than {MAX_BLOB_SEGMENTS} '/'-separated segments (with the prefix), "
                "the most Azure Blob Storage allows",
                key=key,
            )
        return name

    def search_prefix(self, prefix: str) -> str:
        return self.prefix + prefix

    def key_of(self, name: str) -> str:
        return name[len(self.prefix) :]
