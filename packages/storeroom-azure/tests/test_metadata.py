"""The metadata name and value mapping: reversible, distinct, and always Azure-safe."""

from __future__ import annotations

import random
import re
import string

import pytest

from storeroom.errors import InvalidMetadataError
from storeroom.keys import validate_metadata
from storeroom_azure._metadata import (
    decode_metadata,
    decode_name,
    decode_value,
    encode_metadata,
    encode_name,
    encode_value,
)

CSHARP_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAME_CHARS = string.ascii_lowercase + string.digits + "_.-"
NAME_START = string.ascii_lowercase + string.digits


def _random_name(rng: random.Random) -> str:
    return rng.choice(NAME_START) + "".join(rng.choice(NAME_CHARS) for _ in range(rng.randint(0, 20)))


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("owner", "owner"),
        ("content-type", "content_2dtype"),
        ("content_type", "content_5ftype"),
        ("a.b", "a_2eb"),
        ("x_y", "x_5fy"),
        ("1abc", "_31abc"),
        ("9", "_39"),
        ("a1", "a1"),
        ("a--b", "a_2d_2db"),
    ],
)
def test_documented_examples(name: str, stored: str) -> None:
    assert encode_name(name) == stored
    assert decode_name(stored) == name


def test_names_that_azure_would_confuse_stay_distinct() -> None:
    names = ["content-type", "content_type", "content.type", "contenttype", "content_2dtype", "content_5ftype"]
    encoded = [encode_name(n) for n in names]
    assert len({e.lower() for e in encoded}) == len(names)  # Azure compares names case-insensitively
    assert [decode_name(e) for e in encoded] == names


def test_decoding_ignores_the_case_azure_returns() -> None:
    assert decode_name("Content_2DType") == "content-type"


def test_random_names_round_trip_as_identifiers() -> None:
    rng = random.Random(20261122)
    seen: dict[str, str] = {}
    for _ in range(5000):
        name = _random_name(rng)
        stored = encode_name(name)
        assert CSHARP_IDENTIFIER.match(stored), (name, stored)
        assert decode_name(stored) == name
        assert seen.setdefault(stored.lower(), name) == name, "two names collide"


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "",
        " ",
        "  spaced  ",
        "line one\nline two",
        "tab\there",
        "naïve — 日本 😀",
        "שלום",
        "<>&\"'%=;,",
        "=?utf-8?b?aGk=?=",
        "=?not encoded",
        "a" * 2000,
        "\x7f",
    ],
)
def test_values_round_trip_as_printable_ascii(value: str) -> None:
    stored = encode_value(value)
    assert stored.isascii() and stored.isprintable() and stored == stored.strip() and stored
    assert decode_value(stored) == value


def test_simple_values_are_stored_readably() -> None:
    assert encode_value("Alice") == "Alice"
    assert encode_value("abc-123 x") == "abc-123 x"
    assert encode_value("ü") == "=?utf-8?b?w7w=?="


def test_foreign_values_pass_through() -> None:
    assert decode_value("=?utf-8?b?not base64!?=") == "=?utf-8?b?not base64!?="
    assert decode_value("written by another tool") == "written by another tool"


def test_random_values_round_trip() -> None:
    rng = random.Random(7)
    alphabet = string.printable + "éü日本😀\u2028\x00\x1b"
    for _ in range(2000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert decode_value(encode_value(value)) == value


def test_whole_mapping_round_trip() -> None:
    meta = validate_metadata({"Owner": "Alice", "x-Trace-Id": "abc", "u": "ü", "x_y": "1", "x-y": "2", "7up": ""})
    assert decode_metadata(encode_metadata(meta)) == meta


def test_encoded_size_limit() -> None:
    # Core caps raw metadata at 2 KiB, so this only guards direct use of the helper.
    with pytest.raises(InvalidMetadataError, match="8192"):
        encode_metadata({f"k{i}": "é" * 100 for i in range(40)})
