"""The storeroom error tree.

Every failure a user can act on is one of these classes, so callers can catch a
family (``StorageError``) or one precise case (``ObjectExistsError``) without
knowing which backend raised it. Driver and SDK exceptions are translated by the
plugins and chained as ``__cause__``; messages pass through :func:`storeroom.redact`, and
so does the text of the exception being handled when one is created (what it will chain as
``__cause__`` / ``__context__``, see :func:`storeroom.redaction.redact_exception`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "CommitOutcomeUnknownError",
    "CompensationError",
    "ConfigurationError",
    "ConnectionFailedError",
    "ContentTooLargeError",
    "ContentTypeNotAllowedError",
    "DatabaseError",
    "DestructiveChangeError",
    "InconsistentResponseError",
    "IntegrityError",
    "InvalidKeyError",
    "InvalidMetadataError",
    "InvalidRangeError",
    "NotSupportedError",
    "ObjectExistsError",
    "ObjectNotFoundError",
    "PluginError",
    "PluginLoadError",
    "PluginNotFoundError",
    "PoolTimeoutError",
    "PreconditionFailedError",
    "QueryError",
    "SchemaSyncError",
    "StorageError",
    "StoreroomError",
    "TenantError",
    "TenantRequiredError",
    "TenantViolationError",
    "TransactionError",
    "UnitOfWorkError",
    "UnsafeChangeError",
]


class StoreroomError(Exception):
    """Root of every error storeroom raises on purpose."""

    def __init__(self, message: str = "", **context: Any) -> None:
        # Imported late: redaction is cheap but keeps this module dependency-free.
        from storeroom.redaction import redact, redact_exception

        redact_exception()  # raised in an ``except`` block, this error chains it: no secret in its text
        message = redact(message)
        super().__init__(message)
        self.message = message
        for name, value in context.items():
            setattr(self, name, value)

    def __str__(self) -> str:
        return self.message


# -- configuration and plugins -------------------------------------------------------


class ConfigurationError(StoreroomError):
    """Settings are missing, malformed or contradictory. ``key`` names the offending key."""

    key: str | None = None


class PluginError(StoreroomError):
    """A plugin could not be found, loaded or registered."""


class PluginNotFoundError(PluginError, LookupError):
    """No installed, enabled plugin provides the backend; the message says what to install or re-enable."""

    kind: str | None = None
    name: str | None = None
    install_hint: str | None = None
    #: True when the plugin is installed but switched off by ``STOREROOM_DISABLE_PLUGINS``
    disabled: bool = False
    #: the settings key naming the backend (``databases.main.backend``) when it came from settings
    key: str | None = None
    #: a registered or known backend name close to the one asked for (a likely typo)
    suggestion: str | None = None


class PluginLoadError(PluginError):
    """A plugin failed while being imported or registered; ``distribution`` names it."""

    distribution: str | None = None


# -- databases -----------------------------------------------------------------------


class DatabaseError(StoreroomError):
    """A database operation failed."""

    retryable: bool = False


class ConnectionFailedError(DatabaseError, ConnectionError):
    """The server refused, was unreachable, or rejected the credentials."""


class QueryError(DatabaseError):
    """The server rejected a statement; ``statement`` holds it (parameters never included)."""

    statement: str | None = None


class IntegrityError(QueryError):
    """A unique, foreign-key, not-null or check constraint was violated."""

    constraint: str | None = None


class TransactionError(DatabaseError):
    """A transaction could not proceed: misuse, deadlock or serialization failure.

    ``retryable`` is true when running the whole transaction again may succeed.
    """


class PoolTimeoutError(DatabaseError, TimeoutError):
    """No pooled connection became free within the pool timeout."""


# -- object storage ------------------------------------------------------------------


class StorageError(StoreroomError):
    """An object storage operation failed."""

    #: what the failed operation could not clean up (an incomplete multipart upload, uncommitted
    #: blocks); also told in the exception's notes. See :func:`storeroom.replies.note_leftover`.
    leftovers: Sequence[str] = ()


class ObjectNotFoundError(StorageError, FileNotFoundError):
    """No object is stored under the key."""

    key: str | None = None

    def __init__(self, message: str = "", **context: Any) -> None:
        StoreroomError.__init__(self, message, **context)


class ObjectExistsError(StorageError, FileExistsError):
    """A create-only write found an object already stored under the key."""

    key: str | None = None

    def __init__(self, message: str = "", **context: Any) -> None:
        StoreroomError.__init__(self, message, **context)


class InvalidKeyError(StorageError, ValueError):
    """The key breaks the portable key rules (see :mod:`storeroom.keys`)."""

    key: str | None = None


class InvalidMetadataError(StorageError, ValueError):
    """Metadata names, values or total size break the portable rules."""


class ContentTooLargeError(StorageError, ValueError):
    """The content exceeds ``max_size``; nothing was stored."""

    max_size: int | None = None


class PreconditionFailedError(StorageError):
    """A conditional request's precondition did not hold."""


class NotSupportedError(StorageError, NotImplementedError):
    """The backend has no such capability (for example presigned URLs on local files)."""


class InconsistentResponseError(StorageError):
    """The service answered something that contradicts the request or its own protocol.

    A range it was not asked for, a listing out of key order: storeroom refuses to pass
    such an answer on as if it were right. ``key`` names the object or listed key.
    """

    key: str | None = None


# -- features ------------------------------------------------------------------------


class SchemaSyncError(StoreroomError):
    """Schema planning or application failed."""


class DestructiveChangeError(SchemaSyncError):
    """The plan drops data and destructive changes were not allowed; ``operations`` lists them."""

    operations: Sequence[Any] = ()


class UnsafeChangeError(SchemaSyncError):
    """The plan holds a change that cannot succeed (NOT NULL over NULLs), or a hazardous one (locks,
    rewrites) that was not allowed; ``operations`` lists them."""

    operations: Sequence[Any] = ()


class TenantError(StoreroomError):
    """Multi-tenancy rules were broken."""


class TenantRequiredError(TenantError):
    """A tenant-scoped operation ran with no tenant set."""


class TenantViolationError(TenantError):
    """An operation touched another tenant's rows."""


class UnitOfWorkError(StoreroomError):
    """A unit of work could not complete or undo its steps."""


class CompensationError(UnitOfWorkError):
    """Undoing a failed unit of work did not fully succeed; ``remaining`` lists what is left."""

    remaining: Sequence[str] = ()

    def __init__(self, message: str = "", remaining: Iterable[str] = (), **context: Any) -> None:
        super().__init__(message, remaining=tuple(remaining), **context)


class CommitOutcomeUnknownError(UnitOfWorkError):
    """A unit's COMMIT failed and whether it took effect cannot be told (its database is unreachable).

    Nothing was undone or finished: objects, backups and journal rows are as the unit left
    them. ``recoverable`` says whether ``recover()`` will settle it (finish it if it committed,
    undo it if not); ``if_committed`` / ``if_rolled_back`` list what settling it takes either way.
    """

    unit_id: str | None = None
    recoverable: bool = False
    if_committed: Sequence[str] = ()
    if_rolled_back: Sequence[str] = ()


class InvalidRangeError(StorageError, ValueError):
    """A byte range is negative or reversed (``end`` is exclusive, like a slice)."""


class ContentTypeNotAllowedError(StorageError, ValueError):
    """A policy refused the upload's content type; nothing was stored."""

    content_type: str | None = None
