"""A streamed upload of a large generator through storeroom-s3, next to boto3's ``upload_fileobj``.

The S3 server is moto's, started in a subprocess (``_services.MOTO_STARTER``) so it does not
share the benchmark's GIL. Every variant uploads the same generator of 1 MiB chunks (nothing
is ever held whole) in a fresh child process, so its RSS high-water mark is its own; the
boto3 baseline reads the generator through a minimal file-like wrapper. Variants run
interleaved, rotating the order every round; the median time per variant is reported with
its ratio against boto3. Extra peak memory is the RSS high-water mark after the upload minus
the RSS before it (imports, client and the first request excluded).

Both sides use their defaults except where stated: storeroom 8 MiB parts, 4 in flight;
boto3 ``TransferConfig()`` (8 MiB parts, 10 threads).

Targets: time ratio <= 1.1, extra peak memory <= 64 MiB.

    hatch run bench:python benchmarks/s3_upload.py                 # 512 MiB, 5 rounds
    hatch run bench:python benchmarks/s3_upload.py --size 256MiB --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from _common import child_result, current_rss, peak_rss, size_arg

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests-integration"))

MiB = 1024 * 1024
CHUNK = MiB
KEY = "bench/object.bin"
CREDENTIALS = {"access_key_id": "AKIASTOREROOMBENCH", "secret_access_key": "storeroom-bench-secret"}
REGION = "us-east-1"

#: label -> child variant
VARIANTS: dict[str, str] = {
    "boto3 upload_fileobj": "boto3",
    "storeroom-s3 (sync)": "storeroom",
    "storeroom-s3 (async)": "storeroom_async",
}
BASELINE = "boto3 upload_fileobj"


def generator(size: int) -> Iterator[bytes]:
    """``size`` bytes in 1 MiB chunks, all views of one block: the source itself costs nothing."""
    block = os.urandom(CHUNK)
    left = size
    while left > 0:
        yield block[: min(left, CHUNK)]
        left -= CHUNK


class GeneratorReader(io.RawIOBase):
    """The least a file-like needs for ``upload_fileobj``: ``read(n)`` over the generator."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out


# -- the variants, each run in a fresh child process --------------------------------------


def _boto3(endpoint: str, bucket: str, size: int) -> Callable[[], None]:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["access_key_id"],
        aws_secret_access_key=CREDENTIALS["secret_access_key"],
        config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required"),
    )
    client.head_bucket(Bucket=bucket)  # connect and load the service model outside the timing
    return lambda: client.upload_fileobj(GeneratorReader(generator(size)), bucket, KEY)


def _storeroom(endpoint: str, bucket: str, size: int) -> Callable[[], None]:
    from storeroom_s3 import S3Storage

    store = S3Storage(bucket, endpoint_url=endpoint, region=REGION, **CREDENTIALS)
    store.health_check()
    return lambda: store.write(KEY, generator(size)) and None


def _storeroom_async(endpoint: str, bucket: str, size: int) -> Callable[[], None]:
    import asyncio

    from storeroom_s3 import AsyncS3Storage

    loop = asyncio.new_event_loop()
    store = AsyncS3Storage(bucket, endpoint_url=endpoint, region=REGION, **CREDENTIALS)
    loop.run_until_complete(store.health_check())

    def run() -> None:
        loop.run_until_complete(store.write(KEY, generator(size)))
        loop.run_until_complete(store.close())

    return run


CHILDREN: dict[str, Callable[[str, str, int], Callable[[], None]]] = {
    "boto3": _boto3,
    "storeroom": _storeroom,
    "storeroom_async": _storeroom_async,
}


def child(variant: str, endpoint: str, bucket: str, size: int) -> None:
    upload = CHILDREN[variant](endpoint, bucket, size)
    before = current_rss()
    started = time.perf_counter()
    upload()
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "extra_rss": max(0, peak_rss() - before)}))


# -- the driver ---------------------------------------------------------------------------


def run_child(variant: str, endpoint: str, bucket: str, size: int) -> dict[str, float]:
    args = ("--child", variant, "--endpoint", endpoint, "--bucket", bucket, "--size", str(size))
    return dict(json.loads(child_result(__file__, variant, *args)))


def _admin(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["access_key_id"],
        aws_secret_access_key=CREDENTIALS["secret_access_key"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=size_arg, default=size_arg(os.environ.get("STOREROOM_BENCH_SIZE", "512MiB")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("STOREROOM_BENCH_ROUNDS", "5")))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.endpoint, args.bucket, args.size)
        return 0

    from _services import MOTO_STARTER

    with contextlib.ExitStack() as stack:
        endpoint = MOTO_STARTER.start(stack)
        admin = _admin(endpoint)
        bucket = f"storeroom-bench-{uuid.uuid4().hex[:12]}"
        admin.create_bucket(Bucket=bucket)
        print(f"moto server at {endpoint}; object {args.size / MiB:.0f} MiB; {args.rounds} interleaved rounds")
        samples: dict[str, list[dict[str, float]]] = {label: [] for label in VARIANTS}
        labels = list(VARIANTS)
        for round_no in range(args.rounds):
            order = labels[round_no % len(labels) :] + labels[: round_no % len(labels)]
            for label in order:
                result = run_child(VARIANTS[label], endpoint, bucket, args.size)
                stored = admin.head_object(Bucket=bucket, Key=KEY)["ContentLength"]
                if stored != args.size:
                    raise SystemExit(f"{label}: stored {stored} bytes, expected {args.size}")
                admin.delete_object(Bucket=bucket, Key=KEY)  # keep the server's memory flat
                samples[label].append(result)
            print(f"  round {round_no + 1}/{args.rounds} done", flush=True)

        base = statistics.median(s["seconds"] for s in samples[BASELINE])
        print(f"\n{'variant':24} {'median s':>9} {'MiB/s':>7} {'ratio':>6} {'extra peak RSS':>15}")
        for label in VARIANTS:
            seconds = statistics.median(s["seconds"] for s in samples[label])
            extra = max(s["extra_rss"] for s in samples[label]) / MiB
            print(f"{label:24} {seconds:9.2f} {args.size / MiB / seconds:7.1f} {seconds / base:6.2f} {extra:12.1f} MiB")
        ratio = statistics.median(s["seconds"] for s in samples["storeroom-s3 (sync)"]) / base
        extra = max(s["extra_rss"] for s in samples["storeroom-s3 (sync)"]) / MiB
        print(f"\nstoreroom-s3 (sync) / boto3 time ratio: {ratio:.2f} (target <= 1.1)")
        print(f"storeroom-s3 (sync) extra peak memory: {extra:.1f} MiB (target <= 64 MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
