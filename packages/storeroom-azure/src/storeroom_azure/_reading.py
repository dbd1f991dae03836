"""Reading a write body block by block with ``ByteSource.read`` in bounded memory.

``read(n)`` gathers ``n`` bytes in a buffer and copies them out, so asking for a whole
8 MiB block at once briefly holds about three copies of it. Reading the block in
1 MiB pieces and joining them holds two at most, which keeps a streamed upload near
``max_concurrency * block_size`` of memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from storeroom.streams import AsyncByteSource, ByteSource

__all__ = ["PIECE", "ablocks", "aread_block", "blocks", "read_block"]

PIECE = 1024 * 1024


def read_block(source: ByteSource, size: int) -> bytes:
    """Up to ``size`` bytes; fewer only at the end of the body."""
    pieces: list[bytes] = []
    got = 0
    while got < size:
        piece = source.read(min(PIECE, size - got))
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


async def aread_block(source: AsyncByteSource, size: int) -> bytes:
    pieces: list[bytes] = []
    got = 0
    while got < size:
        piece = await source.read(min(PIECE, size - got))
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def blocks(head: list[bytes], source: ByteSource, size: int) -> Iterator[bytes]:
    """``head`` (emptied as it goes, so nothing keeps a staged block alive), then the rest."""
    while head:
        yield head.pop(0)
    while True:
        block = read_block(source, size)
        if not block:
            return
        yield block
        del block  # before reading the next one: the previous block may already be uploaded


async def ablocks(head: list[bytes], source: AsyncByteSource, size: int) -> AsyncIterator[bytes]:
    while head:
        yield head.pop(0)
    while True:
        block = await aread_block(source, size)
        if not block:
            return
        yield block
        del block
