"""``storeroom health``: check every configured database and storage.

Exit status is what a container probe or a deploy script needs: 1 if any component
is UNHEALTHY, 0 otherwise (DEGRADED still serves requests), 2 for a configuration
or plugin error.
"""

from __future__ import annotations

from typing import Any

import click

from storeroom.cli._output import STATUS_STYLES, Cell, echo_json, print_table, stdout_console, styled, warn, working
from storeroom.cli._state import CliState, pass_state
from storeroom.health import HealthResult, HealthStatus, worst_status
from storeroom.redaction import redact_mapping

__all__ = ["health_command", "health_report"]


def health_report(results: dict[str, HealthResult]) -> dict[str, Any]:
    """The JSON document ``storeroom health --json`` prints (details redacted)."""
    components = {}
    for name, result in sorted(results.items()):
        data = result.to_dict()
        data["details"] = redact_mapping(data["details"])
        components[name] = data
    return {"status": str(worst_status([r.status for r in results.values()])), "components": components}


def _latency(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


@click.command("health")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of a table.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Seconds each component may take to answer.",
)
@pass_state
def health_command(state: CliState, as_json: bool, timeout: float) -> None:
    """Check every database and storage; exit 1 if any is unhealthy."""
    room = state.open_room()
    try:
        with working(f"Checking {len(room.database_names) + len(room.storage_names)} components..."):
            results = room.health(timeout=timeout)
    finally:
        try:
            room.close()
        except Exception as exc:  # noqa: BLE001 - the report matters more than a failed close
            warn(f"closing connections failed: {type(exc).__name__}: {exc}")
    report = health_report(results)
    if as_json:
        echo_json(report)
    else:
        rows: list[list[Cell]] = []
        for name, data in report["components"].items():
            status = data["status"]
            rows.append(
                [name, styled(status, STATUS_STYLES.get(status, "")), _latency(data["latency_ms"]), data["message"]]
            )
        print_table(["component", "status", "latency", "message"], rows, empty="nothing is configured")
        console = stdout_console()
        if console.is_terminal:
            overall = report["status"]
            console.print(f"overall: [{STATUS_STYLES[overall]}]{overall}[/]")
    if report["status"] == HealthStatus.UNHEALTHY:
        raise click.exceptions.Exit(1)
