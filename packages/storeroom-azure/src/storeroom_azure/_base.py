"""Construction and pure logic shared by the sync and async Azure storages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from azure.core import MatchConditions
from azure.storage.blob import BlobSasPermissions, ContentSettings, generate_blob_sas

from storeroom.config.models import validate_model
from storeroom.errors import NotSupportedError, ObjectNotFoundError
from storeroom.logs import redact_loggers
from storeroom.objects import ObjectInfo
from storeroom.redaction import redact, register_secret
from storeroom.replies import ListingOrder, RangeReply, note_leftover
from storeroom_azure._blocks import BlockIds
from storeroom_azure._clients import make_service
from storeroom_azure._errors import ErrorContext
from storeroom_azure._layout import BlobLayout
from storeroom_azure._metadata import decode_metadata, encode_metadata
from storeroom_azure._order import Walk, utf8_listing
from storeroom_azure.settings import DEFAULT_BLOCK_SIZE, AzureBlobStorageSettings

__all__ = ["DEFAULT_CONTENT_TYPE", "AzureBase"]

DEFAULT_CONTENT_TYPE = "application/octet-stream"
#: third-party logger trees that print request URLs (with SAS signatures) or headers at DEBUG/INFO;
#: every logger in them is redacted (see storeroom.logs.redact_loggers)
_SDK_LOGGERS = ("azure", "urllib3", "aiohttp", "requests")
#: presigned URLs start a little in the past so a client with a slow clock can use them at once
_CLOCK_SKEW = timedelta(minutes=5)


class AzureBase:
    PLUGIN_NAME: ClassVar[str] = "azure"
    settings_model: ClassVar[type[Any] | None] = AzureBlobStorageSettings
    #: whether the subclass uses ``azure.storage.blob.aio``
    _AIO: ClassVar[bool] = False

    name: str
    settings: AzureBlobStorageSettings

    def __init__(
        self,
        container: str,
        *,
        prefix: str = "",
        connection_string: str | None = None,
        account_url: str | None = None,
        account_key: str | None = None,
        sas_token: str | None = None,
        credential: Any = None,
        create_container: bool = False,
        max_concurrency: int = 4,
        block_size: int | str = DEFAULT_BLOCK_SIZE,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        retries: int = 3,
        retry_backoff: float = 2.0,
        list_page_size: int = 1000,
        name: str = "default",
    ) -> None:
        """``credential`` is ``"default"`` (DefaultAzureCredential) or any azure-core token credential."""
        token_credential = None if credential is None or isinstance(credential, str) else credential
        raw: dict[str, Any] = {
            "backend": self.PLUGIN_NAME,
            "container": container,
            "prefix": prefix,
            "connection_string": connection_string,
            "account_url": account_url,
            "account_key": account_key,
            "sas_token": sas_token,
            "credential": "default" if token_credential is not None else credential,
            "create_container": create_container,
            "max_concurrency": max_concurrency,
            "block_size": block_size,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "retries": retries,
            "retry_backoff": retry_backoff,
            "list_page_size": list_page_size,
        }
        settings = validate_model(
            AzureBlobStorageSettings, {k: v for k, v in raw.items() if v is not None}, f"storages.{name}"
        )
        self._setup(name, settings, token_credential)

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        store = cls.__new__(cls)
        store._setup(name, settings, None)
        return store

    def _client_class(self) -> Any:
        raise NotImplementedError

    def _transport_options(self, settings: AzureBlobStorageSettings) -> dict[str, Any]:
        return {}

    def _setup(self, name: str, settings: AzureBlobStorageSettings, token_credential: Any) -> None:
        self.name = name
        self.settings = settings
        self._layout = BlobLayout(settings.prefix)
        self._service = make_service(
            self._client_class(), settings, token_credential, aio=self._AIO, **self._transport_options(settings)
        )
        self._container = self._service.get_container_client(settings.container)
        redact_loggers(*_SDK_LOGGERS)  # after the SDK's imports made its loggers; masks sig=... and secrets
        # DefaultAzureCredential made here is ours to close; a credential object passed in is the caller's.
        self._owned_credential = (
            self._service.credential if settings.credential == "default" and token_credential is None else None
        )
        self._account_name: str = self._service.account_name
        self._account_key: str | None = getattr(self._service.credential, "account_key", None)
        register_secret(self._account_key)
        url = urlsplit(self._service.url)
        self._endpoint = redact(f"{url.scheme}://{url.netloc}{url.path}".rstrip("/"))
        self._ctx = ErrorContext(settings.container, self._endpoint)
        self._container_ready = not settings.create_container
        self._closed = False

    # -- what users see --------------------------------------------------------------------

    @property
    def container(self) -> str:
        return self.settings.container

    @property
    def prefix(self) -> str:
        """The folder this store is confined to (empty, or ending with '/')."""
        return self._layout.prefix

    @property
    def endpoint(self) -> str:
        """The Blob service endpoint (never with a SAS token)."""
        return self._endpoint

    @property
    def supports_presigned_urls(self) -> bool:
        """True when the account key is known (``account_key`` or a connection string with one)."""
        return self._account_key is not None

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.name!r} container={self.container!r} prefix={self.prefix!r} "
            f"endpoint={self._endpoint!r}>"
        )

    # -- pure helpers ----------------------------------------------------------------------

    def _blob_name(self, key: str) -> str:
        return self._layout.blob_name(key)

    def _write_options(self, content_type: str | None, metadata: dict[str, str]) -> dict[str, Any]:
        """Metadata and content settings for upload_blob / commit_block_list (validated here, before I/O)."""
        return {
            "metadata": encode_metadata(metadata),
            "content_settings": ContentSettings(content_type=content_type or DEFAULT_CONTENT_TYPE),
        }

    @staticmethod
    def _conditions(overwrite: bool) -> dict[str, Any]:
        """Create-only as an atomic precondition (If-None-Match: *) for commit_block_list and copies.

        ``upload_blob(overwrite=False)`` sends the same header by itself. No ``etag`` goes with
        ``IfMissing``: the SDK implies ``*`` and would pass a stray ``etag`` on to the transport.
        """
        return {} if overwrite else {"match_condition": MatchConditions.IfMissing}

    @staticmethod
    def _written(
        key: str, size: int, content_type: str | None, metadata: dict[str, str], response: dict[str, Any]
    ) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=size,
            etag=response.get("etag"),
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            metadata=metadata,
            last_modified=response.get("last_modified"),
        )

    def _info(self, key: str, props: Any) -> ObjectInfo:
        settings = getattr(props, "content_settings", None)
        return ObjectInfo(
            key=key,
            size=int(props.size or 0),
            etag=props.etag,
            content_type=getattr(settings, "content_type", None),
            metadata=decode_metadata(props.metadata),
            last_modified=props.last_modified,
        )

    def _presign(self, key: str, *, expires_in: int, method: str) -> str:
        if self._account_key is None:
            raise NotSupportedError(
                "presigned URLs need the storage account key (account_key, or a connection string with "
                "AccountKey); this store authenticates otherwise"
            )
        name = self._blob_name(key)
        permission = BlobSasPermissions(read=True) if method == "GET" else BlobSasPermissions(create=True, write=True)
        now = datetime.now(UTC)
        token = generate_blob_sas(
            self._account_name,
            self.container,
            name,
            account_key=self._account_key,
            permission=permission,
            start=now - _CLOCK_SKEW,
            expiry=now + timedelta(seconds=expires_in),
        )
        return f"{self._container.get_blob_client(name).url}?{token}"

    # -- checks of what the service answered -----------------------------------------------

    @property
    def _service_label(self) -> str:
        return f"Azure Blob Storage at {self._endpoint}"

    def _range_reply(self, key: str, start: int, end: int) -> RangeReply:
        return RangeReply(key, start, end, self._service_label)

    @staticmethod
    def _range_options(reply: RangeReply) -> dict[str, Any]:
        """download_blob arguments for the read, checking each reply against the range it asked for.

        The SDK trusts the service: given ``bytes 0-4`` for a request of ``bytes=3-4`` it
        returns ``01234`` as bytes 3-4. The hook sees every request of the download.
        """

        def check(pipeline_response: Any) -> None:
            response = pipeline_response.http_response
            if response.status_code not in (200, 206):
                return  # an error: the SDK raises it
            length = response.headers.get("Content-Length")
            request = pipeline_response.http_request.headers
            reply.check_for(
                request.get("x-ms-range") or request.get("Range"),
                response.headers.get("Content-Range"),
                int(length) if length else None,
            )

        return {"offset": reply.start, "length": reply.end - reply.start, "raw_response_hook": check}

    def _listing_walk(self, prefix: str) -> Walk:
        """Azure pages in UTF-16 order; the walk yields UTF-8 byte order (see ``_order``)."""
        return utf8_listing(prefix, self.settings.list_page_size)

    def _listing_filter(self, start_after: str | None) -> Callable[[ObjectInfo], bool]:
        """Whether to yield each listed object: checked to follow the one before, and past ``start_after``."""
        order = ListingOrder(self._service_label)
        after = start_after.encode("utf-8") if start_after is not None else None

        def keep(info: ObjectInfo) -> bool:
            order.check(info.key)
            return after is None or info.key.encode("utf-8") > after

        return keep

    def _note_uncommitted(self, failure: BaseException, key: str, ids: BlockIds) -> None:
        """A failed staged upload leaves its blocks uncommitted; Azure has no call to remove them."""
        if ids.ids:
            note_leftover(
                failure,
                f"up to {len(ids.ids)} uncommitted block(s) staged for {key!r} in container {self.container!r} "
                f"(block ids: base64 of '{ids.nonce}-NNNNNN'): they stay, invisible, until Azure discards "
                "uncommitted blocks, after a week or at the blob's next commit",
            )

    def _missing(self, key: str) -> ObjectNotFoundError:
        return ObjectNotFoundError(f"no object under key {key!r}", key=key)

    def _health_details(self, props: Any) -> dict[str, Any]:
        return {"container": self.container, "account": self._account_name, "endpoint": self._endpoint}
