"""``storeroom uow recover``: finish or undo units of work a crash left journaled.

Exit 0 when everything stale was finished or undone (or nothing was), 1 when some unit
could not be (its journal rows stay, so a later run retries) or a database could not be
read (the others are still recovered), 2 on a configuration error.
"""

from __future__ import annotations

import click

from storeroom.cli._output import Cell, echo_json, print_table, warn, working
from storeroom.cli._state import CliState, pass_state

__all__ = ["uow_group"]


@click.group("uow")
def uow_group() -> None:
    """Unit-of-work maintenance."""


@uow_group.command("recover")
@click.option("--database", metavar="NAME", help="Only this database's journal (default: every database).")
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="Seconds a unit must have been idle; younger ones may still be running.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of a table.")
@pass_state
def recover_command(state: CliState, database: str | None, older_than: float, as_json: bool) -> None:
    """Finish committed units and undo the others, from each database's journal."""
    room = state.open_room()
    try:
        with working("Recovering units of work..."):
            reports = room.recover(database, older_than=older_than)
    finally:
        try:
            room.close()
        except Exception as exc:  # noqa: BLE001 - the report matters more than a failed close
            warn(f"closing connections failed: {type(exc).__name__}: {exc}")
    if as_json:
        echo_json({"reports": [r.as_dict() for r in reports]})
    else:
        rows: list[list[Cell]] = []
        for report in reports:
            rows += [[report.database, unit, "undone", ""] for unit in report.undone]
            rows += [[report.database, unit, "finished", ""] for unit in report.finished]
            rows += [[report.database, unit, "FAILED", "; ".join(left)] for unit, left in report.failed.items()]
            if report.error is not None:
                rows.append([report.database, "-", "UNREACHABLE", report.error])
        print_table(["database", "unit", "outcome", "left"], rows, empty="nothing to recover")
    if any(not r.ok for r in reports):
        raise click.exceptions.Exit(1)
