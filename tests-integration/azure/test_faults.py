"""Failures mid-upload leave no blob: source errors, cancellation, dropped connections, races."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from storeroom.errors import ObjectExistsError, PreconditionFailedError, StorageError
from storeroom.objects import ObjectInfo
from storeroom.testing.storage import SourceFailure, payload
from storeroom_azure import AsyncAzureBlobStorage, AzureBlobStorage

KiB = 1024
BLOCK = 64 * KiB


def _blocks_after(data: bytes, error: BaseException, pieces: int = 16) -> Iterator[bytes]:
    step = len(data) // pieces
    for start in range(0, len(data), step):
        yield data[start : start + step]
    raise error


def _uncommitted(azurite: Any, container: str, name: str) -> list[str]:
    with azurite.service() as service:
        committed, uncommitted = service.get_blob_client(container, name).get_block_list("all")
    assert committed == []
    return [b.id for b in uncommitted]


@pytest.fixture
def store(azurite: Any, container: str) -> Iterator[AzureBlobStorage]:
    with AzureBlobStorage(container, block_size=BLOCK, max_concurrency=3, **azurite.cs_config()) as st:
        yield st


def test_source_failure_after_several_blocks_commits_nothing(
    store: AzureBlobStorage, azurite: Any, container: str, blob_names: Any
) -> None:
    boom = SourceFailure("late")
    with pytest.raises(SourceFailure) as excinfo:
        store.write("f/big.bin", _blocks_after(payload(5 * BLOCK), boom))
    assert excinfo.value is boom
    assert blob_names() == []
    assert not store.exists("f/big.bin")
    # What the service keeps: staged, uncommitted blocks (Azure drops them after 7 days).
    left = _uncommitted(azurite, container, "f/big.bin")
    assert len(left) >= 2
    assert len({len(i) for i in left}) == 1
    # A later successful write replaces them.
    store.write("f/big.bin", payload(3 * BLOCK + 5, seed=2))
    with azurite.service() as service:
        committed, uncommitted = service.get_blob_client(container, "f/big.bin").get_block_list("all")
    assert len(committed) == 4 and uncommitted == []
    assert store.read("f/big.bin") == payload(3 * BLOCK + 5, seed=2)


@pytest.mark.asyncio
async def test_cancelled_async_upload_commits_nothing(azurite: Any, container: str, blob_names: Any) -> None:
    staged = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        for i in range(1000):
            yield payload(BLOCK, seed=i)
            if i >= 3:
                staged.set()
            await asyncio.sleep(0.01)

    async with AsyncAzureBlobStorage(container, block_size=BLOCK, **azurite.key_config()) as st:
        task = asyncio.create_task(st.write("c/cancelled", slow()))
        await asyncio.wait_for(staged.wait(), 20)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not await st.exists("c/cancelled")
        assert await st.list_keys() == []
    assert blob_names() == []


@pytest.mark.parametrize("size", [40 * KiB, 6 * BLOCK], ids=["single-request", "staged-blocks"])
def test_connection_dropped_mid_upload(
    cutting_proxy: Any, azurite: Any, container: str, blob_names: Any, size: int
) -> None:
    proxy = cutting_proxy(size // 2)
    with (
        AzureBlobStorage(
            container,
            block_size=BLOCK,
            retries=0,
            account_url=proxy.url,
            account_key=azurite.key_config()["account_key"],
        ) as st,
        pytest.raises(StorageError) as excinfo,
    ):
        st.write("drop/me", payload(size))
    assert proxy.cuts
    assert excinfo.value.__cause__ is not None
    assert "Eby8vdM02" not in str(excinfo.value)
    assert blob_names() == []


@pytest.mark.parametrize("size", [40 * KiB, 6 * BLOCK], ids=["single-request", "staged-blocks"])
@pytest.mark.asyncio
async def test_connection_dropped_mid_async_upload(
    cutting_proxy: Any, azurite: Any, container: str, blob_names: Any, size: int
) -> None:
    proxy = cutting_proxy(size // 2)
    async with AsyncAzureBlobStorage(
        container,
        block_size=BLOCK,
        retries=1,
        retry_backoff=0.1,
        account_url=proxy.url,
        account_key=azurite.key_config()["account_key"],
    ) as st:
        with pytest.raises(StorageError):
            await st.write("drop/me", payload(size))
    assert proxy.cuts
    assert blob_names() == []


def test_every_failed_async_block_is_collected(
    cutting_proxy: Any, azurite: Any, container: str, blob_names: Any, caplog: Any
) -> None:
    """Several blocks failing at once: asyncio must not report the others as "never retrieved"."""
    proxy = cutting_proxy(BLOCK // 2)  # the network stays down: every block in flight fails

    async def run() -> None:
        async with AsyncAzureBlobStorage(
            container,
            block_size=BLOCK,
            max_concurrency=4,
            retries=0,
            account_url=proxy.url,
            account_key=azurite.key_config()["account_key"],
        ) as st:
            await st.write("drop/me", payload(3 * BLOCK))

    with pytest.raises(StorageError):
        asyncio.run(run())
    gc.collect()  # a task whose exception nobody retrieved is reported when it is collected
    assert "never retrieved" not in caplog.text
    assert blob_names() == []


N_WRITERS = 32


def _race_payload(i: int) -> bytes:
    return payload(3 * BLOCK + 1000 * i, seed=i)  # several blocks each


def test_create_only_race_with_staged_blocks_threads(store: AzureBlobStorage) -> None:
    barrier = threading.Barrier(N_WRITERS)
    outcomes: list[Any] = [None] * N_WRITERS

    def attempt(i: int) -> None:
        data = _race_payload(i)
        barrier.wait()
        try:
            outcomes[i] = store.write("race", iter([data]), overwrite=False, metadata={"w": str(i)})
        except BaseException as exc:  # noqa: BLE001 - checked below
            outcomes[i] = exc

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(N_WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    winners = [i for i, o in enumerate(outcomes) if isinstance(o, ObjectInfo)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, ObjectExistsError) for i, o in enumerate(outcomes) if i not in winners), outcomes
    assert store.read("race") == _race_payload(winners[0])
    assert store.get_metadata("race") == {"w": str(winners[0])}


@pytest.mark.asyncio
async def test_create_only_race_with_staged_blocks_tasks(azurite: Any, container: str) -> None:
    async with AsyncAzureBlobStorage(container, block_size=BLOCK, **azurite.key_config()) as st:

        async def attempt(i: int) -> ObjectInfo:
            async def body() -> AsyncIterator[bytes]:
                yield _race_payload(i)

            return await st.write("race", body(), overwrite=False, metadata={"w": str(i)})

        results = await asyncio.gather(*(attempt(i) for i in range(N_WRITERS)), return_exceptions=True)
        winners = [i for i, r in enumerate(results) if isinstance(r, ObjectInfo)]
        assert len(winners) == 1, results
        assert all(isinstance(r, ObjectExistsError) for r in results if not isinstance(r, ObjectInfo)), results
        assert await st.read("race") == _race_payload(winners[0])


def test_create_only_small_race_has_one_winner(store: AzureBlobStorage) -> None:
    barrier = threading.Barrier(N_WRITERS)
    won: list[int] = []
    lost: list[int] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            store.write("small", str(i).encode(), overwrite=False)
            won.append(i)
        except ObjectExistsError:
            lost.append(i)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(N_WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(won) == 1 and len(lost) == N_WRITERS - 1
    assert store.read("small") == str(won[0]).encode()


def test_concurrent_large_overwrites_stay_consistent(store: AzureBlobStorage) -> None:
    """Racing overwrites of one large key: whoever commits, content and metadata come from one writer.

    Azure discards a blob's other uncommitted blocks when a block list is committed, so a
    writer whose blocks vanished gets a PreconditionFailedError saying so (try again); the
    object is never a mix of two writes.
    """
    n = 8
    barrier = threading.Barrier(n)
    outcomes: list[Any] = [None] * n

    def attempt(i: int) -> None:
        data = _race_payload(i)
        barrier.wait()
        try:
            outcomes[i] = store.write("hot", iter([data]), metadata={"w": str(i)})
        except StorageError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    failures = [o for o in outcomes if not isinstance(o, ObjectInfo)]
    assert all(isinstance(f, PreconditionFailedError) and "concurrent write" in str(f) for f in failures), failures
    assert len(failures) < n
    winner = int(store.get_metadata("hot")["w"])
    assert store.read("hot") == _race_payload(winner)
