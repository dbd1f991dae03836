"""The root group: options, plugin commands through the hook, and clean errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner

from storeroom import hookimpl
from storeroom.cli import CliState, StoreroomGroup, create_cli, pass_state, progress
from storeroom.errors import ConfigurationError
from storeroom.plugins import PluginManager

SETTINGS = """
[default.storages.files]
backend = "dict-test"
"""


class CommandsPlugin:
    """A plugin adding a ``hello`` command that uses the shared CLI state."""

    @hookimpl
    def storeroom_register_commands(self, cli: click.Group) -> None:
        @cli.command("hello")
        @click.option("--name", default="world")
        @pass_state
        def hello(state: CliState, name: str) -> None:
            """Say hello and list the configured storages."""
            with state.open_room() as room:
                click.echo(f"hello {name}; storages={','.join(room.storage_names)}; env={state.environment_name}")


def test_help_lists_builtin_commands(app: StoreroomGroup, runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("plugins", "config", "health", "--settings", "--env"):
        assert name in result.output


def test_version(app: StoreroomGroup, runner: CliRunner) -> None:
    from storeroom import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_plugin_adds_a_command_through_the_hook(
    plugins: PluginManager, runner: CliRunner, write_settings: Callable[..., Path]
) -> None:
    plugins.register(CommandsPlugin(), name="commands")
    app = create_cli(plugins=plugins)
    settings = write_settings(SETTINGS, with_database=True)

    assert "hello" in runner.invoke(app, ["--help"]).output
    result = runner.invoke(app, ["--settings", str(settings), "--env", "staging", "hello", "--name", "tests"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "hello tests; storages=files; env=staging"


def test_a_plugin_whose_hook_fails_does_not_break_the_cli(plugins: PluginManager, runner: CliRunner) -> None:
    class Broken:
        @hookimpl
        def storeroom_register_commands(self, cli: click.Group) -> None:
            raise RuntimeError("cannot build commands")

    plugins.register(Broken(), name="broken")
    plugins.register(CommandsPlugin(), name="commands")
    result = runner.invoke(create_cli(plugins=plugins), ["--help"])
    assert result.exit_code == 0
    assert "hello" in result.stdout
    assert "plugin 'broken' could not add its commands" in result.stderr


def test_a_plugin_cannot_replace_a_builtin_command(plugins: PluginManager, runner: CliRunner) -> None:
    class Hijack:
        @hookimpl
        def storeroom_register_commands(self, cli: click.Group) -> None:
            @cli.command("health")
            def fake() -> None:
                click.echo("all good, trust me")

    plugins.register(Hijack(), name="hijack")
    result = runner.invoke(create_cli(plugins=plugins), ["health", "--json"])
    assert "trust me" not in result.stdout
    assert "tried to replace the 'health' command" in result.stderr


def test_storeroom_error_in_a_plugin_command_is_one_red_line_exit_2(plugins: PluginManager, runner: CliRunner) -> None:
    class Failing:
        @hookimpl
        def storeroom_register_commands(self, cli: click.Group) -> None:
            @cli.command("fail")
            def fail() -> None:
                raise ConfigurationError("cannot reach postgresql://app:Pa55word-xyz@db/app", key="databases.main.url")

    plugins.register(Failing(), name="failing")
    result = runner.invoke(create_cli(plugins=plugins), ["fail"])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # handled: no traceback
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ConfigurationError: cannot reach postgresql://app:***@db/app")
    assert "Pa55word-xyz" not in result.output
    assert "\x1b[" not in result.output  # no colour codes when not on a terminal


def test_missing_settings_file_exits_2(app: StoreroomGroup, runner: CliRunner) -> None:
    result = runner.invoke(app, ["--settings", "nope.toml", "config"])
    assert result.exit_code == 2
    assert "settings file not found: nope.toml" in result.stderr
    assert "Traceback" not in result.output


def test_toml_syntax_error_exits_2(app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]) -> None:
    settings = write_settings('[default.storages.files\nbackend = "dict-test"\n')
    result = runner.invoke(app, ["--settings", str(settings), "health"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ConfigurationError: could not read settings")
    assert len(result.stderr.strip().splitlines()) == 1


def test_validation_error_names_the_key_and_hides_the_password(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]
) -> None:
    settings = write_settings(
        """
[default.databases.main]
backend = "server-test"
host = "db.internal"
port = 99999
password = "Sup3r-Secret-pw"
"""
    )
    for command in (["config"], ["health"], ["config", "--json"]):
        result = runner.invoke(app, ["--settings", str(settings), *command])
        assert result.exit_code == 2, result.output
        assert "databases.main.port" in result.stderr
        assert "Sup3r-Secret-pw" not in result.output


def test_unknown_backend_names_what_to_install(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]
) -> None:
    settings = write_settings(
        '[default.databases.main]\nbackend = "postgres"\nurl = "postgresql://u:Hidden-pw-1@h/db"\n'
    )
    result = runner.invoke(app, ["--settings", str(settings), "health"])
    assert result.exit_code == 2
    assert 'pip install "storeroom[postgres]"' in result.stderr
    assert "Hidden-pw-1" not in result.output


def test_settings_files_from_the_environment(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path], monkeypatch: Any
) -> None:
    first = write_settings('[default.storages.files]\nbackend = "dict-test"\n', "a.toml", with_database=True)
    second = write_settings('[default.storages.more]\nbackend = "dict-test"\n', "b.toml")
    monkeypatch.setenv("STOREROOM_SETTINGS_FILES", f"{first},{second}")
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.output
    assert "more" in result.stdout and "files" in result.stdout


def test_python_dash_m_storeroom(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "storeroom", "--help"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage: storeroom" in proc.stdout


def test_progress_is_silent_when_piped(plugins: PluginManager, runner: CliRunner) -> None:
    class Slow:
        @hookimpl
        def storeroom_register_commands(self, cli: click.Group) -> None:
            @cli.command("crunch")
            def crunch() -> None:
                with progress("Crunching", total=3) as advance:
                    for _ in range(3):
                        advance(1)
                click.echo("done")

    plugins.register(Slow(), name="slow")
    result = runner.invoke(create_cli(plugins=plugins), ["crunch"])
    assert result.exit_code == 0, result.output
    assert result.output == "done\n"


def test_progress_runs_on_a_terminal(plugins: PluginManager, runner: CliRunner, monkeypatch: Any) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich treats the captured output as a terminal
    with runner.isolation() as (out, _err, _):
        with progress("Crunching", total=2) as advance:
            advance(2)
        print("after", flush=True)
    assert "after" in out.getvalue().decode()
