"""``storeroom plugins``: what is installed, from which distribution, and what failed to load."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from storeroom.cli._output import Cell, echo_json, print_table, styled
from storeroom.cli._state import CliState, pass_state

if TYPE_CHECKING:
    from storeroom.plugins import BackendRegistry, PluginManager

__all__ = ["plugins_command", "plugins_report"]


_KINDS = {"databases": "database", "storages": "storage", "schema_providers": "schema"}


def _qualname(cls: type[Any] | None) -> str | None:
    return None if cls is None else f"{cls.__module__}.{cls.__qualname__}"


def _backends(registry: BackendRegistry) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    for name in registry.names():
        out[name] = {"sync": _qualname(registry.get(name)), "async": _qualname(registry.get_async(name))}
    return out


def plugins_report(plugins: PluginManager) -> dict[str, Any]:
    """Entry points (with load errors), registered backends by kind, and disabled names."""
    return {
        "plugins": [
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "module": info.module,
                "provides": list(info.provides),
                "error": None if info.error is None else str(info.error),
            }
            for info in plugins.plugins
        ],
        "backends": {
            "databases": _backends(plugins.databases),
            "storages": _backends(plugins.storages),
            "schema_providers": _backends(plugins.schema_providers),
        },
        "disabled": sorted(plugins.disabled),
    }


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@pass_state
def plugins_command(state: CliState, as_json: bool) -> None:
    """List plugins, the backends they provide, and load errors."""
    report = plugins_report(state.plugins)
    if as_json:
        echo_json(report)
        return
    rows: list[list[Cell]] = []
    for p in report["plugins"]:
        status: Cell = styled(f"failed: {p['error']}", "red") if p["error"] else styled("ok", "green")
        rows.append([p["name"], f"{p['distribution']} {p['version']}", ", ".join(p["provides"]) or "-", status])
    print_table(["plugin", "distribution", "provides", "status"], rows, title="Plugins (entry points)")
    click.echo()
    backend_rows: list[list[Cell]] = []
    for group, backends in report["backends"].items():
        kind = _KINDS[group]
        for name, flavours in backends.items():
            sides = " + ".join(side for side in ("sync", "async") if flavours[side])
            classes = ", ".join(c for c in (flavours["sync"], flavours["async"]) if c)
            backend_rows.append([kind, name, sides, classes])
    print_table(["kind", "name", "api", "classes"], backend_rows, title="Backends")
    if report["disabled"]:
        click.echo()
        click.echo(f"Disabled by STOREROOM_DISABLE_PLUGINS: {', '.join(report['disabled'])}")
