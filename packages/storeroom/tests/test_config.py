from __future__ import annotations

from pathlib import Path

import pytest

from storeroom import Storeroom
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


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"passwrd": "Typo-Secret-1"}, "databases.x.passwrd"),  # a misspelled key may be a secret
        ({"token": "Unknown-Secret-2"}, "databases.x.token"),
        ({"user": ["Listed-Secret-3"]}, "databases.x.user"),
        ({"password": 123456789}, "databases.x.password"),
        ({"url": 987654321987, "host": None}, "databases.x.url"),
    ],
)
def test_a_configuration_error_never_shows_a_value_that_may_be_secret(raw: dict[str, object], key: str) -> None:
    import traceback

    with pytest.raises(ConfigurationError) as info:
        validate_model(ServerDatabaseSettings, {"backend": "postgres", "host": "h", **raw}, "databases.x")
    assert info.value.key == key
    shown = "".join(traceback.format_exception(info.value))
    for value in raw.values():
        for part in value if isinstance(value, list) else [value]:
            if part is not None:
                assert str(part) not in shown
    assert info.value.__context__ is None  # pydantic's error quotes every input: never chained


def test_only_values_no_secret_can_be_are_shown() -> None:
    with pytest.raises(ConfigurationError) as info:
        validate_model(PoolSettings, {"size": 0, "pre_ping": "sometimes"}, "databases.main.pool")
    assert "size: Input should be greater than or equal to 1 (got 0)" in str(info.value)
    assert "(got 'sometimes')" in str(info.value)  # a bool's field: no secret is typed there


def test_secrets_keep_their_exact_value() -> None:
    s = validate_model(
        ServerDatabaseSettings,
        {
            "backend": " postgres ",
            "host": " h ",
            "user": " app ",
            "password": "  pw with spaces  ",
            "options": {"sslmode": " require ", "sslpassword": " tls pw "},
        },
        "databases.x",
    )
    assert s.password is not None and s.password.get_secret_value() == "  pw with spaces  "
    assert (s.backend, s.host, s.user) == ("postgres", "h", "app")  # everything else is trimmed
    assert s.options == {"sslmode": "require", "sslpassword": " tls pw "}


def test_a_url_that_does_not_parse_is_never_quoted() -> None:
    import traceback

    from storeroom.sqla.engine import parse_url

    for url, secret in [
        ("postgresql://app:p@ss:Port-Secret-1@db/app", "Port-Secret-1"),  # SQLAlchemy's "port": Port-Secret-1@db
        ("postgresql://app:se cret-2 @db:54x/app", "cret-2"),
    ]:
        with pytest.raises(ConfigurationError, match="invalid database url") as info:
            parse_url(url)
        assert secret not in "".join(traceback.format_exception(info.value))
        assert info.value.__context__ is None


def test_a_value_dynaconf_cannot_parse_is_not_quoted(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import traceback

    monkeypatch.setenv("STOREROOM_DATABASES__MAIN__URL", "@json {Parse-Secret-1")
    with pytest.raises(ConfigurationError, match=r"\$STOREROOM_DATABASES__MAIN__URL \(@json \.\.\.\)") as info:
        load_settings()
    assert "Parse-Secret-1" not in "".join(traceback.format_exception(info.value))
    assert info.value.__context__ is None


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


# -- layers: tables merge key by key, lists replace ----------------------------------------------

LISTS = """
[default.databases.main]
backend = "sqlite"
url = "sqlite:///var/app.db"
pool = { size = 3, max_overflow = 4 }

[default.storages.files]
backend = "local"
root = "var/files"

[default.policies.avatars]
storage = "files"
content_types = ["image/png", "image/jpeg"]

[production.policies.avatars]
content_types = ["image/gif"]

[production.databases.main]
pool = { size = 20 }
"""


@pytest.fixture
def lists(project: Path) -> Path:
    (project / "config" / "settings.toml").write_text(LISTS)
    return project


def test_an_env_list_replaces_the_files_list(lists: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREROOM_POLICIES__AVATARS__CONTENT_TYPES", '["image/webp"]')
    avatars = load_settings()["policies"]["avatars"]
    assert avatars == {"storage": "files", "content_types": ["image/webp"]}  # narrowed, not appended


def test_an_environment_section_list_replaces_and_its_tables_still_merge(
    lists: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOREROOM_ENV", "production")
    s = load_settings()
    assert s["policies"]["avatars"] == {"storage": "files", "content_types": ["image/gif"]}
    assert s["databases"]["main"]["pool"] == {"size": 20, "max_overflow": 4}  # tables merge key by key
    assert s["databases"]["main"]["url"] == "sqlite:///var/app.db"
    monkeypatch.setenv("STOREROOM_POLICIES__AVATARS__CONTENT_TYPES", '["image/webp"]')
    assert load_settings()["policies"]["avatars"]["content_types"] == ["image/webp"]  # env over the section
    assert load_settings(environment="development")["policies"]["avatars"]["content_types"] == [
        "image/webp"
    ]  # an explicit environment is layered the same way


def test_dynaconfs_explicit_merge_marker_still_merges(lists: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREROOM_POLICIES__AVATARS__CONTENT_TYPES", '"@merge image/webp"')
    assert load_settings()["policies"]["avatars"]["content_types"] == ["image/png", "image/jpeg", "image/webp"]
    (lists / "config" / ".secrets.toml").write_text(
        '[default.policies.avatars]\ncontent_types = ["dynaconf_merge", "image/avif"]\n'
    )
    monkeypatch.delenv("STOREROOM_POLICIES__AVATARS__CONTENT_TYPES")
    assert load_settings()["policies"]["avatars"]["content_types"] == ["image/png", "image/jpeg", "image/avif"]


# -- no silent fallback: unknown namespaces ------------------------------------------------------


def test_an_unknown_namespace_in_a_file_is_named_with_its_file(project: Path) -> None:
    (project / "config" / "settings.toml").write_text('[default.databse.main]\nbackend = "sqlite"\n')
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert info.value.key == "databse"
    message = str(info.value)
    assert "unknown namespace" in message and "did you mean 'databases'?" in message
    assert "settings.toml [default]" in message


def test_an_unknown_namespace_from_the_environment_names_the_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOREROOM_STORAGE__FILES__ROOT", "/srv/objects")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert info.value.key == "storage"
    assert "$STOREROOM_STORAGE__FILES__ROOT" in str(info.value) and "did you mean 'storages'?" in str(info.value)
    assert load_settings(strict=False)["storage"] == {"files": {"root": "/srv/objects"}}  # config --no-validate


def test_storerooms_own_switches_and_dynaconfs_keys_are_not_settings(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "config" / "settings.toml").write_text(
        SETTINGS.replace("[default.databases.main]", "[default]\ndynaconf_merge = true\n\n[default.databases.main]")
    )
    for var, value in {
        "STOREROOM_ENV": "production",
        "STOREROOM_SETTINGS_FILES": "config/settings.toml",
        "STOREROOM_DISABLE_PLUGINS": "nothing",
        "STOREROOM_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1/test",
        "ENV_FOR_DYNACONF": "production",
    }.items():
        monkeypatch.setenv(var, value)
    s = load_settings()
    assert set(s) == {"databases", "storages", "policies"}
    assert s["databases"]["main"]["url"] == "sqlite:///var/prod.db"


# -- switching backend from the environment ------------------------------------------------------

PG_URL = "postgresql://app:Env-Secret-1@db.internal:5432/app"


def test_an_env_url_selects_the_backend_its_scheme_names(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREROOM_DATABASES__MAIN__URL", PG_URL)  # the file says backend = "sqlite"
    with Storeroom.from_config() as room:
        db = room.database()
        assert db.PLUGIN_NAME == "postgres"
        assert db.engine.url.host == "db.internal" and db.engine.url.drivername.startswith("postgresql+")
        assert room.database_names == ["main"]


def test_an_environment_section_url_selects_its_backend_too(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "config" / "settings.toml").write_text(
        SETTINGS.replace('url = "sqlite:///var/prod.db"', 'url = "mysql://app@db.internal/app"')
    )
    monkeypatch.setenv("STOREROOM_ENV", "production")
    with Storeroom.from_config() as room:
        assert room.database().PLUGIN_NAME == "mysql"
    monkeypatch.setenv("STOREROOM_ENV", "development")
    with Storeroom.from_config() as room:
        assert room.database().PLUGIN_NAME == "sqlite"


@pytest.mark.parametrize(
    "env",
    [
        # backend and url set together: explicit, and they disagree
        {"STOREROOM_DATABASES__MAIN__BACKEND": "sqlite", "STOREROOM_DATABASES__MAIN__URL": PG_URL},
        # the backend is the newer value: the file's sqlite url does not fit it
        {"STOREROOM_DATABASES__MAIN__BACKEND": "postgres"},
    ],
    ids=["same-layer", "backend-above-url"],
)
def test_an_explicit_backend_that_cannot_read_the_url_is_one_error_naming_both_keys(
    project: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    with pytest.raises(ConfigurationError) as info:
        Storeroom.from_config()
    message = str(info.value)
    assert "databases.main.backend" in message and "databases.main.url" in message
    assert info.value.key == "databases.main.url"
    assert "Env-Secret-1" not in message


def test_a_namespace_at_the_top_of_a_file_is_not_silently_an_environment(project: Path) -> None:
    # what `storeroom config` prints, pasted as is: Dynaconf would read an environment named "databases"
    (project / "config" / "settings.toml").write_text('[databases.main]\nbackend = "sqlite"\nurl = "sqlite:///x.db"\n')
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert info.value.key == "databases" and "[default.databases.<name>]" in str(info.value)


def test_the_example_settings_load_and_a_dynaconf_merge_false_table_replaces(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[3] / "config" / "settings.example-postgres-s3.toml"
    for var in ("STOREROOM_ENV", "STOREROOM_SETTINGS_FILES"):
        monkeypatch.delenv(var, raising=False)
    production = load_settings([example], environment="production")["databases"]["main"]
    development = load_settings([example], environment="development")["databases"]["main"]
    assert production["options"] == {"sslmode": "require"} and production["host"] == "db.internal"
    assert development["options"] == {} and development["host"] == "127.0.0.1"  # replaced, not merged
    assert development["pool"]["size"] == 10  # every other table still merges
