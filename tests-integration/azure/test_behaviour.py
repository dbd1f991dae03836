"""Azure-specific behaviour: prefixes, bad input before I/O, SAS URLs, auth modes, health, errors."""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from _services import free_port
from storeroom.errors import (
    ContentTooLargeError,
    ContentTypeNotAllowedError,
    InvalidKeyError,
    InvalidMetadataError,
    NotSupportedError,
    ObjectNotFoundError,
    PreconditionFailedError,
    StorageError,
)
from storeroom.health import HealthStatus
from storeroom.policy import StoragePolicy
from storeroom.testing.storage import payload
from storeroom_azure import AsyncAzureBlobStorage, AzureBlobStorage

from .conftest import ACCOUNT, ACCOUNT_KEY, container_sas, new_container_name  # type: ignore[import-not-found]

KiB = 1024


@pytest.fixture
def store(azurite: Any, container: str) -> Iterator[AzureBlobStorage]:
    with AzureBlobStorage(container, block_size=64 * KiB, **azurite.key_config()) as st:
        yield st


def _unreachable(**extra: Any) -> AzureBlobStorage:
    """A store whose endpoint nobody listens on: any I/O at all fails with StorageError."""
    url = f"http://127.0.0.1:{free_port()}/{ACCOUNT}"
    return AzureBlobStorage("nothing", account_url=url, account_key=ACCOUNT_KEY, retries=0, connect_timeout=2, **extra)


# -- prefix ---------------------------------------------------------------------------------


def test_prefix_isolates_stores_sharing_a_container(azurite: Any, container: str) -> None:
    config = azurite.cs_config()
    with (
        AzureBlobStorage(container, prefix="docs", **config) as docs,
        AzureBlobStorage(container, prefix="docs2/", **config) as docs2,
        AzureBlobStorage(container, **config) as whole,
    ):
        docs.write("a.txt", b"docs")
        docs2.write("a.txt", b"docs2")
        whole.write("docs.txt", b"beside")
        assert docs.list_keys() == ["a.txt"]
        assert docs2.list_keys() == ["a.txt"]
        assert docs.read("a.txt") == b"docs"
        assert [o.key for o in docs.list(start_after="a")] == ["a.txt"]
        assert whole.list_keys() == ["docs.txt", "docs/a.txt", "docs2/a.txt"]
        assert docs.delete_many(["a.txt", "b.txt"]) == 1
        assert docs2.read("a.txt") == b"docs2"
        docs2.copy("a.txt", "b.txt")
        docs2.move("b.txt", "c.txt")
        assert whole.list_keys() == ["docs.txt", "docs2/a.txt", "docs2/c.txt"]
        url = docs2.presigned_url("c.txt")
        assert f"/{container}/docs2/c.txt?" in url


# -- bad input, refused before any I/O -------------------------------------------------------


def test_bad_input_fails_before_io() -> None:
    with _unreachable(prefix="tenant") as st:
        with pytest.raises(InvalidKeyError, match="1024"):
            st.write("k" * 1020, b"x")  # fits the core limit, not with the prefix
        with pytest.raises(InvalidKeyError, match="254"):
            st.write("/".join("s" * 300), b"x")
        with pytest.raises(InvalidMetadataError):
            st.write("k", b"x", metadata={"big": "v" * 3000})
        with pytest.raises(InvalidMetadataError):
            st.write("k", b"x", metadata={"nämé": "x"})
        with pytest.raises(InvalidKeyError):
            st.read("k" * 1020)
        with pytest.raises(ContentTooLargeError):
            st.write("k", b"x" * 100, max_size=10)
        with pytest.raises(StorageError, match="could not reach"):  # the control: this one does I/O
            st.write("k", b"x")


@pytest.mark.parametrize("max_concurrency", [1, 4])
def test_delete_many_checks_every_name_before_deleting(
    azurite: Any, container: str, blob_names: Any, max_concurrency: int
) -> None:
    too_long = "k" * 1020  # fits the core limit, not with the prefix
    with AzureBlobStorage(container, prefix="tenant", max_concurrency=max_concurrency, **azurite.key_config()) as st:
        st.write("a", b"1")
        with pytest.raises(InvalidKeyError, match="1024"):
            st.delete_many(["a", too_long])
        assert blob_names() == ["tenant/a"]


@pytest.mark.asyncio
async def test_async_delete_many_checks_every_name_before_deleting(
    azurite: Any, container: str, blob_names: Any
) -> None:
    async with AsyncAzureBlobStorage(container, prefix="tenant", **azurite.key_config()) as st:
        await st.write("a", b"1")
        with pytest.raises(InvalidKeyError, match="254"):
            await st.delete_many(["/".join("s" * 300), "a"])
        # let whatever the call left running finish before looking
        await asyncio.gather(*(t for t in asyncio.all_tasks() if t is not asyncio.current_task()))
        assert blob_names() == ["tenant/a"]


def test_streamed_body_over_max_size_stores_nothing(store: AzureBlobStorage, blob_names: Any) -> None:
    data = payload(500 * KiB)
    with pytest.raises(ContentTooLargeError):
        store.write("big", iter([data[i : i + 10_000] for i in range(0, len(data), 10_000)]), max_size=300 * KiB)
    assert blob_names() == []


def test_policy_content_type_and_size(store: AzureBlobStorage, blob_names: Any) -> None:
    policy = StoragePolicy("avatars", store, key_prefix="avatars/", max_size=200 * KiB, content_types=["image/png"])
    with pytest.raises(ContentTypeNotAllowedError):
        policy.put(b"text", content_type="text/plain")
    with pytest.raises(ContentTooLargeError):
        policy.put(iter([b"x" * 50 * KiB] * 5), filename="big.png")
    assert blob_names() == []
    ref = policy.put(b"\x89PNG....", filename="me.png")
    assert ref.key.startswith("avatars/") and ref.content_type == "image/png"
    assert store.stat(ref.key).content_type == "image/png"


# -- metadata as Azure stores it -------------------------------------------------------------


def test_metadata_names_that_azure_would_merge_stay_distinct(
    store: AzureBlobStorage, azurite: Any, container: str
) -> None:
    meta = {"content-type": "1", "content_type": "2", "content.type": "3", "x_y": "4", "7up": "ü", "Owner": ""}
    store.write("m", b"x", metadata=meta)
    assert store.get_metadata("m") == {k.lower(): v for k, v in meta.items()}
    with azurite.service() as service:
        raw = service.get_blob_client(container, "m").get_blob_properties().metadata
    assert raw["content_2dtype"] == "1" and raw["content_5ftype"] == "2" and raw["_37up"] == "=?utf-8?b?w7w=?="
    assert [o.metadata for o in store.list()] == [store.get_metadata("m")]


# -- presigned URLs --------------------------------------------------------------------------


def test_presigned_put_then_get(store: AzureBlobStorage) -> None:
    url = store.presigned_url("up/load.bin", method="PUT", expires_in=120)
    request = urllib.request.Request(
        url, data=b"uploaded", method="PUT", headers={"x-ms-blob-type": "BlockBlob", "Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    assert store.read("up/load.bin") == b"uploaded"
    with urllib.request.urlopen(store.presigned_url("up/load.bin"), timeout=10) as response:
        assert response.read() == b"uploaded"
    with pytest.raises(urllib.error.HTTPError) as excinfo:  # a GET URL cannot write
        urllib.request.urlopen(
            urllib.request.Request(
                store.presigned_url("up/other"), data=b"x", method="PUT", headers={"x-ms-blob-type": "BlockBlob"}
            ),
            timeout=10,
        )
    assert excinfo.value.code == 403


# -- SAS-token configuration ----------------------------------------------------------------


@pytest.fixture
def sas_token(container: str) -> str:
    return container_sas(container)


def test_sas_token_config(azurite: Any, container: str, sas_token: str, caplog: pytest.LogCaptureFixture) -> None:
    signature = dict(p.split("=", 1) for p in sas_token.split("&"))["sig"]
    caplog.set_level(logging.DEBUG)
    with AzureBlobStorage(container, account_url=azurite.url, sas_token=sas_token, block_size=64 * KiB) as st:
        st.write("s/a", payload(200 * KiB), metadata={"k": "v"})
        st.copy("s/a", "s/b")
        assert st.read("s/b") == payload(200 * KiB)
        assert st.list_keys() == ["s/a", "s/b"]
        assert not st.supports_presigned_urls
        with pytest.raises(NotSupportedError, match="account key"):
            st.presigned_url("s/a")
        with pytest.raises(ObjectNotFoundError):
            st.read("missing")
        assert signature not in repr(st)
    assert caplog.records, "expected SDK debug logging"
    assert signature not in caplog.text
    assert sas_token not in caplog.text


@pytest.mark.asyncio
async def test_async_sas_token_config(azurite: Any, container: str, sas_token: str) -> None:
    async with AsyncAzureBlobStorage(container, account_url=azurite.url, sas_token=sas_token) as st:
        await st.write("a", b"x")
        assert await st.list_keys() == ["a"]
        with pytest.raises(NotSupportedError):
            await st.presigned_url("a")


# -- container handling, health and error translation ---------------------------------------


def test_missing_container(azurite: Any) -> None:
    name = new_container_name()
    with AzureBlobStorage(name, **azurite.cs_config()) as st:
        with pytest.raises(StorageError, match="does not exist") as excinfo:
            st.write("a", b"x")
        assert not isinstance(excinfo.value, ObjectNotFoundError)
        assert excinfo.value.__cause__ is not None
        with pytest.raises(StorageError, match="create_container"):
            st.list_keys()
        with pytest.raises(StorageError, match="does not exist"):
            st.delete("a")
        result = st.health_check()
        assert result.status is HealthStatus.UNHEALTHY and "does not exist" in result.message


def test_create_container_on_first_use(azurite: Any) -> None:
    name = new_container_name()
    try:
        with AzureBlobStorage(name, create_container=True, **azurite.cs_config()) as st:
            assert st.list_keys() == []
            st.write("a", b"x")
            assert st.health_check().ok
        with AzureBlobStorage(name, create_container=True, **azurite.cs_config()) as again:
            assert again.list_keys() == ["a"]  # an existing container is fine
    finally:
        with azurite.service() as service:
            service.delete_container(name)


@pytest.mark.asyncio
async def test_async_create_container_on_first_use(azurite: Any) -> None:
    name = new_container_name()
    try:
        async with AsyncAzureBlobStorage(name, create_container=True, **azurite.key_config()) as st:
            await st.write("a", b"x")
            assert (await st.health_check()).ok
    finally:
        with azurite.service() as service:
            service.delete_container(name)


def test_wrong_key_is_a_clear_redacted_error(azurite: Any, container: str, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
    caplog.set_level(logging.DEBUG)
    with AzureBlobStorage(container, account_url=azurite.url, account_key=wrong, retries=0) as st:
        with pytest.raises(StorageError, match="authentication") as excinfo:
            st.write("a", b"x")
        assert wrong not in str(excinfo.value) and wrong not in repr(st)
        assert excinfo.value.__cause__ is not None
        result = st.health_check()
        assert result.status is HealthStatus.UNHEALTHY and wrong not in result.message
    assert wrong not in caplog.text


def test_unreachable_is_unhealthy_and_clear() -> None:
    with _unreachable() as st:
        result = st.health_check(timeout=10)
        assert result.status is HealthStatus.UNHEALTHY
        assert "could not reach" in result.message
        assert result.details["backend"] == "azure"
        with pytest.raises(StorageError, match="could not reach") as excinfo:
            st.read("a")
        assert type(excinfo.value.__cause__).__name__ == "ServiceRequestError"
        assert ACCOUNT_KEY not in str(excinfo.value)


@pytest.mark.asyncio
async def test_async_unreachable_is_unhealthy() -> None:
    url = f"http://127.0.0.1:{free_port()}/{ACCOUNT}"
    async with AsyncAzureBlobStorage("nothing", account_url=url, account_key=ACCOUNT_KEY, retries=0) as st:
        result = await st.health_check(timeout=10)
        assert result.status is HealthStatus.UNHEALTHY
        with pytest.raises(StorageError, match="could not reach"):
            await st.stat("a")


def test_health_reports_container(store: AzureBlobStorage, container: str) -> None:
    result = store.health_check()
    assert result.ok and result.details["container"] == container and result.latency_ms >= 0


# -- reads --------------------------------------------------------------------------------


def test_read_stream_is_bounded_by_download_chunks(store: AzureBlobStorage) -> None:
    data = payload(9 * 1024 * KiB + 7)
    store.write("big", data)
    parts = list(store.read_stream("big", chunk_size=3 * 1024 * KiB))
    assert b"".join(parts) == data
    assert max(len(p) for p in parts) <= 3 * 1024 * KiB
    assert (
        store.read_range("big", 4 * 1024 * KiB - 3, 4 * 1024 * KiB + 3) == data[4 * 1024 * KiB - 3 : 4 * 1024 * KiB + 3]
    )


def test_overwrite_during_a_streamed_read_is_detected(store: AzureBlobStorage) -> None:
    store.write("v", payload(9 * 1024 * KiB, seed=1))
    stream = store.read_stream("v", chunk_size=1024 * KiB)
    first = next(stream)
    assert first == payload(9 * 1024 * KiB, seed=1)[: 1024 * KiB]
    store.write("v", payload(9 * 1024 * KiB, seed=2))
    with pytest.raises(PreconditionFailedError, match="changed"):
        list(stream)  # never a mix of two versions
    assert store.read("v") == payload(9 * 1024 * KiB, seed=2)


@pytest.mark.asyncio
async def test_async_prefix_and_metadata(azurite: Any, container: str) -> None:
    async with (
        AsyncAzureBlobStorage(container, prefix="docs", **azurite.key_config()) as docs,
        AsyncAzureBlobStorage(container, prefix="docs2", **azurite.key_config()) as docs2,
    ):
        await docs.write("a", b"1", metadata={"content-type": "x", "content_type": "y"})
        await docs2.write("a", b"2")
        assert await docs.list_keys() == ["a"]
        assert await docs.get_metadata("a") == {"content-type": "x", "content_type": "y"}
        assert [i.key async for i in docs2.list(start_after="0")] == ["a"]


def test_through_the_storeroom(azurite: Any, container: str) -> None:
    from storeroom.room import Storeroom

    settings = {"storages": {"blobs": {"backend": "azure", "container": container, **azurite.cs_config()}}}
    with Storeroom.from_settings(settings, embedded_default=False) as room:
        store = room.storage("blobs")
        assert isinstance(store, AzureBlobStorage)
        store.write("hello.txt", b"hi", content_type="text/plain")
        assert room.health()["storages.blobs"].ok
        assert ACCOUNT_KEY not in repr(room.storage("blobs"))
