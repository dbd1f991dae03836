"""Metadata values survive S3's ASCII-only headers exactly, and the 2 KiB limit is checked first."""

from __future__ import annotations

import random

import pytest

from storeroom.errors import InvalidMetadataError
from storeroom_s3._metadata import (
    MAX_S3_METADATA_BYTES,
    decode_metadata,
    decode_value,
    encode_metadata,
    encode_value,
)

SAMPLES = [
    "",
    "plain",
    "with inner  spaces",
    " leading",
    "trailing ",
    "  ",
    "naïve — 日本 😀",
    "line one\nline two",
    "tab\there",
    "<>&\"'%=;,",
    "=?utf-8?b?aGk=?=",  # a plain value that looks like an encoded word
    "=?UTF-8?Q?x?=",
    "?=",
    "=?",
    "under_score and = sign ?",
    "שלום",
    "\x7f\x00 controls",
    "é" * 500,
]


@pytest.mark.parametrize("value", SAMPLES)
def test_round_trip(value: str) -> None:
    encoded = encode_value(value)
    assert encoded.isascii()
    assert encoded == "" or (encoded == encoded.strip() and all(32 <= ord(c) < 127 for c in encoded))
    assert decode_value(encoded) == value


def test_random_round_trip() -> None:
    """A property test over random Unicode (hypothesis is not installed in this environment)."""
    rng = random.Random(20240601)
    alphabet = [chr(c) for c in [*range(0x250), *range(0x3040, 0x30FF), 0x1F600, 0x10FFFF, 0xFFFD]]
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        encoded = encode_value(value)
        assert encoded.isascii(), value
        assert decode_value(encoded) == value, value


def test_plain_values_are_left_alone() -> None:
    assert encode_value("abc-123 x") == "abc-123 x"


def test_shorter_encoding_is_chosen() -> None:
    assert encode_value("café au lait").lower().startswith("=?utf-8?q?")
    assert encode_value("日本語のテキスト").lower().startswith("=?utf-8?b?")


def test_foreign_encoded_words_decode() -> None:
    assert decode_value("=?UTF-8?B?bmHDr3Zl?=") == "naïve"
    assert decode_value("=?utf-8?q?caf=C3=A9_noir?=") == "café noir"


@pytest.mark.parametrize("value", ["=?utf-8?b?not base64!?=", "=?utf-8?b?//8=?="])
def test_undecodable_words_are_kept(value: str) -> None:
    assert decode_value(value) == value


def test_metadata_names_lowercased_on_decode() -> None:
    assert decode_metadata({"Owner": "x"}) == {"owner": "x"}
    assert decode_metadata(None) == {}


def test_encoded_size_limit() -> None:
    encode_metadata({"big": "v" * (MAX_S3_METADATA_BYTES - 3)})
    with pytest.raises(InvalidMetadataError, match="once encoded"):
        encode_metadata({"big": "é" * 800})
