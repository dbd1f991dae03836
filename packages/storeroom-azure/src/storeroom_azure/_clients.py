"""Building the SDK's service client (sync or aio) from validated settings."""

from __future__ import annotations

from typing import Any

from storeroom.errors import ConfigurationError
from storeroom_azure.settings import AzureBlobStorageSettings

__all__ = ["client_options", "default_credential", "make_service", "retry_policy"]

#: first and later download requests; small enough that streamed reads stay in bounded memory
DOWNLOAD_CHUNK = 4 * 1024 * 1024
IDENTITY_HINT = 'credential = "default" needs azure-identity: pip install "storeroom-azure[identity]"'


def client_options(settings: AzureBlobStorageSettings) -> dict[str, Any]:
    """Keyword arguments shared by the sync and aio ``BlobServiceClient``."""
    return {
        "max_single_put_size": settings.block_size,
        "max_block_size": settings.block_size,
        "max_single_get_size": DOWNLOAD_CHUNK,
        "max_chunk_get_size": DOWNLOAD_CHUNK,
        "connection_timeout": settings.connect_timeout,
        "read_timeout": settings.read_timeout,
    }


def retry_policy(policy_cls: Any, settings: AzureBlobStorageSettings) -> Any:
    """The storage SDK's exponential retry (sync or aio class): waits ``retry_backoff``, then ``+3**n`` s."""
    return policy_cls(
        initial_backoff=settings.retry_backoff,
        increment_base=3,
        retry_total=settings.retries,
        random_jitter_range=min(3, max(1, int(settings.retry_backoff))),
    )


def default_credential(aio: bool) -> Any:
    """azure-identity's ``DefaultAzureCredential``, imported only when configured."""
    try:
        if aio:
            from azure.identity.aio import DefaultAzureCredential
        else:
            from azure.identity import DefaultAzureCredential
    except ImportError:
        raise ConfigurationError(IDENTITY_HINT, key="credential") from None
    return DefaultAzureCredential()


def account_name_from_url(url: str) -> str:
    """``https://acct.blob.core.windows.net`` -> ``acct``; ``http://127.0.0.1:10000/acct`` -> ``acct``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if host.replace(".", "").isdigit() or host in ("localhost", "[::1]") or ":" in host:
        return parts.path.strip("/").split("/", 1)[0]
    return host.split(".", 1)[0]


def make_service(
    client_cls: Any, settings: AzureBlobStorageSettings, token_credential: Any, *, aio: bool, **extra: Any
) -> Any:
    """A ``BlobServiceClient`` of ``client_cls`` (sync or aio) for the configured auth mode."""
    options = {**client_options(settings), **extra}
    try:
        if settings.connection_string is not None:
            return client_cls.from_connection_string(settings.connection_string.get_secret_value(), **options)
        url = settings.account_url
        assert url is not None  # the settings model guarantees it
        credential: Any
        if settings.account_key is not None:
            credential = {
                "account_name": account_name_from_url(url),
                "account_key": settings.account_key.get_secret_value(),
            }
        elif settings.sas_token is not None:
            credential = settings.sas_token.get_secret_value().lstrip("?")
        else:
            credential = token_credential if token_credential is not None else default_credential(aio)
        return client_cls(url, credential=credential, **options)
    except ConfigurationError:
        raise
    except (ValueError, TypeError) as exc:  # the SDK's message may quote the connection string: redacted
        raise ConfigurationError(f"cannot connect to Azure Blob Storage with these settings: {exc}") from None
