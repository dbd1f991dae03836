"""boto3 / aiobotocore client arguments from the settings, one source for both SDKs."""

from __future__ import annotations

from typing import Any

from storeroom_s3.settings import S3StorageSettings

__all__ = ["client_kwargs", "config_kwargs"]


def config_kwargs(settings: S3StorageSettings) -> dict[str, Any]:
    """Keyword arguments of ``botocore.config.Config`` (and aiobotocore's ``AioConfig``)."""
    return {
        "signature_version": "s3v4",
        "s3": {"addressing_style": settings.addressing_style},
        "connect_timeout": settings.connect_timeout,
        "read_timeout": settings.read_timeout,
        "retries": {"total_max_attempts": settings.max_attempts, "mode": settings.retry_mode},
        # every part in flight needs its own connection; a few spare for concurrent calls
        "max_pool_connections": max(settings.max_pool_connections, settings.max_concurrency + 2),
        "request_checksum_calculation": settings.request_checksum_calculation,
        "response_checksum_validation": settings.response_checksum_validation,
        "user_agent_extra": "storeroom-s3",
    }


def client_kwargs(settings: S3StorageSettings) -> dict[str, Any]:
    """Keyword arguments of ``session.create_client("s3", ...)`` besides ``config``."""
    kwargs: dict[str, Any] = {"region_name": settings.region, "endpoint_url": settings.endpoint_url}
    if settings.access_key_id is not None and settings.secret_access_key is not None:
        kwargs["aws_access_key_id"] = settings.access_key_id.get_secret_value()
        kwargs["aws_secret_access_key"] = settings.secret_access_key.get_secret_value()
        if settings.session_token is not None:
            kwargs["aws_session_token"] = settings.session_token.get_secret_value()
    return kwargs
