"""``storeroom orm prune TARGET --older-than 90d``: retention for temporal models.

TARGET is ``module:attr`` naming a model, a list of models or a MetaData (such as
``storeroom_orm.metadata``). Every scd2 model's closed versions and every copy_on_change
model's audit rows older than the age are removed, across all tenants; ``--dry-run``
counts them instead. Exit 0 when done, 2 on an error (like every storeroom command).
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import sys
from pathlib import Path
from typing import Any

import click

from storeroom.cli import CliState, pass_state
from storeroom.cli._output import Cell, echo_json, print_table, working
from storeroom.errors import ConfigurationError

__all__ = ["load_target", "orm_group", "parse_age"]

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> dt.timedelta:
    """``90d``, ``12h``, ``30m``, ``45s``, ``2w``."""
    match = _AGE.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r}: an age such as 90d, 12h, 30m, 45s or 2w")
    return dt.timedelta(**{_UNITS[match[2]]: int(match[1])})


def load_target(spec: str) -> Any:
    """``package.module:attr`` (dotted attributes allowed) -> the object; the current folder is importable."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigurationError(f"TARGET must be 'module:attr' naming models or a MetaData, got {spec!r}")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"cannot import {module_name!r} for TARGET {spec!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigurationError(f"{module_name!r} has no attribute {attr!r} (TARGET {spec!r})") from None
    return obj


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
    callback=lambda ctx, param, value: parse_age(value),
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
