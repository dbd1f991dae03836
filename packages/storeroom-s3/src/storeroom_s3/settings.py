"""Settings of the ``s3`` backend (``[default.storages.<name>]`` with ``backend = "s3"``)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from storeroom.config.models import Size, StorageSettings
from storeroom.keys import validate_prefix
from storeroom.redaction import register_secret, register_url_password
from storeroom_s3._parts import DEFAULT_PART_SIZE, MAX_PART_SIZE, MIN_PART_SIZE

__all__ = ["S3StorageSettings"]

# S3's bucket naming rules (3-63 chars, lower-case letters, digits, '.', '-'; no IP address form).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")

ChecksumMode = Literal["when_supported", "when_required"]


class S3StorageSettings(StorageSettings):
    """An S3 bucket (or a prefix of one) on AWS or any S3-compatible server.

    Credentials are optional: without them boto3's default chain (environment,
    shared config, instance/task role) is used. Checksums default to
    ``when_required`` because many S3-compatible servers reject the CRC trailers
    newer SDKs send by default.
    """

    bucket: str
    #: keys are stored as ``prefix + "/" + key``; stores with different prefixes never see each other
    prefix: str = ""
    region: str | None = None
    endpoint_url: str | None = None
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    request_checksum_calculation: ChecksumMode = "when_required"
    response_checksum_validation: ChecksumMode = "when_required"
    #: parts of one multipart upload (or copy) in flight at once; memory is about (this + 1) x part size
    max_concurrency: int = Field(4, ge=1, le=64)
    #: first part size of multipart uploads (grows to stay within 10,000 parts); also the single-PUT threshold
    part_size: Size = Field(DEFAULT_PART_SIZE, ge=MIN_PART_SIZE, le=MAX_PART_SIZE)
    #: objects larger than this are copied with UploadPartCopy (S3's CopyObject stops at 5 GiB)
    multipart_copy_threshold: Size = Field(MAX_PART_SIZE, ge=1, le=MAX_PART_SIZE)
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(60.0, gt=0)
    #: total attempts per request, first one included (botocore's retry modes)
    max_attempts: int = Field(5, ge=1, le=20)
    retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"
    max_pool_connections: int = Field(10, ge=1, le=1000)
    #: objects per ListObjectsV2 page
    list_page_size: int = Field(1000, ge=1, le=1000)
    #: create the bucket on first use when missing (off: a missing bucket is a configuration error)
    create_bucket: bool = False
    #: whether the server honours ``If-None-Match: *`` (create-only writes): "auto" probes it once,
    #: true trusts it without asking, false refuses create-only writes (NotSupportedError)
    conditional_writes: Literal["auto"] | bool = "auto"

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not _BUCKET.match(value) or _IP.match(value) or ".." in value:
            raise ValueError("not a valid S3 bucket name (3-63 lower-case letters, digits, '.' or '-')")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip("/")
        if value:
            try:
                validate_prefix(value)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None:
            register_url_password(value)  # userinfo (http://user:password@host) is a secret too
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _credentials(self) -> S3StorageSettings:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("give both 'access_key_id' and 'secret_access_key', or neither (default AWS chain)")
        if self.session_token is not None and self.access_key_id is None:
            raise ValueError("'session_token' needs 'access_key_id' and 'secret_access_key'")
        for secret in (self.access_key_id, self.secret_access_key, self.session_token):
            if secret is not None:
                register_secret(secret.get_secret_value())
        return self
