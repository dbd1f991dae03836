"""Settings of the ``azure`` backend (``[default.storages.<name>]`` with ``backend = "azure"``).

Exactly one way to authenticate is accepted, so a half-edited config fails at load
time with the offending key named instead of silently falling back to another mode.
Every secret is registered for redaction the moment it is validated.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from storeroom.config.models import Size, StorageSettings
from storeroom.errors import InvalidKeyError
from storeroom.keys import validate_prefix
from storeroom.redaction import register_secret

__all__ = ["DEFAULT_BLOCK_SIZE", "AzureBlobStorageSettings", "connection_string_secrets", "normalise_prefix"]

KiB = 1024
MiB = 1024 * KiB
DEFAULT_BLOCK_SIZE = 8 * MiB
#: Azure's largest block (service version 2019-12-12 and later)
MAX_BLOCK_SIZE = 4000 * MiB

_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$|^\$(?:root|web|logs)$")
_CS_SECRETS = ("accountkey", "sharedaccesssignature")


def connection_string_secrets(connection_string: str) -> list[str]:
    """The secret values (AccountKey, SharedAccessSignature) inside a connection string."""
    found = []
    for part in connection_string.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip().lower() in _CS_SECRETS and value.strip():
            found.append(value.strip())
    return found


def normalise_prefix(prefix: str) -> str:
    """``"docs"`` and ``"docs/"`` both mean the folder ``docs/``: a store never sees ``docs2/``."""
    prefix = prefix.strip()
    if not prefix:
        return ""
    validate_prefix(prefix)
    return prefix if prefix.endswith("/") else prefix + "/"


class AzureBlobStorageSettings(StorageSettings):
    """One container (optionally a folder inside it) of an Azure Storage account."""

    container: str
    #: folder inside the container this store is confined to ("docs" -> "docs/")
    prefix: str = ""
    connection_string: SecretStr | None = None
    account_url: str | None = None
    account_key: SecretStr | None = None
    sas_token: SecretStr | None = None
    #: "default": azure-identity's DefaultAzureCredential (pip install "storeroom-azure[identity]")
    credential: Literal["default"] | None = None
    #: create the container on first use if it is missing
    create_container: bool = False
    #: blocks uploaded (and ranges downloaded) in parallel by one call
    max_concurrency: int = Field(4, ge=1, le=64)
    #: size of each staged block; bodies up to this size go up in a single request
    block_size: Size = Field(DEFAULT_BLOCK_SIZE, ge=KiB, le=MAX_BLOCK_SIZE)
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(60.0, gt=0)
    #: retries of a failed request (the SDK's exponential back-off); 0 disables them
    retries: int = Field(3, ge=0, le=20)
    #: seconds before the first retry; later ones wait 3**n seconds more (the SDK's default is 15)
    retry_backoff: float = Field(2.0, ge=0)
    #: blobs per listing request (the service caps it at 5000)
    list_page_size: int = Field(1000, ge=1, le=5000)

    @field_validator("container")
    @classmethod
    def _container_name(cls, value: str) -> str:
        if not _CONTAINER.match(value):
            raise ValueError(
                "not a valid container name: 3-63 lowercase letters, digits and single hyphens, "
                "starting and ending with a letter or digit"
            )
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        try:
            return normalise_prefix(value)
        except InvalidKeyError as exc:
            raise ValueError(exc.message) from None

    @field_validator("account_url")
    @classmethod
    def _account_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.query:
            register_secret(parts.query)
            raise ValueError("must not carry a query string; put a SAS token in 'sas_token' instead")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://ACCOUNT.blob.core.windows.net")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_auth_mode(self) -> AzureBlobStorageSettings:
        for secret in (self.account_key, self.sas_token, self.connection_string):
            if secret is not None:
                register_secret(secret.get_secret_value())
        if self.sas_token is not None:
            register_secret(self.sas_token.get_secret_value().lstrip("?"))
        if self.connection_string is not None:
            for value in connection_string_secrets(self.connection_string.get_secret_value()):
                register_secret(value)
        modes = [n for n in ("account_key", "sas_token", "credential") if getattr(self, n) is not None]
        if self.connection_string is not None:
            if self.account_url is not None:
                raise ValueError("give either 'connection_string' or 'account_url', not both")
            if modes:
                raise ValueError(f"'connection_string' already authenticates; remove {', '.join(map(repr, modes))}")
            return self
        if self.account_url is None:
            raise ValueError("missing 'connection_string' or 'account_url' (with account_key, sas_token or credential)")
        if len(modes) != 1:
            given = f" (got {', '.join(map(repr, modes))})" if modes else ""
            raise ValueError(
                "with 'account_url' give exactly one of 'account_key', 'sas_token' or 'credential = \"default\"'"
                + given
            )
        return self
