"""``storeroom schema plan|apply|check TARGET``: TARGET is ``module:attr`` naming a MetaData or a list of models.

Exit codes: 0 done / in sync; 2 for ``check`` with drift, and for errors (refused changes,
bad TARGET, configuration) like every storeroom command.
"""

from __future__ import annotations

from typing import Any

import click

from storeroom.cli import CliState, pass_state
from storeroom.cli._output import Cell, echo_json, print_table, styled, working
from storeroom.cli.params import load_target
from storeroom.errors import SchemaSyncError

__all__ = ["schema_group"]

_STYLES = {"safe": "green", "hazardous": "yellow", "destructive": "bold red"}


def _options(func: Any) -> Any:
    func = click.option("--sql", "as_sql", is_flag=True, help="Print the DDL instead of a table.")(func)
    func = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)
    func = click.option("--tables", metavar="NAMES", help="Comma-separated table names to limit the plan to.")(func)
    func = click.option("--database", metavar="NAME", help="Named database (default: the default one).")(func)
    func = click.argument("target")(func)
    return func


def _plan(state: CliState, target: str, database: str | None, tables: str | None) -> tuple[Any, Any]:
    from storeroom_schema_sync.plan import plan

    metadata = load_target(target, error=SchemaSyncError)
    room = state.open_room()
    db = room.database(database)
    only = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
    with working("Planning..."):
        return room, plan(db, metadata, only)


def _show(p: Any, as_json: bool, as_sql: bool) -> None:
    if as_json and as_sql:
        raise click.UsageError("--json and --sql are exclusive")
    if as_json:
        echo_json(p.as_dict())
    elif as_sql:
        click.echo(p.to_sql(), nl=False)
    else:
        rows: list[list[Cell]] = [
            [
                styled("BLOCKED" if o.blocked else o.safety, "bold red" if o.blocked else _STYLES[o.safety]),
                str(o),
                o.blocked or "; ".join(o.reasons),
            ]
            for o in p.operations
        ]
        print_table(["safety", "change", "why"], rows, empty=f"database {p.database!r} is in sync")


@click.group("schema")
def schema_group() -> None:
    """Declarative schema sync: plan, apply and check models against a database."""


@schema_group.command("plan")
@_options
@pass_state
def plan_command(
    state: CliState, target: str, database: str | None, tables: str | None, as_json: bool, as_sql: bool
) -> None:
    """Show the changes that would make the database match TARGET."""
    room, p = _plan(state, target, database, tables)
    with room:
        _show(p, as_json, as_sql)


@schema_group.command("check")
@_options
@pass_state
def check_command(
    state: CliState, target: str, database: str | None, tables: str | None, as_json: bool, as_sql: bool
) -> None:
    """Exit 2 if the database differs from TARGET (for CI), 0 if it is in sync."""
    room, p = _plan(state, target, database, tables)
    with room:
        _show(p, as_json, as_sql)
    if not p.is_empty:
        click.echo(f"drift: {len(p.operations)} change(s) needed", err=True)
        raise click.exceptions.Exit(2)


@schema_group.command("apply")
@_options
@click.option("--allow-destructive", is_flag=True, help="Also apply drops and narrowing type changes.")
@click.option("--allow-hazards", is_flag=True, help="Also apply rewrites, long locks and validations of large tables.")
@click.option("--skip-refused", is_flag=True, help="Apply what is allowed and list the rest instead of failing.")
@click.option("--dry-run", is_flag=True, help="Show what would be applied; connect for the plan only, run no DDL.")
@pass_state
def apply_command(
    state: CliState,
    target: str,
    database: str | None,
    tables: str | None,
    as_json: bool,
    as_sql: bool,
    allow_destructive: bool,
    allow_hazards: bool,
    skip_refused: bool,
    dry_run: bool,
) -> None:
    """Apply the changes that make the database match TARGET."""
    from storeroom_schema_sync.apply import apply

    room, p = _plan(state, target, database, tables)
    with room:
        db = room.database(database)
        with working("Applying..."):
            report = apply(db, p, allow_destructive, allow_hazards, dry_run, skip_refused=skip_refused)
    if as_json:
        echo_json(report.as_dict())
    elif as_sql:
        click.echo("\n".join(report.statements))
    else:
        click.echo(str(report))
    if report.skipped and not dry_run:
        raise click.exceptions.Exit(1)
