"""Keys to blob names: the prefix, and Azure's length and segment limits (checked before I/O)."""

from __future__ import annotations

import pytest

from storeroom.errors import InvalidKeyError
from storeroom_azure._layout import MAX_BLOB_SEGMENTS, BlobLayout


def test_prefix_is_prepended_and_stripped() -> None:
    layout = BlobLayout("docs/")
    assert layout.blob_name("a/b.txt") == "docs/a/b.txt"
    assert layout.key_of("docs/a/b.txt") == "a/b.txt"
    assert layout.search_prefix("a") == "docs/a"


def test_name_length_counts_the_prefix() -> None:
    key = "k" * 1020
    assert BlobLayout("").blob_name(key) == key
    with pytest.raises(InvalidKeyError, match="1024 characters") as excinfo:
        BlobLayout("tenant/").blob_name(key)
    assert excinfo.value.key == key


def test_too_many_segments() -> None:
    with pytest.raises(InvalidKeyError, match="254"):
        BlobLayout("").blob_name("/".join(["s"] * (MAX_BLOB_SEGMENTS + 1)))
    BlobLayout("").blob_name("/".join(["s"] * MAX_BLOB_SEGMENTS))
