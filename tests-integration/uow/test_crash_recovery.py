"""A process killed mid-unit (``os._exit``, no cleanup of any kind) is repaired by ``recover()``.

The unit runs in a child process with the same settings; it dies after step N of the
five, or right after the database commit. Afterwards the parent sees the debris, runs
``room.recover(older_than=0)`` and finds everything exactly as before (died before the
commit) or exactly as committed (died after it). SQLite journals in a second database
file (``journal="journal"``): a single-writer database cannot take the detached journal
writes while the unit's own transaction holds the lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from _uow_harness import committed_objects, snapshot
from storeroom import Storeroom
from storeroom.cli import create_cli

_HERE = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from storeroom import Storeroom
    from storeroom.uow import UnitOfWork
    from _uow_harness import five_steps

    settings, names, point, journal = json.loads(sys.argv[1])

    def crash(done):
        if done == point:
            os._exit(17)

    if point == "commit":
        UnitOfWork._finish = lambda self: os._exit(17)
    room = Storeroom.from_settings(settings)
    with room.unit_of_work("main", journal=journal) as uow:
        five_steps(uow, names, crash)
    os._exit(0)
    """
)


def _journal_for(settings: dict[str, Any]) -> str | bool:
    return "journal" if settings["databases"]["main"]["backend"] == "sqlite" else True


def _run_child(settings: dict[str, Any], names: dict[str, str], point: int | str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_HERE), os.environ.get("PYTHONPATH", "")])}
    payload = json.dumps([settings, names, point, _journal_for(settings)])
    done = subprocess.run([sys.executable, "-c", CHILD, payload], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 17, done.stderr[-3000:]


@pytest.mark.parametrize("point", [1, 2, 3, 4, 5])
def test_crash_before_commit_is_undone(
    room: Storeroom, settings: dict[str, Any], names: dict[str, str], point: int
) -> None:
    before = snapshot(room, names)
    _run_child(settings, names, point)
    assert snapshot(room, names) != before  # the dead unit left objects behind
    reports = room.recover(older_than=0)
    undone = [unit for report in reports for unit in report.undone]
    assert len(undone) == 1, reports
    assert all(report.ok for report in reports)
    assert snapshot(room, names) == before
    assert not any(r.undone or r.finished for r in room.recover(older_than=0))  # idempotent


def test_crash_after_commit_is_finished(room: Storeroom, settings: dict[str, Any], names: dict[str, str]) -> None:
    _run_child(settings, names, "commit")
    objects, rows = snapshot(room, names)
    assert "doomed.bin" in objects and "movable.bin" in objects  # deferred deletes never ran
    reports = room.recover(older_than=0)
    assert [unit for r in reports for unit in r.finished] and all(r.ok for r in reports)
    objects, rows = snapshot(room, names)
    assert {k: v[0] for k, v in objects.items()} == committed_objects()
    assert len(rows) == 5


def test_recent_units_are_left_alone(room: Storeroom, settings: dict[str, Any], names: dict[str, str]) -> None:
    _run_child(settings, names, 3)
    debris = snapshot(room, names)
    assert all(r.ok and not r.undone for r in room.recover())  # default: only units idle for 10 minutes
    assert snapshot(room, names) == debris


def test_cli_recover(room: Storeroom, settings: dict[str, Any], names: dict[str, str], tmp_path: Path) -> None:
    before = snapshot(room, names)
    _run_child(settings, names, 2)
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"default": settings}))
    result = CliRunner().invoke(
        create_cli(), ["--settings", str(config), "uow", "recover", "--older-than", "0", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert sum(len(r["undone"]) for r in report["reports"]) == 1
    assert snapshot(room, names) == before
