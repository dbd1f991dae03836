from __future__ import annotations

from pathlib import Path

import pytest

from storeroom.config import load_settings
from storeroom.config.models import PolicySettings, PoolSettings, ServerDatabaseSettings, validate_model
from storeroom.errors import ConfigurationError

SETTINGS = """
[default.databases.main]
backend = "sqlite"
url = "sqlite:///var/app.db"
default = true
pool = { size = 3 }

[default.storages.files]
backend = "local"
root = "var/files"

[default.policies.avatars]
storage = "files"
key_prefix = "avatars/"
max_size = "2 MiB"

[production.databases.main]
url = "sqlite:///var/prod.db"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text(SETTINGS)
    monkeypatch.chdir(tmp_path)
    for var in ("STOREROOM_ENV", "STOREROOM_SETTINGS_FILES"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_default_files_are_read(project: Path) -> None:
    s = load_settings()
    assert s["databases"]["main"]["url"] == "sqlite:///var/app.db"
    assert s["databases"]["main"]["pool"] == {"size": 3}
    assert s["policies"]["avatars"]["max_size"] == "2 MiB"


def test_environment_selection_merges_over_default(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREROOM_ENV", "production")
    s = load_settings()
    assert s["databases"]["main"]["url"] == "sqlite:///var/prod.db"
    assert s["databases"]["main"]["backend"] == "sqlite"  # merged, not replaced
    assert load_settings(environment="development")["databases"]["main"]["url"] == "sqlite:///var/app.db"


def test_env_overrides_with_double_underscores(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREROOM_DATABASES__MAIN__POOL__SIZE", "9")
    monkeypatch.setenv("STOREROOM_DATABASES__REPLICA__BACKEND", "sqlite")
    s = load_settings()
    assert s["databases"]["main"]["pool"]["size"] == 9
    assert s["databases"]["replica"] == {"backend": "sqlite"}


def test_secrets_file_is_merged(project: Path) -> None:
    (project / "config" / ".secrets.toml").write_text('[default.databases.main]\npassword_note = "x"\n')
    assert load_settings()["databases"]["main"]["password_note"] == "x"


def test_settings_files_env_var(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = project / "other.toml"
    other.write_text('[default.storages.s]\nbackend = "local"\nroot = "elsewhere"\n')
    monkeypatch.setenv("STOREROOM_SETTINGS_FILES", str(other))
    s = load_settings()
    assert s["storages"] == {"s": {"backend": "local", "root": "elsewhere"}}
    assert s["databases"]["main"]["backend"] == "sqlite"  # embedded default fills the empty namespace
    monkeypatch.setenv("STOREROOM_SETTINGS_FILES", str(project / "missing.toml"))
    with pytest.raises(ConfigurationError, match=r"missing.toml"):
        load_settings()


def test_no_config_at_all_is_the_embedded_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s["databases"]["main"]["backend"] == "sqlite"
    assert s["storages"]["files"] == {"backend": "local", "root": "var/objects", "default": True}
    assert s["policies"] == {}


def test_broken_toml_is_a_configuration_error(project: Path) -> None:
    (project / "config" / "settings.toml").write_text("[default.databases.main\nbackend=")
    with pytest.raises(ConfigurationError, match=r"could not read settings"):
        load_settings()


def test_namespace_shape_errors(tmp_path: Path) -> None:
    from storeroom.config import normalise_settings

    with pytest.raises(ConfigurationError, match=r"databases.main: expected a table"):
        normalise_settings({"databases": {"main": "sqlite:///x"}})


def test_validation_names_the_key_and_hides_secrets() -> None:
    with pytest.raises(ConfigurationError) as info:
        validate_model(PoolSettings, {"size": "lots"}, "databases.main.pool")
    assert info.value.key == "databases.main.pool.size"
    assert "databases.main.pool.size" in str(info.value) and "'lots'" in str(info.value)

    with pytest.raises(ConfigurationError, match=r"databases.x.colour: unknown key"):
        validate_model(
            ServerDatabaseSettings, {"backend": "postgres", "url": "postgresql://h/d", "colour": 1}, "databases.x"
        )

    with pytest.raises(ConfigurationError) as info:
        validate_model(
            ServerDatabaseSettings,
            {"backend": "postgres", "host": "h", "port": "nope", "password": "Sup3rSecret!"},
            "databases.x",
        )
    assert "databases.x.port" in str(info.value) and "Sup3rSecret!" not in str(info.value)

    with pytest.raises(ConfigurationError, match=r"missing 'url'"):
        validate_model(ServerDatabaseSettings, {"backend": "postgres"}, "databases.x")


def test_server_settings_register_password_for_redaction() -> None:
    from storeroom import redact

    s = validate_model(ServerDatabaseSettings, {"backend": "postgres", "host": "h", "password": "Pa55word-xyz"}, "d")
    assert "Pa55word-xyz" not in repr(s)
    assert redact("auth failed: Pa55word-xyz") == "auth failed: ***"


def test_policy_sizes_parsed() -> None:
    p = validate_model(PolicySettings, {"storage": "files", "max_size": "2 MiB"}, "policies.a")
    assert p.max_size == 2 * 1024 * 1024
    with pytest.raises(ConfigurationError, match=r"policies.a"):
        validate_model(PolicySettings, {"storage": "files", "max_size": "huge"}, "policies.a")
