"""Entry point ``storeroom.azure``: registers the azure classes (filled in by its issue)."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl


@hookimpl
def storeroom_register_object_storages() -> list[type[Any]]:
    return []
