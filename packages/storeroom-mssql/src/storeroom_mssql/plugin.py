"""Entry point ``storeroom.mssql``: registers the mssql classes (filled in by its issue)."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl


@hookimpl
def storeroom_register_databases() -> list[type[Any]]:
    return []
