"""Entry point ``storeroom.orm``: adds ``storeroom orm prune`` to the CLI."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl


@hookimpl
def storeroom_register_commands(cli: Any) -> None:
    from storeroom_orm.cli import orm_group

    cli.add_command(orm_group)
