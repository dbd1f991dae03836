"""``storeroom config``: merged settings, environments, overrides - and no secret ever shown."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storeroom.cli import StoreroomGroup
from storeroom.cli.config_cmd import mask_settings, render_toml

SECRETS = (
    "Url-Pa55word",
    "Key-Pa55word",
    "Aws-Secret-Key-123",
    "Azure-Account-Key-456",
    "Conn-String-Key-789",
    "Env-Pa55word",
)

SETTINGS = """
[default.databases.main]
backend = "server-test"
url = "postgresql://app:Url-Pa55word@db.internal:5432/app"
default = true

[default.databases.replica]
backend = "server-test"
host = "replica.internal"
user = "app"
password = "Key-Pa55word"
database = "app"

[default.storages.files]
backend = "dict-test"
secret_access_key = "Aws-Secret-Key-123"
account_key = "Azure-Account-Key-456"
connection_string = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Conn-String-Key-789;EndpointSuffix=core.windows.net"

[default.policies.avatars]
storage = "files"
key_prefix = "avatars/"
max_size = "2 MiB"
content_types = ["image/png", "image/jpeg"]

[production.storages.files]
health = "degraded"
"""


@pytest.fixture
def settings(write_settings: Callable[..., Path]) -> Path:
    return write_settings(SETTINGS)


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_secrets_are_never_printed(
    app: StoreroomGroup, runner: CliRunner, settings: Path, monkeypatch: pytest.MonkeyPatch, json_flag: list[str]
) -> None:
    monkeypatch.setenv("STOREROOM_DATABASES__REPLICA__PASSWORD", "Env-Pa55word")
    result = runner.invoke(app, ["--settings", str(settings), "config", *json_flag])
    assert result.exit_code == 0, result.output
    for secret in SECRETS:
        assert secret not in result.output
    assert "postgresql://app:***@db.internal:5432/app" in result.stdout
    assert "replica.internal" in result.stdout  # non-secret values are shown


def test_json_is_the_masked_effective_settings(app: StoreroomGroup, runner: CliRunner, settings: Path) -> None:
    result = runner.invoke(app, ["--settings", str(settings), "config", "--json"])
    data = json.loads(result.stdout)
    assert set(data) == {"databases", "storages", "policies"}
    assert data["databases"]["replica"]["password"] == "***"
    assert data["storages"]["files"]["secret_access_key"] == "***"
    assert data["storages"]["files"]["account_key"] == "***"
    assert data["storages"]["files"]["connection_string"] == "***"
    assert data["policies"]["avatars"]["content_types"] == ["image/png", "image/jpeg"]
    assert "health" not in data["storages"]["files"]  # the production overlay is not active


def test_text_output_is_toml_with_a_header(app: StoreroomGroup, runner: CliRunner, settings: Path) -> None:
    result = runner.invoke(app, ["--settings", str(settings), "config"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# environment: development\n")
    assert f"# files: {settings}\n" in result.stdout
    parsed = tomllib.loads(result.stdout)
    assert parsed["databases"]["main"]["default"] is True
    assert parsed["policies"]["avatars"]["max_size"] == "2 MiB"
    assert "\x1b[" not in result.stdout


def test_environment_and_env_var_overrides(
    app: StoreroomGroup, runner: CliRunner, settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOREROOM_DATABASES__REPLICA__HOST", "replica-2.internal")
    result = runner.invoke(app, ["--settings", str(settings), "--env", "production", "config", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["storages"]["files"]["health"] == "degraded"
    assert data["storages"]["files"]["account_key"] == "***"  # [default] still merged under production
    assert data["databases"]["replica"]["host"] == "replica-2.internal"

    monkeypatch.setenv("STOREROOM_ENV", "production")
    text = runner.invoke(app, ["--settings", str(settings), "config"]).stdout
    assert text.startswith("# environment: production\n")


def test_embedded_default_fills_empty_namespaces(app: StoreroomGroup, runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "--no-validate"])  # no config at all; no sqlite plugin needed
    assert result.exit_code == 0, result.output
    assert "# from the embedded default: databases, storages" in result.stdout
    parsed = tomllib.loads(result.stdout)
    assert parsed["databases"]["main"] == {"backend": "sqlite", "url": "sqlite:///var/storeroom.db", "default": True}
    assert parsed["storages"]["files"]["root"] == "var/objects"


def test_no_validate_shows_settings_a_plugin_is_missing_for(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]
) -> None:
    settings = write_settings(
        '[default.storages.cloud]\nbackend = "s3"\nbucket = "b"\nsecret_access_key = "Hidden-Key-1"\n'
    )
    assert runner.invoke(app, ["--settings", str(settings), "config"]).exit_code == 2
    result = runner.invoke(app, ["--settings", str(settings), "config", "--no-validate", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["storages"]["cloud"] == {
        "backend": "s3",
        "bucket": "b",
        "secret_access_key": "***",
    }


def test_render_toml_round_trips() -> None:
    settings = {
        "databases": {"main": {"backend": "sqlite", "url": "sqlite:///x.db", "pool": {"size": 5, "pre_ping": True}}},
        "storages": {"odd name": {"backend": "local", "root": 'a "quoted" path', "ratio": 0.5}},
        "policies": {},
    }
    assert tomllib.loads(render_toml(settings)) == settings


def test_mask_settings_masks_nested_and_listed_secrets() -> None:
    masked = mask_settings(
        {"a": {"options": {"password": "x1234", "sslmode": "require"}, "urls": ["mysql://u:pw1234@h/db"], "dsn": "y"}}
    )
    assert masked == {
        "a": {"options": {"password": "***", "sslmode": "require"}, "urls": ["mysql://u:***@h/db"], "dsn": "***"}
    }


def test_an_unknown_namespace_fails_config_but_no_validate_shows_it(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = write_settings('[default.storages.files]\nbackend = "dict-test"\n')
    monkeypatch.setenv("STOREROOM_STORAGE__FILES__ROOT", "/srv/objects")  # 'storage', not 'storages'
    result = runner.invoke(app, ["--settings", str(settings), "config"])
    assert result.exit_code == 2
    assert (
        "storage: unknown namespace (set in $STOREROOM_STORAGE__FILES__ROOT); did you mean 'storages'?" in result.output
    )
    shown = runner.invoke(app, ["--settings", str(settings), "config", "--no-validate", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["storage"] == {"files": {"root": "/srv/objects"}}


def test_no_validate_masks_every_secret_however_written(
    app: StoreroomGroup, runner: CliRunner, write_settings: Callable[..., Path]
) -> None:
    secrets = ["Slash/Pa55", "Space Pa55", "P@ss:Pa55", "AKIAKEYID12345", "Typo-Pa55"]
    settings = write_settings(
        '[default.databases.a]\nbackend = "postgres"\nurl = "postgresql://u:Slash/Pa55@db/app"\n'
        '[default.databases.b]\nbackend = "postgres"\nurl = "postgresql://u:Space Pa55@db/app"\n'
        '[default.databases.c]\nbackend = "postgres"\nurl = "postgresql://u:P@ss:Pa55@db:5432/app"\n'
        '[default.storages.s3]\nbackend = "s3"\naccess_key_id = "AKIAKEYID12345"\npasswrd = "Typo-Pa55"\n'
    )
    for flags in ([], ["--json"]):
        result = runner.invoke(app, ["--settings", str(settings), "config", "--no-validate", *flags])
        assert result.exit_code == 0, result.output
        assert not [s for s in secrets if s in result.stdout]
        assert result.stdout.count("postgresql://u:***@db") == 3
