"""A large generator stream uploaded to Azurite through storeroom-azure, next to the raw SDK.

Both variants upload the same generator (1 MiB chunks, computed on the fly) with the
same block size and concurrency: storeroom's ``AzureBlobStorage.write`` (and its async
twin) against ``BlobClient.upload_blob`` (sync and aio) over the same iterator. Each
upload runs in a fresh child process, so its RSS high-water mark is its own; extra peak
memory is that mark after the upload minus the mark before it (imports, client setup
and the generator's buffer excluded). Variants run interleaved, the order rotating
every round; medians are reported with the time ratio against the SDK.

Azurite (started from npm, ``--inMemoryPersistence``) keeps blobs in node's memory, so
every blob is deleted after its round.

Targets: time ratio <= 1.1, extra peak memory of storeroom <= 64 MiB.

    hatch run bench:python benchmarks/azure_upload.py                 # 512 MiB, 3 rounds
    hatch run bench:python benchmarks/azure_upload.py --size 256MiB --rounds 5
    STOREROOM_TEST_AZURITE_URL=http://127.0.0.1:10000/devstoreaccount1 ...   # use a running Azurite
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator

from _azurite import azurite_url, connection_string
from _common import cpu_seconds, peak_rss, size_arg

MiB = 1024 * 1024
CHUNK = MiB

#: label -> (child variant, baseline label)
VARIANTS: dict[str, tuple[str, str]] = {
    "sdk upload_blob": ("sdk", "sdk upload_blob"),
    "storeroom write": ("storeroom", "sdk upload_blob"),
    "sdk aio upload_blob": ("sdk_aio", "sdk aio upload_blob"),
    "storeroom async write": ("storeroom_async", "sdk aio upload_blob"),
}


# -- the child: one upload ------------------------------------------------------------------


def _generator(size: int, pattern: bytes) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        part = pattern[: min(CHUNK, size - sent)]
        sent += len(part)
        yield part


async def _agenerator(size: int, pattern: bytes) -> AsyncIterator[bytes]:
    for part in _generator(size, pattern):
        yield part


def child(
    variant: str, url: str, container: str, key: str, size: int, block: int, concurrency: int
) -> dict[str, float]:
    import asyncio

    pattern = os.urandom(CHUNK)  # a fresh buffer; slices of it are new bytes objects
    cs = connection_string(url)
    options = {"max_block_size": block, "max_single_put_size": block}
    if variant == "sdk":
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string(cs, **options)
        blob = service.get_blob_client(container, key)
        before, cpu, started = peak_rss(), cpu_seconds(), time.perf_counter()
        blob.upload_blob(_generator(size, pattern), max_concurrency=concurrency, overwrite=True)
        seconds = time.perf_counter() - started
        service.close()
    elif variant == "storeroom":
        from storeroom_azure import AzureBlobStorage

        store = AzureBlobStorage(container, connection_string=cs, block_size=block, max_concurrency=concurrency)
        before, cpu, started = peak_rss(), cpu_seconds(), time.perf_counter()
        info = store.write(key, _generator(size, pattern))
        seconds = time.perf_counter() - started
        assert info.size == size, info
        store.close()
    elif variant == "sdk_aio":
        from azure.storage.blob.aio import BlobServiceClient as AioService

        async def run() -> tuple[int, float, float]:
            async with AioService.from_connection_string(cs, **options) as service:
                blob = service.get_blob_client(container, key)
                before, cpu, started = peak_rss(), cpu_seconds(), time.perf_counter()
                await blob.upload_blob(_agenerator(size, pattern), max_concurrency=concurrency, overwrite=True)
                return before, cpu, time.perf_counter() - started

        before, cpu, seconds = asyncio.run(run())
    elif variant == "storeroom_async":
        from storeroom_azure import AsyncAzureBlobStorage

        async def run() -> tuple[int, float, float]:
            async with AsyncAzureBlobStorage(
                container, connection_string=cs, block_size=block, max_concurrency=concurrency
            ) as store:
                before, cpu, started = peak_rss(), cpu_seconds(), time.perf_counter()
                info = await store.write(key, _agenerator(size, pattern))
                assert info.size == size, info
                return before, cpu, time.perf_counter() - started

        before, cpu, seconds = asyncio.run(run())
    else:
        raise SystemExit(f"unknown variant {variant!r}")
    return {"seconds": seconds, "cpu": cpu_seconds() - cpu, "extra_rss": peak_rss() - before}


# -- the parent: rounds, cleanup, report ------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=size_arg, default=size_arg(os.environ.get("STOREROOM_BENCH_SIZE", "512MiB")))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--block-size", type=size_arg, default=8 * MiB)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--container", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.child, args.url, args.container, args.key, args.size, args.block_size, args.concurrency)
        print(json.dumps(result))
        return 0

    from azure.storage.blob import BlobServiceClient

    labels = list(VARIANTS)
    results: dict[str, list[dict[str, float]]] = {label: [] for label in labels}
    print(
        f"azure upload: {args.size / MiB:.0f} MiB generator stream, block {args.block_size / MiB:g} MiB, "
        f"concurrency {args.concurrency}, {args.rounds} rounds"
    )
    for round_no in range(args.rounds):
        # A fresh Azurite per round: its in-memory store frees deleted blobs only lazily and
        # refuses writes past half the machine's memory (MemoryExtentStoreAtSizeLimit).
        with contextlib.ExitStack() as stack:
            url = azurite_url(stack)
            service = stack.enter_context(BlobServiceClient.from_connection_string(connection_string(url)))
            container = f"bench-{uuid.uuid4().hex[:12]}"
            service.create_container(container)
            stack.callback(service.delete_container, container)
            order = labels[round_no % len(labels) :] + labels[: round_no % len(labels)]
            for label in order:
                key = f"bench/{VARIANTS[label][0]}-{round_no}.bin"
                command = [
                    sys.executable, __file__, "--child", VARIANTS[label][0], "--url", url,
                    "--container", container, "--key", key, "--size", str(args.size),
                    "--block-size", str(args.block_size), "--concurrency", str(args.concurrency),
                ]  # fmt: skip
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    raise SystemExit(f"{label} failed in round {round_no + 1}:\n{done.stderr[-3000:]}")
                results[label].append(json.loads(done.stdout.strip().splitlines()[-1]))
                props = service.get_blob_client(container, key).get_blob_properties()
                assert props.size == args.size, (label, props.size)
                service.get_blob_client(container, key).delete_blob()
    print(f"{'variant':24} {'median s':>9} {'MiB/s':>7} {'ratio':>6} {'CPU s':>6} {'extra peak RSS':>15}")
    medians = {label: statistics.median(r["seconds"] for r in results[label]) for label in labels}
    for label in labels:
        seconds = medians[label]
        ratio = seconds / medians[VARIANTS[label][1]]
        rss = statistics.median(r["extra_rss"] for r in results[label]) / MiB
        cpu = statistics.median(r["cpu"] for r in results[label])
        print(f"{label:24} {seconds:9.2f} {args.size / MiB / seconds:7.0f} {ratio:6.2f} {cpu:6.2f} {rss:11.1f} MiB")
    print("targets: storeroom/SDK time ratio <= 1.10, storeroom extra peak RSS <= 64 MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
