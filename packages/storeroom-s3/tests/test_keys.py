"""Store keys map into the bucket under the prefix, and back."""

from __future__ import annotations

import pytest

from storeroom.errors import InvalidKeyError
from storeroom_s3._keys import KeyMap


def test_no_prefix_is_identity() -> None:
    keys = KeyMap("")
    assert keys.to_s3("a/b") == "a/b"
    assert keys.from_s3("a/b") == "a/b"
    assert keys.listing_prefix("") == ""
    assert keys.max_key_bytes == 1024


def test_prefix_adds_one_separator() -> None:
    keys = KeyMap("docs/")
    assert keys.prefix == "docs"
    assert keys.to_s3("a.txt") == "docs/a.txt"
    assert keys.from_s3("docs/a.txt") == "a.txt"
    assert keys.listing_prefix("") == "docs/"
    assert keys.listing_prefix("a") == "docs/a"
    assert keys.start_after("x") == "docs/x" and keys.start_after(None) is None


def test_sibling_prefix_is_not_owned() -> None:
    keys = KeyMap("docs")
    assert keys.owns("docs/x")
    assert not keys.owns("docs2/x")
    assert not keys.owns("docs")


def test_prefixed_key_must_fit_1024_bytes() -> None:
    keys = KeyMap("tenant")
    assert keys.max_key_bytes == 1024 - len("tenant/")
    keys.to_s3("k" * keys.max_key_bytes)
    with pytest.raises(InvalidKeyError, match="at most 1017"):
        keys.to_s3("k" * (keys.max_key_bytes + 1))
    with pytest.raises(InvalidKeyError):
        keys.to_s3("é" * 509)  # 1018 UTF-8 bytes
