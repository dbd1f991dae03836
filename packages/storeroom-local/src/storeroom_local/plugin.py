"""Entry point of the ``local`` backend (``[project.entry-points.storeroom] local``)."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl

__all__ = ["storeroom_register_object_storages"]


@hookimpl
def storeroom_register_object_storages() -> list[type[Any]]:
    from storeroom_local.async_storage import AsyncLocalStorage
    from storeroom_local.storage import LocalStorage

    return [LocalStorage, AsyncLocalStorage]
