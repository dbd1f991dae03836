"""What the sync and async S3 storages share: construction, key mapping, request shapes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

from botocore.exceptions import ClientError

from storeroom.config.models import validate_model
from storeroom.errors import StorageError
from storeroom.logs import redact_loggers
from storeroom.objects import ObjectInfo
from storeroom.redaction import redact
from storeroom.replies import ListingOrder, RangeReply
from storeroom_s3._errors import S3Target, error_code
from storeroom_s3._keys import KeyMap
from storeroom_s3._metadata import decode_metadata, encode_metadata
from storeroom_s3._multipart import log
from storeroom_s3._parts import PartPlan, part_size_for_length
from storeroom_s3._probe import Steps, conditional_write_probe, probe_key, unconditional
from storeroom_s3.settings import S3StorageSettings

__all__ = ["DEFAULT_CONTENT_TYPE", "DELETE_BATCH", "SDK_LOGGERS", "S3Base", "delete_failure"]

#: S3 would store "binary/octet-stream" when none is sent; storeroom reports the standard name
DEFAULT_CONTENT_TYPE = "application/octet-stream"
#: DeleteObjects takes at most 1,000 keys per request
DELETE_BATCH = 1000
#: the SDK's logger trees: at DEBUG they print request headers (Authorization, X-Amz-Security-Token:
#: botocore.endpoint, botocore.auth), the endpoint with its userinfo (botocore.regions), responses
#: (botocore.parsers) ... Every logger in them is redacted (see storeroom.logs.redact_loggers).
SDK_LOGGERS = ("botocore", "aiobotocore", "s3transfer", "urllib3", "aiohttp")


def delete_failure(errors: list[tuple[str, str, str]], deleted: int) -> StorageError:
    """One error naming every key DeleteObjects refused, with S3's code for each."""
    shown = ", ".join(f"{key!r} ({code})" for key, code, _ in errors[:20])
    more = f" and {len(errors) - 20} more" if len(errors) > 20 else ""
    return StorageError(
        f"S3 could not delete {len(errors)} object(s): {shown}{more}",
        failures={key: code for key, code, _ in errors},
        deleted=deleted,
    )


class S3Base:
    """Construction and the pure request/response mapping; no I/O happens here."""

    PLUGIN_NAME: ClassVar[str] = "s3"
    settings_model: ClassVar[type[Any] | None] = S3StorageSettings

    def __init__(
        self,
        bucket: str | None = None,
        *,
        name: str = "default",
        settings: S3StorageSettings | None = None,
        **options: Any,
    ) -> None:
        """``S3Storage("bucket", endpoint_url=..., prefix=...)`` or ``settings=S3StorageSettings(...)``.

        Keyword options are the settings keys (see :class:`S3StorageSettings`), validated the
        same way as configuration files, so a typo raises ConfigurationError naming the key.
        """
        if settings is None:
            raw: dict[str, Any] = {"backend": "s3", **options}
            if bucket is not None:
                raw["bucket"] = bucket
            settings = validate_model(S3StorageSettings, raw, f"storages.{name}")
        elif bucket is not None or options:
            raise TypeError("pass either settings=... or bucket and keyword options, not both")
        self.name = name
        self.settings = settings
        redact_loggers(*SDK_LOGGERS)  # again once a client is made: the SDK adds loggers as it imports
        self.keys = KeyMap(settings.prefix)
        self.target = S3Target(settings.bucket, redact(settings.endpoint_url) if settings.endpoint_url else None)
        #: whether create-only writes are safe here: None until probed (conditional_writes = "auto")
        self._conditional: bool | None = None if settings.conditional_writes == "auto" else settings.conditional_writes
        self._unconditional_why = "this store is configured with conditional_writes = false"

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        return cls(name=name, settings=settings)

    @property
    def bucket(self) -> str:
        return self.settings.bucket

    @property
    def prefix(self) -> str:
        return self.settings.prefix

    def __repr__(self) -> str:
        where = f" endpoint={self.target.endpoint!r}" if self.settings.endpoint_url else ""
        prefix = f" prefix={self.prefix!r}" if self.prefix else ""
        return f"<{type(self).__name__} {self.name!r} bucket={self.bucket!r}{prefix}{where}>"

    # -- requests -------------------------------------------------------------------------

    def _plan(self, length: int | None) -> PartPlan:
        return PartPlan(length, self.settings.part_size)

    def _copy_part_size(self, size: int) -> int:
        return part_size_for_length(size, self.settings.part_size)

    def _loc(self, s3_key: str) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": s3_key}

    def _object_args(
        self, s3_key: str, content_type: str | None, metadata: Mapping[str, str], encoded: bool = False
    ) -> dict[str, Any]:
        """Arguments PutObject and CreateMultipartUpload share (metadata encoded unless ``encoded``)."""
        return {
            **self._loc(s3_key),
            "ContentType": content_type or DEFAULT_CONTENT_TYPE,
            "Metadata": dict(metadata) if encoded else encode_metadata(metadata),
        }

    @staticmethod
    def _create_only(overwrite: bool) -> dict[str, str]:
        return {} if overwrite else {"IfNoneMatch": "*"}

    @property
    def _service(self) -> str:
        return f"the S3 server at {self.target.endpoint}" if self.settings.endpoint_url else "S3"

    def _range_reply(self, key: str, start: int, end: int) -> RangeReply:
        return RangeReply(key, start, end, self._service)

    def _listing_order(self) -> ListingOrder:
        return ListingOrder(self._service)

    # -- create-only writes need a server that honours If-None-Match ------------------------

    def _probe_steps(self) -> Steps:
        return conditional_write_probe(self.bucket, self.keys.to_s3(probe_key()))

    def _probed(self, verdict: str | None) -> None:
        if verdict is not None:
            self._unconditional_why = verdict
        self._conditional = verdict is None

    def _refuse_create_only(self, key: str) -> None:
        """Raise NotSupportedError (before any I/O of the write) if create-only is not enforced here."""
        if self._conditional is False:
            raise unconditional(key, self._service, self._unconditional_why)

    # -- what a failed abort leaves --------------------------------------------------------

    def _abort_failed(self, s3_key: str, upload_id: str, exc: BaseException) -> str | None:
        """What an AbortMultipartUpload that failed with ``exc`` leaves (None: nothing is left)."""
        code = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        if code == "NoSuchUpload":
            return None
        log.warning("could not abort the multipart upload of %r (%s)", s3_key, code)
        return (
            f"the incomplete multipart upload {upload_id!r} of {s3_key!r} in bucket {self.bucket!r}: aborting it "
            f"failed ({code}), so the server keeps its parts until it is aborted or a lifecycle rule "
            "(AbortIncompleteMultipartUpload) removes it"
        )

    def _copy_source(self, s3_key: str) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": s3_key}

    def _delete_batches(self, s3_keys: list[str]) -> Iterable[list[str]]:
        for start in range(0, len(s3_keys), DELETE_BATCH):
            yield s3_keys[start : start + DELETE_BATCH]

    def _delete_request(self, batch: list[str]) -> dict[str, Any]:
        return {"Bucket": self.bucket, "Delete": {"Objects": [{"Key": k} for k in batch], "Quiet": True}}

    def _delete_errors(self, response: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        return [
            (self.keys.from_s3(str(e.get("Key", ""))), str(e.get("Code", "")), str(e.get("Message", "")))
            for e in response.get("Errors", [])
        ]

    def _list_request(self, prefix: str, start_after: str | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": self.keys.listing_prefix(prefix),
            "MaxKeys": self.settings.list_page_size,
        }
        if start_after is not None:
            request["StartAfter"] = self.keys.start_after(start_after)
        return request

    # -- responses ------------------------------------------------------------------------

    @staticmethod
    def _etag(value: Any) -> str | None:
        return str(value) if value else None

    def _info_from_head(self, key: str, response: Mapping[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=int(response.get("ContentLength", 0)),
            etag=self._etag(response.get("ETag")),
            content_type=response.get("ContentType"),
            metadata=decode_metadata(response.get("Metadata")),
            last_modified=_aware(response.get("LastModified")),
        )

    def _listed(self, page: Mapping[str, Any], order: ListingOrder) -> list[ObjectInfo]:
        """A ListObjectsV2 page's objects, each checked to come after the one before (pages included)."""
        return [
            self._info_from_listing(item, order) for item in page.get("Contents", ()) if self.keys.owns(item["Key"])
        ]

    def _info_from_listing(self, item: Mapping[str, Any], order: ListingOrder) -> ObjectInfo:
        return ObjectInfo(
            key=order.check(self.keys.from_s3(str(item["Key"]))),
            size=int(item.get("Size", 0)),
            etag=self._etag(item.get("ETag")),
            last_modified=_aware(item.get("LastModified")),
        )

    def _info_written(
        self, key: str, size: int, response: Mapping[str, Any], content_type: str | None, metadata: Mapping[str, str]
    ) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=size,
            etag=self._etag(response.get("ETag")),
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            metadata=metadata,
        )


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        from datetime import UTC

        return value.replace(tzinfo=UTC)
    return value
