"""``storeroom health``: the report, and exit codes a probe or deploy script can rely on."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storeroom.cli import StoreroomGroup, create_cli
from storeroom.plugins import PluginManager


def _need(*modules: str) -> pytest.MarkDecorator:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(
        bool(missing),
        reason=f"first-party plugin not installed yet: {', '.join(missing)} (pip install -e packages/...)",
    )


needs_embedded_plugins = _need("storeroom_sqlite", "storeroom_local")


def _storages(**healths: str) -> str:
    return "".join(f'[default.storages.{name}]\nbackend = "dict-test"\nhealth = "{h}"\n' for name, h in healths.items())


def test_all_healthy_exits_0_with_a_table(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]
) -> None:
    settings = write_settings(_storages(files="healthy", media="healthy"), with_database=True)
    result = runner.invoke(app, ["--settings", str(settings), "health"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["COMPONENT", "STATUS", "LATENCY", "MESSAGE"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["databases.main", "healthy"],
        ["storages.files", "healthy"],
        ["storages.media", "healthy"],
    ]
    assert "\x1b[" not in result.output


def test_json_report_is_parseable(app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]) -> None:
    settings = write_settings(_storages(files="healthy", media="degraded"), with_database=True)
    result = runner.invoke(app, ["--settings", str(settings), "health", "--json"])
    assert result.exit_code == 0, result.output  # degraded still serves requests
    report = json.loads(result.stdout)
    assert report["status"] == "degraded"
    files = report["components"]["storages.files"]
    assert files["status"] == "healthy"
    assert files["details"] == {"backend": "dict-test", "objects": 0}
    assert set(files) == {"component", "status", "message", "latency_ms", "details", "checked_at"}
    assert report["components"]["storages.media"]["status"] == "degraded"


def test_an_unhealthy_storage_exits_1(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]
) -> None:
    settings = write_settings(_storages(files="healthy", broken="unhealthy"), with_database=True)
    result = runner.invoke(app, ["--settings", str(settings), "health", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["status"] == "unhealthy"
    assert report["components"]["storages.broken"]["message"] == "ConnectionError: the store is down"

    text = runner.invoke(app, ["--settings", str(settings), "health"])
    assert text.exit_code == 1
    assert "storages.broken  unhealthy" in text.stdout


def test_an_unreachable_database_exits_1_without_leaking_its_password(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]
) -> None:
    settings = write_settings(
        '[default.databases.main]\nbackend = "server-test"\nurl = "postgresql://app:Db-Pa55word@db/app"\nreachable = false\n'
        + _storages(files="healthy")
    )
    result = runner.invoke(app, ["--settings", str(settings), "health"])
    assert result.exit_code == 1
    assert "databases.main" in result.stdout and "unhealthy" in result.stdout
    assert "Db-Pa55word" not in result.output


def test_timeout_marks_a_hung_component_unhealthy(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]
) -> None:
    settings = write_settings('[default.storages.slow]\nbackend = "dict-test"\nprobe_delay = 1.0\n', with_database=True)
    result = runner.invoke(app, ["--settings", str(settings), "health", "--json", "--timeout", "0.1"])
    assert result.exit_code == 1
    assert "TimeoutError" in json.loads(result.stdout)["components"]["storages.slow"]["message"]


def test_timeout_must_be_positive(app: StoreroomGroup, runner: CliRunner) -> None:
    result = runner.invoke(app, ["health", "--timeout", "0"])
    assert result.exit_code == 2
    assert "--timeout" in result.stderr


def test_an_empty_report_is_healthy(plugins: PluginManager) -> None:
    from storeroom import Storeroom
    from storeroom.cli.health_cmd import health_report

    room = Storeroom.from_settings({}, plugins=plugins, embedded_default=False)
    assert health_report(room.health()) == {"status": "healthy", "components": {}}


# -- with the first-party embedded default (storeroom-sqlite + storeroom-local) -------------------


@needs_embedded_plugins
def test_embedded_default_is_healthy(runner: CliRunner, clean_env: Path) -> None:
    app = create_cli(plugins=PluginManager(disabled=set()))
    result = runner.invoke(app, ["health", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["components"]) == {"databases.main", "storages.files"}
    assert report["status"] == "healthy"
    assert (clean_env / "var").is_dir()


@needs_embedded_plugins
def test_sqlite_and_local_roots_that_cannot_be_created_exit_1(
    runner: CliRunner, write_settings: Callable[..., Path], clean_env: Path
) -> None:
    blocker = clean_env / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    settings = write_settings(
        f'[default.databases.main]\nbackend = "sqlite"\nurl = "sqlite:///{blocker.as_posix()}/sub/app.db"\n'
        f'[default.storages.files]\nbackend = "local"\nroot = "{blocker.as_posix()}/objects"\n'
    )
    app = create_cli(plugins=PluginManager(disabled=set()))
    result = runner.invoke(app, ["--settings", str(settings), "health", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "unhealthy"
    assert report["components"]["databases.main"]["status"] == "unhealthy"
    assert report["components"]["storages.files"]["status"] == "unhealthy"
