"""Listing in UTF-8 byte order over a service that pages in UTF-16 order, in bounded memory.

``list`` promises UTF-8 byte order (code point order), as S3 and local files give it.
Azure (Azurite at least) pages in UTF-16 code unit order. The two agree except where a
character above U+FFFF (stored as a surrogate pair, D800-DFFF) meets one in U+E000-U+FFFF
(private use, CJK compatibility, half-width forms...): UTF-16 puts the astral one first.

Seen as a tree of keys, that is one swap per node: below a common prefix ``q``, the keys
continuing with an astral character (``q``'s *astral block*) come before those continuing
with U+E000-U+FFFF (its *high block*), and must come after them. So the listing is walked
in the service's order and every astral block is held back until its node's subtree is
left (the high block, if any, having gone out in between):

- a small astral block (at most ``limit`` keys) is kept in memory and sorted;
- a larger one is skipped, and listed again on its own once the node is left (a second
  request for ``q``'s keys, read from the start of its astral block to its end), where
  the same rule applies one level down.

Memory is at most ``limit`` listed objects per nesting level (levels are bounded by the
astral characters of one key), whatever the listing's size. A service that already pages
in UTF-8 order passes through unchanged (its astral blocks come last anyway). The walk is
a generator of commands (open a listing, read its next item, emit one, close it), so the
same code serves the sync and the async store; each drives it with its own SDK calls.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Close", "Command", "Emit", "Next", "Open", "Walk", "utf8_listing"]


@dataclass(frozen=True)
class Open:
    """Start a listing of the keys under ``prefix``; reply with the stream."""

    prefix: str


@dataclass(frozen=True)
class Next:
    """Reply with the stream's next item, or None at its end."""

    stream: Any


@dataclass(frozen=True)
class Close:
    """The walk is done with this stream."""

    stream: Any


@dataclass(frozen=True)
class Emit:
    """The next item of the listing, in UTF-8 byte order."""

    item: Any


Command = Open | Next | Close | Emit

#: characters above U+FFFF: a surrogate pair in UTF-16
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
Walk = Generator[Command, Any, None]


def _astral_at(key: str, index: int) -> bool:
    return index < len(key) and ord(key[index]) > 0xFFFF


def _first_astral(key: str, start: int) -> int | None:
    found = _ASTRAL.search(key, start)
    return None if found is None else found.start()


@dataclass
class _Node:
    """A prefix whose astral block is being held back until its subtree has been listed."""

    prefix: str
    limit: int
    items: list[Any] | None = field(default_factory=list)  # None: too many, list them again later

    def hold(self, item: Any) -> None:
        if self.items is None:
            return
        if len(self.items) >= self.limit:
            self.items = None
            return
        self.items.append(item)


def utf8_listing(prefix: str, limit: int) -> Walk:
    """The commands that list every key under ``prefix`` once, in UTF-8 byte order."""
    yield from _walk(prefix, len(prefix), None, max(1, limit))


def _walk(prefix: str, start: int, block_of: str | None, limit: int) -> Walk:
    """List ``prefix``; with ``block_of``, only that node's astral block (the rest went out before).

    Astral characters are looked for from ``start`` on: before it, every key is the same
    (or, for a block, differs only in the astral character that makes the block).
    """
    stream = yield Open(prefix)
    held: list[_Node] = []  # nested: each node's prefix starts with the one before
    inside = False
    while (item := (yield Next(stream))) is not None:
        key: str = item.key
        if block_of is not None:
            if not _astral_at(key, len(block_of)):
                if inside:
                    break  # past the astral block: the high block went out before it
                continue  # before it: listed already
            inside = True
        while held and not key.startswith(held[-1].prefix):
            yield from _release(held.pop(), limit)  # the node's subtree is over: its astral block now
        if held and _astral_at(key, len(held[-1].prefix)):
            held[-1].hold(item)
            continue
        at = _first_astral(key, start)
        if at is None:
            yield Emit(item)
        else:
            node = _Node(key[:at], limit)
            node.hold(item)
            held.append(node)
    yield Close(stream)
    while held:
        yield from _release(held.pop(), limit)


def _release(node: _Node, limit: int) -> Walk:
    if node.items is not None:
        for item in sorted(node.items, key=lambda i: i.key):  # str order is code point (UTF-8) order
            yield Emit(item)
    else:
        yield from _walk(node.prefix, len(node.prefix) + 1, node.prefix, limit)
