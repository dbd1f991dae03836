"""``storeroom plugins``: entry points found through real distribution metadata."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from storeroom.cli import StoreroomGroup, create_cli
from storeroom.plugins import PluginManager

GOOD_MODULE = """
import click
from storeroom import hookimpl


@hookimpl
def storeroom_register_commands(cli):
    @cli.command("hello-ep")
    def hello():
        click.echo("hello from an entry point")
"""

BROKEN_MODULE = 'raise RuntimeError("cannot import: password=Ep-Pa55word")\n'


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site directory holding two distributions with ``storeroom`` entry points: one good, one broken."""
    site = tmp_path / "site"
    for dist, module, source in (
        ("storeroom_cli_good_test", "cli_good_test_plugin", GOOD_MODULE),
        ("storeroom_cli_broken_test", "cli_broken_test_plugin", BROKEN_MODULE),
    ):
        info = site / f"{dist}-1.2.3.dist-info"
        info.mkdir(parents=True)
        name = dist.replace("_", "-")
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
        ep_name = "good" if "good" in dist else "broken"
        (info / "entry_points.txt").write_text(f"[storeroom]\n{ep_name}-test = {module}\n")
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(site))
    yield site
    for module in ("cli_good_test_plugin", "cli_broken_test_plugin"):
        sys.modules.pop(module, None)


def _app(**kwargs: object) -> StoreroomGroup:
    return create_cli(plugins=PluginManager(**kwargs))  # type: ignore[arg-type]


@pytest.mark.usefixtures("installed")
def test_lists_entry_points_with_distribution_and_errors(runner: CliRunner) -> None:
    result = runner.invoke(_app(disabled=set()), ["plugins"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    good = next(line for line in lines if line.startswith("good-test"))
    broken = next(line for line in lines if line.startswith("broken-test"))
    assert "storeroom-cli-good-test 1.2.3" in good and good.endswith("ok")
    assert "storeroom-cli-broken-test 1.2.3" in broken
    assert "failed: plugin 'broken-test' from distribution storeroom-cli-broken-test 1.2.3 failed to load" in broken
    assert "Ep-Pa55word" not in result.output
    assert "\x1b[" not in result.output


@pytest.mark.usefixtures("installed")
def test_entry_point_commands_are_added(runner: CliRunner) -> None:
    result = runner.invoke(_app(disabled=set()), ["hello-ep"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello from an entry point\n"


@pytest.mark.usefixtures("installed")
def test_json_report(runner: CliRunner) -> None:
    result = runner.invoke(_app(disabled={"broken-test"}), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    by_name = {p["name"]: p for p in report["plugins"]}
    assert "broken-test" not in by_name
    assert by_name["good-test"] == {
        "name": "good-test",
        "distribution": "storeroom-cli-good-test",
        "version": "1.2.3",
        "module": "cli_good_test_plugin",
        "provides": [],
        "error": None,
    }
    assert report["disabled"] == ["broken-test"]
    assert set(report["backends"]) == {"databases", "storages", "schema_providers"}


@pytest.mark.usefixtures("installed")
def test_disabled_plugins_are_named(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREROOM_DISABLE_PLUGINS", "broken-test")
    result = runner.invoke(_app(), ["plugins"])
    assert "broken-test" not in result.stdout.split("Disabled")[0]
    assert "Disabled by STOREROOM_DISABLE_PLUGINS: broken-test" in result.stdout


def test_backends_registered_in_code_are_listed(app: StoreroomGroup, runner: CliRunner) -> None:
    result = runner.invoke(app, ["plugins", "--json"])
    backends = json.loads(result.stdout)["backends"]
    assert backends["storages"]["dict-test"]["sync"].endswith(".DictStorage")
    assert backends["storages"]["dict-test"]["async"] is None
    assert "server-test" in backends["databases"]
    text = runner.invoke(app, ["plugins"]).stdout
    assert any(line.split()[:3] == ["storage", "dict-test", "sync"] for line in text.splitlines())
