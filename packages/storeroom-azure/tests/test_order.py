"""The UTF-16 -> UTF-8 listing walk, driven over in-memory "services" that page in either order."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from storeroom_azure._order import Close, Emit, Next, Open, utf8_listing


@dataclass(frozen=True)
class Item:
    key: str


def utf16(key: str) -> bytes:
    return key.encode("utf-16-be")


def utf8(key: str) -> bytes:
    return key.encode("utf-8")


class Service:
    """Keys listed by prefix in ``order``; counts listings and holds no more than one item out at a time."""

    def __init__(self, keys: list[str], order: Callable[[str], bytes]) -> None:
        self.keys = sorted(keys, key=order)
        self.listings: list[str] = []
        self.open = 0
        self.most_open = 0

    def stream(self, prefix: str) -> Iterator[Item]:
        self.listings.append(prefix)
        for key in self.keys:
            if key.startswith(prefix):
                yield Item(key)


def run(service: Service, prefix: str = "", limit: int = 1000) -> list[str]:
    out: list[str] = []
    walk = utf8_listing(prefix, limit)
    reply = None
    try:
        while True:
            command = walk.send(reply)
            reply = None
            if isinstance(command, Open):
                reply = service.stream(command.prefix)
                service.open += 1
                service.most_open = max(service.most_open, service.open)
            elif isinstance(command, Next):
                reply = next(command.stream, None)
            elif isinstance(command, Close):
                service.open -= 1
            elif isinstance(command, Emit):
                out.append(command.item.key)
    except StopIteration:
        pass
    assert service.open == 0, "every listing opened was closed"
    return out


ASTRAL = ["\U00010000", "\U0001f600", "\U0001f680", "\U0010fffd"]
HIGH = ["\ue000", "\uf8ff", "\uff21", "\ufffd"]  # private use, CJK compatibility, full-width, replacement
LOW = ["a", "z", "/", "-", "é", "日", "\ud7ff"]


def test_utf16_and_utf8_orders_disagree_here() -> None:
    assert sorted(["\U0001f600", "\ue000"], key=utf16) == ["\U0001f600", "\ue000"]
    assert sorted(["\U0001f600", "\ue000"], key=utf8) == ["\ue000", "\U0001f600"]


@pytest.mark.parametrize("limit", [1, 2, 1000])
@pytest.mark.parametrize("order", [utf16, utf8], ids=["utf16-service", "utf8-service"])
def test_mixed_keys_come_out_in_utf8_order(order: Callable[[str], bytes], limit: int) -> None:
    keys = [
        "a",
        "a\U0001f600",
        "a\U0001f600/x",
        "a\U0001f600\ue000",
        "a\U0001f600\U0001f680",
        "a\ue000",
        "a\ue000\U0001f600",
        "a\ue000\ue001",
        "a\ufffd",
        "a\U00010000",
        "b",
        "\U0001f600",
        "\ue000",
        "\ue000\U0001f600",
    ]
    service = Service(keys, order)
    assert run(service, limit=limit) == sorted(keys, key=utf8)


@pytest.mark.parametrize("seed", range(40))
def test_random_keys(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ASTRAL + HIGH + LOW
    keys = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(1, 150))})
    limit = rng.choice([1, 2, 3, 10, 1000])
    prefix = rng.choice(["", "a", "\U0001f600", "\ue000"])
    service = Service(keys, utf16)
    expected = sorted((k for k in keys if k.startswith(prefix)), key=utf8)
    assert run(service, prefix, limit) == expected


def test_small_astral_blocks_are_sorted_in_memory_without_listing_again() -> None:
    keys = [f"u{i:03d}/\U0001f600.png" for i in range(50)] + [f"u{i:03d}/\ue000.png" for i in range(50)]
    service = Service(keys, utf16)
    assert run(service, limit=10) == sorted(keys, key=utf8)
    assert service.listings == [""]


def test_a_large_astral_block_is_listed_again_on_its_own() -> None:
    keys = [f"x/\U0001f600{i:03d}" for i in range(30)] + ["x/\ue000", "x/a", "y"]
    service = Service(keys, utf16)
    assert run(service, limit=5) == sorted(keys, key=utf8)
    assert service.listings == ["", "x/"]
    assert service.most_open == 2


def test_nested_large_blocks() -> None:
    inner = [f"p\U0001f600q\U0001f680{i:02d}" for i in range(12)] + ["p\U0001f600q\ue000"]
    keys = inner + [f"p\U0001f600{i:02d}" for i in range(12)] + ["p\ue000", "p\U0001f600\ue000"]
    service = Service(keys, utf16)
    assert run(service, limit=3) == sorted(keys, key=utf8)
    assert len(service.listings) <= 4


def test_a_utf8_ordered_service_is_passed_through() -> None:
    keys = ["a", "a\ue000", "a\U0001f600", "b"]
    service = Service(keys, utf8)
    assert run(service, limit=1) == keys
