"""A write body as a stream of blocks, in bounded memory.

``ByteSource.read(n)`` copies each byte once, so a block costs one block of memory
while it is gathered; ``del`` before the next read lets a staged block go at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from storeroom.streams import AsyncByteSource, ByteSource

__all__ = ["ablocks", "blocks"]


def blocks(head: list[bytes], source: ByteSource, size: int) -> Iterator[bytes]:
    """``head`` (emptied as it goes, so nothing keeps a staged block alive), then the rest."""
    while head:
        yield head.pop(0)
    while True:
        block = source.read(size)
        if not block:
            return
        yield block
        del block  # before reading the next one: the previous block may already be uploaded


async def ablocks(head: list[bytes], source: AsyncByteSource, size: int) -> AsyncIterator[bytes]:
    while head:
        yield head.pop(0)
    while True:
        block = await source.read(size)
        if not block:
            return
        yield block
        del block
