"""Block ids for staged uploads.

Azure requires every block id of one blob to have the same length (at most 64
bytes before base64). Ids here are ``base64("<16 hex nonce>-<6 digit index>")``:
fixed width, ordered by index, and unique per upload, so two writers staging
blocks on the same blob at once can never overwrite each other's blocks.
"""

from __future__ import annotations

import base64
import secrets

from storeroom.errors import ContentTooLargeError

__all__ = ["MAX_BLOCKS", "BlockIds"]

#: committed blocks one blob may have
MAX_BLOCKS = 50_000


class BlockIds:
    """Hands out the ids of one upload, in order."""

    def __init__(self, block_size: int, nonce: str | None = None) -> None:
        self.nonce = nonce or secrets.token_hex(8)
        self.block_size = block_size
        self.ids: list[str] = []

    def next(self) -> str:
        index = len(self.ids)
        if index >= MAX_BLOCKS:
            raise ContentTooLargeError(
                f"the upload needs more than {MAX_BLOCKS} blocks of {self.block_size} bytes, Azure's limit per blob; "
                "raise block_size",
                max_size=MAX_BLOCKS * self.block_size,
            )
        block_id = base64.b64encode(f"{self.nonce}-{index:06d}".encode("ascii")).decode("ascii")
        self.ids.append(block_id)
        return block_id
