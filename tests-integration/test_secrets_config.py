"""Secrets in configuration, with the installed plugins and real Dynaconf loading.

A configuration error names the key and the problem, never a value that may be secret; the CLI's
``config`` masks every secret; and a secret is used exactly as written, surrounding spaces kept.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

import storeroom
from _secrets import assert_hidden
from storeroom.cli import create_cli
from storeroom.errors import ConfigurationError


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the working directory, no STOREROOM_* variable set."""
    (tmp_path / "config").mkdir()
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("STOREROOM_")]:
        monkeypatch.delenv(name)
    return tmp_path


def write(project: Path, text: str) -> Path:
    path = project / "config" / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def secret() -> str:
    return "S3cret-" + uuid.uuid4().hex[:12]


def load_error() -> ConfigurationError:
    """The error loading the settings and opening the default database raises."""
    with pytest.raises(ConfigurationError) as info, storeroom.from_config() as room:
        room.database()
    return info.value


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(create_cli(), list(args))
    return result.exit_code, result.output


# -- errors never echo a value ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "typo", "suggested"),
    [
        ('[default.databases.main]\nbackend = "postgres"\nurl = "postgresql://app@db/app"\n', "passwrd", "password"),
        (
            '[default.storages.files]\nbackend = "azure"\ncontainer = "files"\n'
            'account_url = "https://acct.blob.core.windows.net"\n',
            "acount_key",
            "account_key",
        ),
        ('[default.storages.files]\nbackend = "s3"\nbucket = "files"\n', "aws_access_key", None),
    ],
    ids=["postgres-passwrd", "azure-acount_key", "s3-aws_access_key"],
)
def test_a_misspelled_secret_key_is_named_but_its_value_never_shown(
    project: Path, entry: str, typo: str, suggested: str | None
) -> None:
    value = secret()
    write(project, f'{entry}{typo} = "{value}"\n')
    error = load_error()
    assert f"{typo}: unknown key" in str(error)
    if suggested:
        assert f"did you mean {suggested!r}" in str(error)
    assert_hidden(error, value)
    code, output = cli("config")
    assert code == 2 and typo in output and value not in output
    code, output = cli("config", "--no-validate")  # shown, but masked: a typo may be a secret too
    assert code == 0 and value not in output and f"{typo} = " in output


def test_a_url_that_does_not_parse_is_not_quoted(project: Path) -> None:
    value = secret()
    # an unencoded '@' and ':' in the password: SQLAlchemy reads "<password tail>@db" as the port
    write(project, f'[default.databases.main]\nbackend = "postgres"\nurl = "postgresql://app:p@ss:{value}@db/app"\n')
    error = load_error()
    assert "invalid database url" in str(error) and "percent-encoded" in str(error)
    assert_hidden(error, value)
    code, output = cli("config", "--no-validate", "--json")
    assert code == 0 and value not in output
    assert json.loads(output)["databases"]["main"]["url"] == "postgresql://app:***@db/app"


def test_a_value_dynaconf_cannot_parse_is_not_quoted(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    value = secret()
    write(project, '[default.databases.main]\nbackend = "postgres"\nhost = "db"\n')
    monkeypatch.setenv("STOREROOM_DATABASES__MAIN__PASSWORD", f"@int {value}")
    error = load_error()
    assert "$STOREROOM_DATABASES__MAIN__PASSWORD (@int ...)" in str(error)
    assert_hidden(error, value)


# -- storeroom config masks every secret ---------------------------------------------------------

PASSWORDS = {
    "slash": "pa/ss-" + uuid.uuid4().hex[:8],  # SQLAlchemy takes '/' and spaces in a password unencoded
    "space": "pa ss-" + uuid.uuid4().hex[:8],
}


@pytest.mark.parametrize("validate", [True, False], ids=["validated", "no-validate"])
@pytest.mark.parametrize("as_json", [False, True], ids=["toml", "json"])
def test_config_masks_every_secret(project: Path, validate: bool, as_json: bool) -> None:
    key_id, key = "AKIA" + uuid.uuid4().hex[:16].upper(), secret()
    write(
        project,
        f'[default.databases.main]\nbackend = "postgres"\nurl = "postgresql://app:{PASSWORDS["slash"]}@db.internal/app"\n'
        f'default = true\n\n[default.databases.other]\nbackend = "postgres"\n'
        f'url = "postgresql://app:{PASSWORDS["space"]}@db.internal/app"\n\n'
        f'[default.storages.files]\nbackend = "s3"\nbucket = "files"\naccess_key_id = "{key_id}"\n'
        f'secret_access_key = "{key}"\n',
    )
    code, output = cli("config", *([] if validate else ["--no-validate"]), *(["--json"] if as_json else []))
    assert code == 0, output
    for value in (*PASSWORDS.values(), key_id, key):
        assert value not in output
    assert output.count("postgresql://app:***@db.internal/app") == 2
    assert "bucket" in output and "db.internal" in output  # the rest is shown


# -- secrets keep their exact value ----------------------------------------------------------


def test_secrets_keep_surrounding_spaces(project: Path) -> None:
    write(
        project,
        '[default.databases.main]\nbackend = "postgres"\nhost = " db.internal "\nuser = "app"\n'
        'password = "  pw with spaces  "\n\n'
        '[default.storages.files]\nbackend = "s3"\nbucket = "files"\naccess_key_id = " AKIAX "\n'
        'secret_access_key = " key ends in a space "\nprefix = " docs "\n\n'
        '[default.storages.blobs]\nbackend = "azure"\ncontainer = "blobs"\n'
        'account_url = "https://acct.blob.core.windows.net"\nsas_token = " sv=2024&sig=abc "\n',
    )
    with storeroom.from_config() as room:
        db = room.database("main")
        assert db.engine.url.password == "  pw with spaces  "
        assert db.engine.url.host == "db.internal"  # other strings are still trimmed
        s3 = room.storage("files")
        assert s3.settings.secret_access_key.get_secret_value() == " key ends in a space "
        assert s3.settings.access_key_id.get_secret_value() == " AKIAX "
        assert s3.prefix == "docs"
        assert room.storage("blobs").settings.sas_token.get_secret_value() == " sv=2024&sig=abc "


def test_a_password_with_spaces_logs_in_to_mariadb(project: Path, mariadb_url: str) -> None:
    """The real check: the server accepts the password only as written, spaces included."""
    from urllib.parse import urlsplit

    from storeroom_mysql import MySQLDatabase

    server = urlsplit(mariadb_url)
    user, password = f"sr_{uuid.uuid4().hex[:12]}", f"  {secret()} with spaces  "
    with MySQLDatabase(mariadb_url, name="admin") as admin:
        admin.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        try:
            write(
                project,
                f'[default.databases.main]\nbackend = "mysql"\nhost = "{server.hostname}"\nport = {server.port or 3306}\n'
                f'user = "{user}"\npassword = "{password}"\n',
            )
            with storeroom.from_config() as room:
                assert room.database().fetch_value("SELECT CURRENT_USER()") == f"{user}@%"
        finally:
            admin.execute(f"DROP USER '{user}'@'%'")
