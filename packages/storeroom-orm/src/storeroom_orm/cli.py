"""``storeroom orm prune TARGET --older-than 90d``: retention for temporal models.

TARGET is ``module:attr`` naming a model, a list of models or a MetaData (such as
``storeroom_orm.metadata``). Every scd2 model's closed versions and every copy_on_change
model's audit rows older than the age are removed, across all tenants; ``--dry-run``
counts them instead. Exit 0 when done, 2 on an error (like every storeroom command).
"""

from __future__ import annotations

import datetime as dt

import click

from storeroom.cli import CliState, pass_state
from storeroom.cli._output import Cell, echo_json, print_table, working
from storeroom.cli.params import AGE, load_target
from storeroom.errors import ConfigurationError

__all__ = ["orm_group"]


@click.group("orm")
def orm_group() -> None:
    """ORM maintenance: retention of temporal history."""


@orm_group.command("prune")
@click.argument("target")
@click.option(
    "--older-than",
    "older_than",
    required=True,
    metavar="AGE",
    type=AGE,
    help="Remove what is older than AGE: 90d, 12h, 30m, 45s, 2w.",
)
@click.option("--database", metavar="NAME", help="Named database (default: the default one).")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def prune_command(
    state: CliState, target: str, older_than: dt.timedelta, database: str | None, dry_run: bool, as_json: bool
) -> None:
    """Prune scd2 versions and purge copy_on_change audit rows older than AGE, in every tenant."""
    from storeroom_orm.temporal.retention import prune, temporal_models

    models = load_target(target)
    if not temporal_models(models):
        raise ConfigurationError(f"TARGET {target!r} has no temporal models (temporal='scd2' or 'copy_on_change')")
    with state.open_room() as room, working("Pruning..."):
        done = prune(room.database(database), models, older_than=older_than, dry_run=dry_run)
    if as_json:
        seconds = older_than.total_seconds()
        echo_json({"dry_run": dry_run, "older_than_seconds": seconds, "tables": [d.as_dict() for d in done]})
        return
    rows: list[list[Cell]] = [[d.model, d.table, d.temporal, str(d.rows)] for d in done]
    print_table(["model", "table", "temporal", "would remove" if dry_run else "removed"], rows)
