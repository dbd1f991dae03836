"""Azurite fixtures: account settings, and a fresh container per test (removed afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from _proxy import CuttingProxy

#: Azurite's well-known development account (public, documented by Microsoft)
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass(frozen=True)
class Azurite:
    url: str  # http://127.0.0.1:PORT/devstoreaccount1

    @property
    def connection_string(self) -> str:
        return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};BlobEndpoint={self.url};"

    def key_config(self, **extra: Any) -> dict[str, Any]:
        return {"account_url": self.url, "account_key": ACCOUNT_KEY, **extra}

    def cs_config(self, **extra: Any) -> dict[str, Any]:
        return {"connection_string": self.connection_string, **extra}

    def service(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string)


def container_sas(container: str) -> str:
    """A SAS token for ``container`` (read, write, delete, list, create; valid for an hour)."""
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return generate_container_sas(
        ACCOUNT,
        container,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True, write=True, delete=True, list=True, create=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )


@pytest.fixture(scope="session")
def azurite(azurite_url: str) -> Azurite:
    return Azurite(azurite_url.rstrip("/"))


def new_container_name() -> str:
    return f"t-{uuid.uuid4().hex[:20]}"


@pytest.fixture
def container(azurite: Azurite) -> Iterator[str]:
    """A new, empty container, deleted after the test."""
    name = new_container_name()
    with azurite.service() as service:
        service.create_container(name)
        yield name
        service.delete_container(name)


@pytest.fixture
def blob_names(azurite: Azurite, container: str) -> Any:
    """Every committed blob name in the test's container, straight from the SDK."""

    def names() -> list[str]:
        with azurite.service() as service:
            return [b.name for b in service.get_container_client(container).list_blobs()]

    return names


# -- a connection that drops mid-request --------------------------------------------------


@pytest.fixture
def cutting_proxy(azurite: Azurite) -> Iterator[Any]:
    """``cutting_proxy(n)`` -> a :class:`CuttingProxy` to Azurite; its URL is ``proxy.url``."""
    from urllib.parse import urlsplit

    target = urlsplit(azurite.url)
    made: list[CuttingProxy] = []

    def make(cut_after: int) -> CuttingProxy:
        # the network stays down after the cut, so the SDK's retries fail too
        proxy = CuttingProxy(
            (target.hostname or "127.0.0.1", target.port or 10000), cut_after, times=None, path=target.path
        )
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()
