import asyncio
import io
from collections.abc import AsyncIterator, Iterator

import pytest

from storeroom.errors import ContentTooLargeError
from storeroom.streams import AsyncByteSource, ByteSource


def test_bytes_are_chunked_with_known_length() -> None:
    src = ByteSource(b"x" * 10, chunk_size=4)
    assert src.length == 10
    assert list(src) == [b"xxxx", b"xxxx", b"xx"]
    assert src.bytes_read == 10


def test_file_length_is_remaining_bytes() -> None:
    f = io.BytesIO(b"0123456789")
    f.read(3)
    src = ByteSource(f)
    assert src.length == 7
    assert b"".join(src) == b"3456789"


def test_known_oversize_rejected_before_reading() -> None:
    f = io.BytesIO(b"x" * 100)
    with pytest.raises(ContentTooLargeError) as info:
        ByteSource(f, max_size=10)
    assert info.value.max_size == 10
    assert f.tell() == 0  # nothing consumed


def test_streamed_oversize_raises_midway() -> None:
    consumed = []

    def gen() -> Iterator[bytes]:
        for i in range(10):
            consumed.append(i)
            yield b"x" * 10

    src = ByteSource(gen(), max_size=35)
    assert src.length is None
    with pytest.raises(ContentTooLargeError):
        list(src)
    assert consumed == [0, 1, 2, 3]  # stops at the first chunk that crosses the limit


def test_read_reassembles_parts_and_skips_empty_chunks() -> None:
    src = ByteSource(iter([b"ab", b"", b"cde", b"f"]))
    assert src.read(4) == b"abcd"
    assert src.read(4) == b"ef"
    assert src.read(4) == b""


def test_caller_exception_propagates_unchanged() -> None:
    class Boom(Exception):
        pass

    def gen() -> Iterator[bytes]:
        yield b"a"
        raise Boom("mine")

    with pytest.raises(Boom, match="mine"):
        list(ByteSource(gen()))


@pytest.mark.parametrize("bad", ["text", 42, None])
def test_wrong_types(bad: object) -> None:
    with pytest.raises(TypeError):
        ByteSource(bad)


def test_non_bytes_chunk_rejected() -> None:
    with pytest.raises(TypeError, match="must yield bytes"):
        list(ByteSource(iter(["str"])))  # type: ignore[list-item]


@pytest.mark.asyncio
async def test_async_source_accepts_async_iterables_and_async_files() -> None:
    async def agen() -> AsyncIterator[bytes]:
        for part in (b"ab", b"cd"):
            await asyncio.sleep(0)
            yield part

    assert [c async for c in AsyncByteSource(agen())] == [b"ab", b"cd"]

    class AsyncFile:
        def __init__(self) -> None:
            self.buf = io.BytesIO(b"hello world")

        async def read(self, n: int) -> bytes:
            return self.buf.read(n)

    src = AsyncByteSource(AsyncFile(), chunk_size=4)
    assert await src.read(5) == b"hello"
    assert b"".join([c async for c in src]) == b" world"


@pytest.mark.asyncio
async def test_async_limit() -> None:
    async def agen() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 10

    with pytest.raises(ContentTooLargeError):
        [c async for c in AsyncByteSource(agen(), max_size=25)]


@pytest.mark.parametrize("size", [1, 7, 4096, 10_000, 10**7])
def test_read_parts_of_uneven_chunks_reassemble_exactly(size: int) -> None:
    chunks = [bytes([i % 256]) * ((i * 7919) % 5000 + 1) for i in range(300)]
    whole = b"".join(chunks)
    source = ByteSource(iter(chunks))
    parts = []
    while part := source.read(size):
        parts.append(part)
    assert b"".join(parts) == whole
    assert all(len(p) == size for p in parts[:-1]) and 0 < len(parts[-1]) <= size


def test_read_then_iterate_hands_out_the_rest_once() -> None:
    chunks = [b"a" * 3000, b"b" * 3000, b"c" * 3000]
    source = ByteSource(iter(chunks))
    head = source.read(4000)
    assert head == b"a" * 3000 + b"b" * 1000
    assert head + b"".join(source) == b"".join(chunks)


@pytest.mark.parametrize("wrap", [lambda c: memoryview(c).cast("I"), bytearray])
def test_max_size_counts_bytes_of_any_buffer_chunk(wrap: object) -> None:
    chunks = [wrap(b"\x00" * 16) for _ in range(2)]  # type: ignore[operator]
    with pytest.raises(ContentTooLargeError):
        list(ByteSource(iter(chunks), max_size=20))
    with pytest.raises(ContentTooLargeError):
        ByteSource(iter(chunks), max_size=20).read(64)


def test_read_of_one_large_chunk_keeps_memory_bounded() -> None:
    """Small reads from one big chunk must not copy the rest of it each time."""
    import tracemalloc

    big = b"x" * (16 * 1024 * 1024)
    source = ByteSource(iter([big]))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        total = 0
        while part := source.read(1024 * 1024):
            total += len(part)
            del part
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == len(big)
    assert peak < 4 * 1024 * 1024, peak  # a part or two, never another copy of the chunk
