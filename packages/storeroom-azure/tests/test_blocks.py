"""Block ids: equal length, ordered, unique per upload, within Azure's limits."""

from __future__ import annotations

import base64

import pytest

from storeroom.errors import ContentTooLargeError
from storeroom_azure._blocks import MAX_BLOCKS, BlockIds


def test_ids_have_equal_length_and_keep_order() -> None:
    ids = BlockIds(1024)
    made = [ids.next() for _ in range(1200)]
    assert made == ids.ids
    assert len({len(i) for i in made}) == 1
    decoded = [base64.b64decode(i) for i in made]
    assert all(len(d) <= 64 for d in decoded)  # Azure: at most 64 bytes before encoding
    assert decoded == sorted(decoded)
    assert len(set(made)) == len(made)


def test_last_allowed_block_has_the_same_length() -> None:
    ids = BlockIds(1024, nonce="0" * 16)
    ids.ids = ["x"] * (MAX_BLOCKS - 1)
    last = ids.next()
    assert len(last) == len(BlockIds(1024).next())
    with pytest.raises(ContentTooLargeError, match="block_size"):
        ids.next()


def test_uploads_get_different_nonces() -> None:
    assert BlockIds(1024).next() != BlockIds(1024).next()
