"""Entry point ``storeroom.schema-sync``: adds ``storeroom schema plan|apply|check`` to the CLI."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl


@hookimpl
def storeroom_register_commands(cli: Any) -> None:
    from storeroom_schema_sync.cli import schema_group

    cli.add_command(schema_group)
