"""Part reading and bodies: fixed-size parts from any source, without extra copies."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest

from storeroom.errors import ContentTooLargeError, StorageError
from storeroom.streams import AsyncByteSource, ByteSource
from storeroom_s3._multipart import SMALL_BODY, CompletedParts, PartBody, aread_part, async_body, read_part
from storeroom_s3._parts import MAX_PARTS, PartPlan

DATA = bytes(range(256)) * 1000  # 256,000 bytes


def _chunks(size: int) -> list[bytes]:
    return [DATA[i : i + size] for i in range(0, len(DATA), size)]


@pytest.mark.parametrize("chunk", [1, 999, 4096, 100_000, len(DATA)])
def test_read_part_gives_fixed_sizes(chunk: int) -> None:
    source = ByteSource(iter(_chunks(chunk)))
    parts = []
    while part := read_part(source, 70_000):
        assert isinstance(part, bytearray)
        parts.append(part)
    assert [len(p) for p in parts] == [70_000, 70_000, 70_000, 46_000]
    assert b"".join(parts) == DATA


@pytest.mark.parametrize("total", [0, 1, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024])
def test_read_part_around_the_sub_read_size(total: int) -> None:
    data = bytes(range(256)) * (total // 256) + b"x" * (total % 256)
    source = ByteSource(iter([data]) if data else iter([]))
    first = read_part(source, 2 * 1024 * 1024)
    rest = read_part(source, 2 * 1024 * 1024)
    assert len(first) == min(total, 2 * 1024 * 1024)
    assert bytes(first + rest) == data
    assert read_part(source, 10) == b""


def test_read_part_enforces_max_size() -> None:
    source = ByteSource(iter(_chunks(10_000)), max_size=100_000)
    read_part(source, 90_000)
    with pytest.raises(ContentTooLargeError):
        read_part(source, 90_000)


def test_aread_part_matches() -> None:
    async def gen() -> AsyncIterator[bytes]:
        for c in _chunks(3333):
            yield c

    async def run() -> list[bytearray]:
        source = AsyncByteSource(gen())
        parts = []
        while part := await aread_part(source, 100_000):
            parts.append(part)
        return parts

    parts = asyncio.run(run())
    assert [len(p) for p in parts] == [100_000, 100_000, 56_000]
    assert b"".join(parts) == DATA


def test_part_body_is_a_seekable_file_over_the_buffer() -> None:
    body = PartBody(bytearray(b"0123456789"))
    assert isinstance(body, io.IOBase) and body.readable() and body.seekable()
    assert len(body) == 10
    assert body.read(3) == b"012" and body.tell() == 3
    target = bytearray(4)
    assert body.readinto(target) == 4 and target == b"3456"
    assert body.read() == b"789" and body.read(5) == b""
    assert body.seek(0) == 0 and body.read() == b"0123456789"
    assert body.seek(-2, io.SEEK_END) == 8 and body.read() == b"89"
    body.close()  # the HTTP layer closes it; a retry must still be able to resend
    assert body.seek(0) == 0 and body.read(2) == b"01"


def test_async_body_small_is_bytes_large_is_a_file() -> None:
    assert async_body(bytearray(10)) == bytes(10)
    assert isinstance(async_body(bytearray(SMALL_BODY + 1)), PartBody)


def test_completed_parts_in_order_and_bounded() -> None:
    parts = CompletedParts("k")
    for number in (3, 1, 2):
        parts.add(number, f'"etag{number}"')
        parts.count(10)
    assert parts.request() == {"Parts": [{"ETag": f'"etag{n}"', "PartNumber": n} for n in (1, 2, 3)]}
    assert parts.size == 30
    parts.check(MAX_PARTS)  # the last part itself is fine
    with pytest.raises(StorageError, match="10000 parts"):
        parts.check(MAX_PARTS + 1)
    assert CompletedParts.read_size(PartPlan(None), MAX_PARTS) == PartPlan(None).size(MAX_PARTS)
    assert CompletedParts.read_size(PartPlan(None), MAX_PARTS + 1) == 1
