"""Promises Azurite does not keep by itself: UTF-8 listing order, exact ranges, what a failed upload leaves.

Azurite pages blob listings in UTF-16 order, where a key with an emoji sorts before one with
U+E000-U+FFFF (private use, CJK compatibility, half-width forms) at the same place; ``list``
promises UTF-8 byte order, so storeroom reorders - within bounded memory - and must lose or
repeat nothing, across small pages and with ``start_after``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from _proxy import CuttingProxy
from storeroom.errors import InconsistentResponseError
from storeroom.testing.storage import SourceFailure, payload
from storeroom_azure import AsyncAzureBlobStorage, AzureBlobStorage

from .conftest import container_sas  # type: ignore[import-not-found]

KiB = 1024

#: keys where UTF-16 and UTF-8 order disagree, at several depths, with small and large astral blocks
MIXED_KEYS = sorted(
    [
        "a",
        "a/\U0001f600",
        "a/\U0001f600/x",
        "a/\U0001f600\ue000",
        "a/\U0001f680",
        "a/\ue000",
        "a/\uf8ff/\U0001f680",
        "a/\uf8ff/\ufffd",
        "a/\ufffd",
        "a/b",
        "b\U00010000y",
        "b\ue000y",
        "b\uff21",
        "c",
        "\U0001f600",
        "\ue000",
        *(f"m/\U0001f600{i:02d}" for i in range(9)),  # more than a page: listed again on its own
        "m/\uf900",
        "m/z",
    ],
    key=lambda k: k.encode("utf-8"),
)


def test_the_service_itself_pages_in_utf16_order(azurite: Any, container: str) -> None:
    """Why the reordering exists (if Azurite ever changes, this says so)."""
    with azurite.service() as service:
        client = service.get_container_client(container)
        for key in ("\U0001f600", "\ue000"):
            client.upload_blob(key, b"")
        assert [b.name for b in client.list_blobs()] == ["\U0001f600", "\ue000"]


@pytest.mark.parametrize("page", [1, 2, 3, 1000])
def test_listing_is_in_utf8_order_whatever_the_page_size(azurite: Any, container: str, page: int) -> None:
    with AzureBlobStorage(container, list_page_size=page, **azurite.key_config()) as st:
        for key in reversed(MIXED_KEYS):
            st.write(key, key.encode())
        assert st.list_keys() == MIXED_KEYS
        for prefix in ("a/", "a/\uf8ff/", "b", "m/", "\U0001f600"):
            assert st.list_keys(prefix) == [k for k in MIXED_KEYS if k.startswith(prefix)], prefix
        infos = list(st.list("m/"))
        assert [i.size for i in infos] == [len(i.key.encode()) for i in infos]


@pytest.mark.parametrize("page", [2, 1000])
def test_start_after_resumes_without_losing_a_key(azurite: Any, container: str, page: int) -> None:
    with AzureBlobStorage(container, list_page_size=page, **azurite.key_config()) as st:
        for key in MIXED_KEYS:
            st.write(key, b"")
        for i, key in enumerate(MIXED_KEYS):
            assert [o.key for o in st.list(start_after=key)] == MIXED_KEYS[i + 1 :], key
        # resuming page by page, as a caller that keeps only the last key would
        seen: list[str] = []
        while True:
            batch = [o.key for _, o in zip(range(3), st.list(start_after=seen[-1] if seen else None), strict=False)]
            if not batch:
                break
            seen += batch
        assert seen == MIXED_KEYS


def test_async_listing(azurite: Any, container: str) -> None:
    async def run() -> None:
        async with AsyncAzureBlobStorage(container, list_page_size=2, **azurite.key_config()) as st:
            await asyncio.gather(*(st.write(k, b"") for k in MIXED_KEYS))
            assert [o.key async for o in st.list()] == MIXED_KEYS
            middle = MIXED_KEYS[len(MIXED_KEYS) // 2]
            assert [o.key async for o in st.list(start_after=middle)] == MIXED_KEYS[len(MIXED_KEYS) // 2 + 1 :]
            assert await st.list_keys("a/") == [k for k in MIXED_KEYS if k.startswith("a/")]

    asyncio.run(run())


def test_a_listing_abandoned_mid_way_closes_cleanly(azurite: Any, container: str) -> None:
    with AzureBlobStorage(container, list_page_size=2, **azurite.key_config()) as st:
        for key in MIXED_KEYS:
            st.write(key, b"")
        listing = st.list("m/")  # the large astral block is listed a second time: two streams open
        assert [next(listing).key for _ in range(3)] == [k for k in MIXED_KEYS if k.startswith("m/")][:3]
        listing.close()
        assert st.list_keys("m/") == [k for k in MIXED_KEYS if k.startswith("m/")]


# -- ranges: a service that does not answer the range it was asked ----------------------------


@pytest.fixture
def sas_token(container: str) -> str:
    return container_sas(container)


@pytest.fixture
def range_bender(azurite: Any) -> Iterator[Any]:
    """``range_bender(old, new)`` -> a proxy to Azurite rewriting the x-ms-range request header.

    With a SAS token the header is not signed, so Azurite answers the rewritten range - what a
    server that mishandles ranges does to a client that trusts it.
    """
    from urllib.parse import urlsplit

    target = urlsplit(azurite.url)
    made: list[CuttingProxy] = []

    def make(old: bytes, new: bytes) -> CuttingProxy:
        proxy = CuttingProxy(
            (target.hostname or "127.0.0.1", target.port or 10000), None, path=target.path, rewrite=(old, new)
        )
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (b"x-ms-range: bytes=3-", b"x-ms-range: bytes=0-", "bytes 0-4"),  # the SDK alone returns b"01234"
        (b"x-ms-range:", b"x-ms-ignored:", "the whole object"),  # the SDK alone raises a bare ValueError
    ],
)
def test_a_wrong_range_is_an_error_not_wrong_bytes(
    azurite: Any, container: str, sas_token: str, range_bender: Any, old: bytes, new: bytes, fragment: str
) -> None:
    with AzureBlobStorage(container, **azurite.key_config()) as st:
        st.write("r", b"0123456789")
    proxy = range_bender(old, new)
    with AzureBlobStorage(container, account_url=proxy.url, sas_token=sas_token, retries=0) as st:
        if b"bytes=" in old:
            assert st.read("r") == b"0123456789"  # reads from byte 0 pass untouched
        with pytest.raises(InconsistentResponseError, match=fragment) as excinfo:
            st.read_range("r", 3, 5)
        assert excinfo.value.key == "r"


def test_async_wrong_range(azurite: Any, container: str, sas_token: str, range_bender: Any) -> None:
    with AzureBlobStorage(container, **azurite.key_config()) as st:
        st.write("r", b"0123456789")
    proxy = range_bender(b"x-ms-range: bytes=3-", b"x-ms-range: bytes=0-")

    async def run() -> bytes:
        async with AsyncAzureBlobStorage(container, account_url=proxy.url, sas_token=sas_token, retries=0) as st:
            return await st.read_range("r", 3, 5)

    with pytest.raises(InconsistentResponseError):
        asyncio.run(run())


def test_every_request_of_a_parallel_ranged_read_is_checked(azurite: Any, container: str) -> None:
    data = payload(9 * 1024 * KiB)
    with AzureBlobStorage(container, max_concurrency=3, **azurite.key_config()) as st:
        st.write("big", data)
        assert st.read_range("big", 5, 9 * 1024 * KiB - 7) == data[5 : 9 * 1024 * KiB - 7]  # three requests
        assert st.read_range("big", 9 * 1024 * KiB - 3, 10**9) == data[-3:]
        assert st.read_range("big", 10**9, 10**9 + 1) == b""


# -- what a failed staged upload leaves ---------------------------------------------------------


def _blocks_then(error: BaseException, blocks: int = 5) -> Iterator[bytes]:
    for _ in range(blocks):
        yield b"x" * (64 * KiB)
    raise error


def test_a_failed_staged_upload_says_its_blocks_were_left(azurite: Any, container: str) -> None:
    boom = SourceFailure("late")
    with AzureBlobStorage(container, block_size=64 * KiB, **azurite.key_config()) as st:
        with pytest.raises(SourceFailure) as excinfo:
            st.write("left/big.bin", _blocks_then(boom))
        assert excinfo.value is boom
        assert not st.exists("left/big.bin")
    (note,) = boom.__notes__
    assert "uncommitted block(s) staged for 'left/big.bin'" in note and "after a week" in note, note
    with azurite.service() as service:
        committed, uncommitted = service.get_blob_client(container, "left/big.bin").get_block_list("all")
    assert committed == [] and uncommitted, "the note must be true"


def test_async_failed_staged_upload_says_so(azurite: Any, container: str) -> None:
    boom = SourceFailure("late")

    async def source() -> Any:
        for chunk in _blocks_then(boom):
            yield chunk

    async def run() -> None:
        async with AsyncAzureBlobStorage(container, block_size=64 * KiB, **azurite.key_config()) as st:
            await st.write("left/async.bin", source())

    with pytest.raises(SourceFailure):
        asyncio.run(run())
    assert any("uncommitted block(s) staged for 'left/async.bin'" in n for n in boom.__notes__)


def test_a_small_failed_write_leaves_nothing_to_report(azurite: Any, container: str) -> None:
    boom = SourceFailure("early")
    with AzureBlobStorage(container, block_size=64 * KiB, **azurite.key_config()) as st, pytest.raises(SourceFailure):
        st.write("small", _blocks_then(boom, blocks=0))
    assert not getattr(boom, "__notes__", [])
