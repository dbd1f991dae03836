"""``storeroom config``: the effective settings after files, environment and overrides merge.

Secrets are masked before anything is rendered: values under secret-sounding keys
(``password``, ``secret_access_key``, ``account_key``, ``*token``, ``connection_string``)
become ``***`` and URL passwords are cut out of every string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import click

from storeroom.cli._output import echo_json, stdout_console
from storeroom.cli._state import CliState, pass_state
from storeroom.redaction import MASK, redact_mapping

__all__ = ["config_command", "mask_settings", "render_toml"]

#: masked whole even though their names do not sound secret: they embed account keys
_ALWAYS_MASKED = frozenset({"connection_string", "dsn"})
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def mask_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``settings`` that is safe to print or log."""

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                k: MASK if str(k).lower() in _ALWAYS_MASKED and v is not None else walk(v) for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    masked: dict[str, Any] = walk(redact_mapping(settings))
    return masked


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def render_toml(settings: Mapping[str, Any]) -> str:
    """Settings as the TOML a user would write: ``[databases.main]`` tables with inline sub-tables."""
    lines: list[str] = []

    def table(path: list[str], body: Mapping[str, Any]) -> None:
        inline = len(path) >= 2  # inside [namespace.name]: pool = { size = 5 }, as users write it
        scalars = [(k, v) for k, v in body.items() if inline or not isinstance(v, Mapping)]
        nested = [(k, v) for k, v in body.items() if not inline and isinstance(v, Mapping)]
        own_table = bool(path) and (bool(scalars) or not nested)
        if own_table:
            lines.append(f"[{'.'.join(_key(p) for p in path)}]")
        if own_table and not body:
            lines.append("# (none configured)")
        for k, v in scalars:
            lines.append(f"# {_key(str(k))} is unset" if v is None else f"{_key(str(k))} = {_value(v)}")
        if own_table:
            lines.append("")
        for k, v in nested:
            table([*path, str(k)], v)

    table([], settings)
    return "\n".join(lines).rstrip() + "\n"


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (secrets masked) instead of TOML.")
@click.option(
    "--no-validate",
    is_flag=True,
    help="Print the merged settings even if they do not validate (or a plugin is missing).",
)
@pass_state
def config_command(state: CliState, as_json: bool, no_validate: bool) -> None:
    """Show the effective settings, secrets masked.

    Files are merged in order, the selected environment overlays [default], and
    STOREROOM_<NAMESPACE>__<NAME>__<KEY> variables override both. A namespace the
    configuration leaves empty is filled from the embedded default.
    """
    from storeroom.config.backends import resolve_backends
    from storeroom.config.loader import EMBEDDED_DEFAULT, normalise_settings

    configured = state.load_settings(embedded_default=False, strict=not no_validate)
    settings = normalise_settings(configured, embedded_default=True)
    if not no_validate:
        from storeroom.room import Storeroom

        Storeroom(settings, plugins=state.plugins).close()  # validates; opens nothing
    # show the backend each database will use (a url may select it: docs/configuration.md)
    settings = resolve_backends(settings, state.plugins.databases, strict=False)
    masked = mask_settings(settings)
    if as_json:
        echo_json(masked)
        return
    files = ", ".join(f"{name}{'' if found else ' (not found)'}" for name, found in state.files())
    defaulted = [ns for ns in EMBEDDED_DEFAULT if not configured.get(ns)]
    header = [f"# environment: {state.environment_name}", f"# files: {files}"]
    if defaulted:
        header.append(f"# from the embedded default: {', '.join(defaulted)}")
    text = "\n".join(header) + "\n\n" + render_toml(masked)
    console = stdout_console()
    if console.is_terminal:
        from rich.syntax import Syntax

        console.print(Syntax(text, "toml", background_color="default"))
    else:
        click.echo(text, nl=False)
