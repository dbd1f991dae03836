"""Retention: ``prune_versions``/``purge_audit`` and ``storeroom orm prune`` on every backend."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from _orm_harness import OrmEnv
from storeroom.cli import create_cli
from storeroom.plugins import PluginManager
from storeroom_orm import Field, Model, tenant

UTC = dt.UTC
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.datetime]:
    """The repositories' clock, set by the test: versions and audit rows of known ages."""
    now = {"now": T0}
    for module in ("storeroom_orm.statements", "storeroom_orm.temporal.base"):
        monkeypatch.setattr(f"{module}.utc_now", lambda: now["now"])
    return now


def _models(define: Any) -> tuple[Any, Any]:
    class Doc(Model, **define("rdoc", temporal="scd2", soft_delete=True)):
        title: str = Field(max_length=50)
        n: int = 0

    class Note(Model, **define("rnote", temporal="copy_on_change")):
        title: str = Field(max_length=50)
        n: int = 0

    return Doc, Note


def _at(clock: dict[str, dt.datetime], days: int) -> None:
    clock["now"] = T0 + dt.timedelta(days=days)


def test_prune_versions_keeps_the_current_version_and_a_chain(orm: OrmEnv, define: Any, clock: Any) -> None:
    Doc, _ = _models(define)
    orm.create_all()
    repo = orm.repo(Doc, tenant="acme")
    made = repo.create(Doc(title="a"))  # version 1 from day 0
    for day in (10, 20, 30):
        _at(clock, day)
        repo.update(made.id, n=day)  # versions 2, 3, 4 from days 10, 20, 30
    gone = repo.create(Doc(title="b"))
    _at(clock, 31)
    repo.delete(gone.id)  # closed on day 31, in the model's table: never pruned
    other = orm.repo(Doc, tenant="globex").create(Doc(title="c"))
    _at(clock, 32)
    orm.repo(Doc, tenant="globex").update(other.id, n=1)
    day = dt.timedelta(days=1)
    assert repo.prune_versions(older_than=T0 + 20 * day, dry_run=True) == 1  # version 2 ended at day 20: kept
    assert repo.prune_versions(older_than=T0 + 21 * day, dry_run=True) == 2
    assert [v.version for v in repo.history(made.id)] == [1, 2, 3, 4]
    assert repo.prune_versions(older_than=T0 + 21 * day) == 2
    versions = repo.history(made.id)
    assert [v.version for v in versions] == [3, 4]
    for prev, nxt in pairwise(versions):
        assert prev.valid_to == nxt.valid_from
    assert repo.get(made.id, as_of=T0 + 25 * day).version == 3 and repo.get(made.id, as_of=T0 + 5 * day) is None
    assert repo.field_history(made.id, "n")[0].operation == "update"  # no create: it was pruned
    assert repo.prune_versions(older_than=dt.timedelta(0)) == 1  # version 3; version 4 is current
    assert [v.version for v in repo.history(made.id)] == [4] and repo.get(made.id).n == 30
    assert [v.version for v in repo.history(gone.id)] == [1]  # the deleted entity's last version stays
    assert len(orm.repo(Doc, tenant="globex").history(other.id)) == 2  # another tenant's: untouched


def test_purge_audit_removes_whole_old_changes(orm: OrmEnv, define: Any, clock: Any) -> None:
    _, Note = _models(define)
    orm.create_all()
    repo = orm.repo(Note, tenant="acme")
    made = repo.create(Note(title="a"))  # day 0: two rows
    _at(clock, 10)
    repo.update(made.id, title="b", n=1)  # day 10: two rows
    _at(clock, 20)
    repo.update(made.id, n=2)  # day 20: one row
    other = orm.repo(Note, tenant="globex").create(Note(title="x"))
    cutoff = T0 + dt.timedelta(days=15)
    assert repo.purge_audit(older_than=cutoff, dry_run=True) == 4
    assert repo.purge_audit(older_than=cutoff) == 4
    assert [(c.operation, c.field, c.old, c.new) for c in repo.history(made.id)] == [("update", "n", 1, 2)]
    assert len(orm.repo(Note, tenant="globex").history(other.id)) == 2
    assert repo.get(made.id).title == "b"  # the record itself is never touched


def test_the_cli_prunes_every_temporal_model_in_every_tenant(
    orm: OrmEnv, define: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if orm.side == "async":
        pytest.skip("the CLI is sync")
    Doc, Note = _models(define)

    class Plain(Model, **define("rplain")):
        title: str = ""

    orm.create_all()
    for name in ("acme", "globex"):
        with tenant(name):
            doc = orm.repo(Doc).create(Doc(title="a"))
            orm.repo(Doc).update(doc.id, n=1)
            orm.repo(Note).create(Note(title="a"))
    module = types.ModuleType("retention_target")
    module.MODELS = [Doc, Note, Plain]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "retention_target", module)
    url = orm.sync_database.url.render_as_string(hide_password=False)
    backend = {"sqlite": "sqlite", "postgres": "postgres", "mariadb": "mysql"}[orm.backend]
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[default.databases.main]\nbackend = "{backend}"\nurl = "{url}"\n', encoding="utf-8")
    cli = create_cli(PluginManager())
    args = ["--settings", str(settings), "orm", "prune", "retention_target:MODELS", "--older-than", "1d"]

    def run(*extra: str) -> dict[str, Any]:
        result = CliRunner().invoke(cli, [*args, *extra, "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        return {t["model"]: t["rows"] for t in report["tables"]}

    assert run() == {"Doc": 0, "Note": 0}  # everything is younger than a day
    args[-1] = "0s"
    assert run("--dry-run") == {"Doc": 2, "Note": 4}
    assert run() == {"Doc": 2, "Note": 4} and run() == {"Doc": 0, "Note": 0}
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and "REMOVED" in table.output and Doc.__orm__.history_table.name in table.output
    wrong = CliRunner().invoke(cli, [*args[:4], "retention_target:nope", "--older-than", "1d"])
    assert wrong.exit_code == 2 and "has no attribute" in wrong.output
    age = CliRunner().invoke(cli, [*args[:5], "--older-than", "soon"])
    assert age.exit_code == 2 and "90d" in age.output
