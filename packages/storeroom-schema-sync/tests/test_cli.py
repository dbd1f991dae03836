"""``storeroom schema plan|apply|check TARGET`` through the real CLI, on a SQLite database."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from storeroom.cli import create_cli
from storeroom.plugins import PluginManager

MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
users = sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(200)))
sa.Index("ix_users_email", users.c.email)
models = [users]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in [v for v in list(__import__("os").environ) if v.startswith("STOREROOM_")]:
        monkeypatch.delenv(name)
    (tmp_path / "app_models.py").write_text(MODELS)
    (tmp_path / "settings.toml").write_text(
        f'[default.databases.main]\nbackend = "sqlite"\nurl = "sqlite:///{(tmp_path / "app.db").as_posix()}"\n'
    )
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("app_models", None)


def run(project: Path, *args: str) -> tuple[int, str, str]:
    app = create_cli(PluginManager())
    result = CliRunner().invoke(
        app, ["--settings", str(project / "settings.toml"), "schema", *args], prog_name="storeroom"
    )
    return result.exit_code, result.stdout, result.stderr


def test_plan_check_apply_check(project: Path) -> None:
    code, out, _ = run(project, "plan", "app_models:metadata")
    assert code == 0
    assert "create table main.users" in out and "create index main.users.ix_users_email" in out

    code, out, err = run(project, "check", "app_models:metadata")
    assert code == 2 and "drift: 2 change(s)" in err

    code, out, _ = run(project, "apply", "app_models:metadata")
    assert code == 0 and "2 applied, 0 skipped - in sync" in out

    code, out, _ = run(project, "check", "app_models:models")  # a list of tables works as well
    assert code == 0 and "is in sync" in out


def test_json_and_sql_output(project: Path) -> None:
    code, out, _ = run(project, "plan", "app_models:metadata", "--json")
    assert code == 0
    data = json.loads(out)
    assert [o["kind"] for o in data["operations"]] == ["create_table", "add_index"]
    code, out, _ = run(project, "plan", "app_models:metadata", "--sql")
    assert code == 0 and out.startswith("-- create table main.users\nCREATE TABLE users (")
    code, _, err = run(project, "plan", "app_models:metadata", "--sql", "--json")
    assert code == 2 and "exclusive" in err


def test_dry_run_applies_nothing(project: Path) -> None:
    code, out, _ = run(project, "apply", "app_models:metadata", "--dry-run", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["dry_run"] is True and report["applied"] == [] and len(report["skipped"]) == 2
    assert run(project, "check", "app_models:metadata")[0] == 2


def test_destructive_changes_need_the_flag(project: Path) -> None:
    assert run(project, "apply", "app_models:metadata")[0] == 0
    (project / "smaller.py").write_text(
        MODELS.replace(', sa.Column("email", sa.String(200))', "").replace(
            'sa.Index("ix_users_email", users.c.email)', ""
        )
    )
    code, _, err = run(project, "apply", "smaller:metadata")
    assert code == 2 and "DestructiveChangeError" in err and "drop column main.users.email" in err
    code, out, _ = run(project, "apply", "smaller:metadata", "--skip-refused")
    assert code == 1 and "skipped  drop column main.users.email" in out
    code, out, _ = run(project, "apply", "smaller:metadata", "--allow-destructive")
    assert code == 0 and "in sync" in out
    sys.modules.pop("smaller", None)


@pytest.mark.parametrize(
    ("target", "message"),
    [("app_models", "module:attr"), ("no_such_module:x", "cannot import"), ("app_models:nothing", "no attribute")],
)
def test_bad_targets_are_one_line_errors(project: Path, target: str, message: str) -> None:
    code, _, err = run(project, "plan", target)
    assert code == 2 and message in err and "Traceback" not in err
