"""Upload policies: where content goes, how big and what type it may be."""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from storeroom.errors import ConfigurationError, ContentTypeNotAllowedError, InvalidKeyError
from storeroom.keys import validate_key, validate_prefix
from storeroom.streams import AsyncByteSource, ByteSource

if TYPE_CHECKING:
    from storeroom.objects import ObjectInfo
    from storeroom.refs import StoredObjectRef
    from storeroom.storage import AsyncObjectStorage, ObjectStorage

__all__ = ["PreparedUpload", "StoragePolicy", "check_limits", "validate_key_prefix"]

_BYTES_LIKE = (bytes, bytearray, memoryview)
_SAFE_EXT = re.compile(r"^\.[A-Za-z0-9]{1,16}$")
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def validate_key_prefix(prefix: str) -> str:
    """A policy's ``key_prefix``: the core prefix rules, and empty or ending with ``/``."""
    validate_prefix(prefix)
    if prefix and not prefix.endswith("/"):
        raise InvalidKeyError(f"key_prefix {prefix!r} must end with '/'", key=prefix)
    return prefix


def check_limits(max_size: int | None, content_types: Sequence[str] | None) -> None:
    """Limits that read as one thing and would do another are refused (``ValueError``).

    An empty allow-list reads as "no type" but an unset one means "any type"; a size that
    rounds to 0 bytes refuses every upload.
    """
    if content_types is not None and len(content_types) == 0:
        raise ValueError("content_types = [] lists no type; omit the key to allow any type, or list the allowed ones")
    if max_size is not None and max_size < 1:
        raise ValueError(
            "max_size rounds to 0 bytes, which refuses every upload; use at least 1 byte, or omit it for no limit"
        )


class StoragePolicy:
    """Routes uploads to one storage under ``key_prefix``, enforcing size and type.

    Generated keys are ``<prefix><yyyy>/<mm>/<uuid4><ext>`` and written create-only,
    so two uploads can never land on the same key.
    """

    def __init__(
        self,
        name: str,
        storage: ObjectStorage | None,
        key_prefix: str = "",
        max_size: int | None = None,
        content_types: Sequence[str] | None = None,
        *,
        async_storage: AsyncObjectStorage | None = None,
        storage_name: str | None = None,
    ) -> None:
        try:
            validate_key_prefix(key_prefix)
        except InvalidKeyError as exc:
            raise InvalidKeyError(f"policy {name!r}: {exc.message}", key=key_prefix) from None
        try:
            check_limits(max_size, content_types)
        except ValueError as exc:
            raise ConfigurationError(f"policy {name!r}: {exc}", key=f"policies.{name}") from None
        self.name = name
        self.storage = storage
        self.async_storage = async_storage
        self.storage_name: str = (
            storage_name or getattr(storage, "name", None) or getattr(async_storage, "name", None) or name
        )
        self.key_prefix = key_prefix
        self.max_size = max_size
        self.content_types = tuple(content_types) if content_types else None

    def __repr__(self) -> str:
        return (
            f"StoragePolicy(name={self.name!r}, storage={self.storage_name!r}, key_prefix={self.key_prefix!r}, "
            f"max_size={self.max_size!r}, content_types={self.content_types!r})"
        )

    # -- checks shared by put and aput -----------------------------------------------------

    def allows(self, content_type: str) -> bool:
        if self.content_types is None:
            return True
        base = content_type.split(";", 1)[0].strip().lower()
        for allowed in self.content_types:
            allowed = allowed.lower()
            if allowed == base or (allowed.endswith("/*") and base.startswith(allowed[:-1])):
                return True
        return False

    def resolve_content_type(self, content_type: str | None, filename: str | None) -> str:
        if content_type is None and filename:
            content_type = mimetypes.guess_type(filename, strict=False)[0]
        content_type = content_type or DEFAULT_CONTENT_TYPE
        if not self.allows(content_type):
            allowed = ", ".join(self.content_types or ())
            raise ContentTypeNotAllowedError(
                f"policy {self.name!r} does not accept {content_type!r}; allowed: {allowed}",
                content_type=content_type,
            )
        return content_type

    def resolve_key(self, key: str | None, filename: str | None) -> tuple[str, bool]:
        """The full key, and whether it was generated (generated keys are written create-only)."""
        if key is not None:
            validate_key(key)
            return validate_key(self.key_prefix + key), False
        ext = posixpath.splitext(filename or "")[1].lower()
        ext = ext if _SAFE_EXT.match(ext) else ""
        now = datetime.now(UTC)
        return f"{self.key_prefix}{now:%Y/%m}/{uuid.uuid4().hex}{ext}", True

    # -- uploads -----------------------------------------------------------------------------

    def prepare(
        self, data: Any, *, filename: str | None = None, content_type: str | None = None, key: str | None = None
    ) -> PreparedUpload:
        """Check and route one sync upload without storing it (``put`` and units of work write it).

        Raises before any I/O for a refused content type, a bad key or bytes over ``max_size``;
        a stream over ``max_size`` fails while it is written, and nothing is kept.
        """
        upload = self._plan(filename, content_type, key)
        if isinstance(data, _BYTES_LIKE):
            ByteSource(data, max_size=self.max_size)  # size check before any I/O
            upload.digest.update(data)
            upload.body = data
        else:
            source = ByteSource(data, max_size=self.max_size)

            def hashed() -> Iterator[bytes]:
                for chunk in source:
                    upload.digest.update(chunk)
                    yield chunk

            upload.body = hashed()
        return upload

    def aprepare(
        self, data: Any, *, filename: str | None = None, content_type: str | None = None, key: str | None = None
    ) -> PreparedUpload:
        """The async twin of :meth:`prepare` (the body is an async iterator unless ``data`` is bytes)."""
        upload = self._plan(filename, content_type, key)
        if isinstance(data, _BYTES_LIKE):
            AsyncByteSource(data, max_size=self.max_size)
            upload.digest.update(data)
            upload.body = data
        else:
            source = AsyncByteSource(data, max_size=self.max_size)

            async def hashed() -> AsyncIterator[bytes]:
                async for chunk in source:
                    upload.digest.update(chunk)
                    yield chunk

            upload.body = hashed()
        return upload

    def _plan(self, filename: str | None, content_type: str | None, key: str | None) -> PreparedUpload:
        ctype = self.resolve_content_type(content_type, filename or key)
        full_key, generated = self.resolve_key(key, filename)
        return PreparedUpload(self, full_key, not generated, ctype, filename)

    def put(
        self, data: Any, *, filename: str | None = None, content_type: str | None = None, key: str | None = None
    ) -> StoredObjectRef:
        """Store ``data`` under this policy; size is enforced while streaming, so nothing
        oversized is ever kept."""
        if self.storage is None:
            raise RuntimeError(f"policy {self.name!r} has no sync storage; use aput()")
        upload = self.prepare(data, filename=filename, content_type=content_type, key=key)
        return upload.ref(self.storage.write(upload.key, upload.body, **upload.write_options()))

    async def aput(
        self, data: Any, *, filename: str | None = None, content_type: str | None = None, key: str | None = None
    ) -> StoredObjectRef:
        if self.async_storage is None:
            raise RuntimeError(f"policy {self.name!r} has no async storage; use put()")
        upload = self.aprepare(data, filename=filename, content_type=content_type, key=key)
        return upload.ref(await self.async_storage.write(upload.key, upload.body, **upload.write_options()))


class PreparedUpload:
    """One checked upload: where it goes, how it is written, and its checksum as it streams."""

    def __init__(
        self, policy: StoragePolicy, key: str, overwrite: bool, content_type: str, filename: str | None
    ) -> None:
        self.policy = policy
        self.key = key
        self.overwrite = overwrite  # generated keys are written create-only
        self.content_type = content_type
        self.filename = filename
        self.digest = hashlib.sha256()
        self.body: Any = None

    def write_options(self) -> dict[str, Any]:
        """Keyword arguments for ``storage.write`` (and ``uow.put``)."""
        return {"content_type": self.content_type, "overwrite": self.overwrite, "max_size": self.policy.max_size}

    def ref(self, info: ObjectInfo) -> StoredObjectRef:
        """The reference to keep once the body has been written (the checksum is complete then)."""
        from storeroom.refs import StoredObjectRef

        return StoredObjectRef(
            storage=self.policy.storage_name,
            key=self.key,
            size=info.size,
            content_type=self.content_type,
            checksum=f"sha256:{self.digest.hexdigest()}",
            filename=self.filename,
        )
