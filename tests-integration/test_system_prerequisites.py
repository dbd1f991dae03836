"""The suite on a machine that lacks a system library: here, unixODBC (pyodbc's ``libodbc.so.2``).

A fresh clone without unixODBC once collected three ImportErrors from storeroom-mssql's tests
and ran nothing at all. These tests run pytest in a subprocess where ``import pyodbc`` raises
the ImportError a missing ``libodbc.so.2`` gives, whatever this machine has installed (CI has
unixODBC), and check that every other test still collects, that the pyodbc tests skip saying
what to install, and that with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # collects the whole suite in a subprocess

ROOT = Path(__file__).resolve().parents[1]
MSSQL_TESTS = "packages/storeroom-mssql/tests"
#: the modules that need ``import pyodbc`` to work at all
PYODBC_MODULES = {f"{MSSQL_TESTS}/{name}" for name in ("test_compile.py", "test_errors.py", "test_live_here.py")}
HINT = "apt-get install unixodbc"

#: a pytest plugin (``-p no_libodbc``) loaded before anything imports pyodbc
BLOCKER = '''
import json
import os
import sys

class _NoLibodbc:
    """Makes ``import pyodbc`` fail the way it does where unixODBC is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "pyodbc" or name.startswith("pyodbc."):
            raise ImportError("libodbc.so.2: cannot open shared object file: No such file or directory", name=name)
        return None

sys.modules.pop("pyodbc", None)
sys.meta_path.insert(0, _NoLibodbc())


def pytest_collectreport(report):
    """Records which collectors (test modules) were skipped, and why."""
    if report.skipped and os.environ.get("NO_LIBODBC_REPORT"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        with open(os.environ["NO_LIBODBC_REPORT"], "a") as fh:
            fh.write(json.dumps({"nodeid": report.nodeid, "reason": reason}) + "\\n")
'''

_SKIP_LINE = re.compile(r"^SKIPPED \[\d+\] (?P<where>[^:]+):\d+: (?P<reason>.*)$", re.MULTILINE)


def _pytest(tmp_path: Path, *args: str, ci: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "no_libodbc.py").write_text(BLOCKER)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["NO_LIBODBC_REPORT"] = str(tmp_path / "skipped.jsonl")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tmp_path), env.get("PYTHONPATH", "")) if p)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no_libodbc", "-rs", "-q", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _test_files() -> set[str]:
    found = set()
    for top in ("packages", "tests-integration"):
        for path in (ROOT / top).rglob("test_*.py"):
            rel = path.relative_to(ROOT)
            if not any(part.startswith(".") or part in ("src", "node_modules") for part in rel.parts):
                found.add(rel.as_posix())
    return found


def test_the_blocker_really_blocks_pyodbc(tmp_path: Path) -> None:
    (tmp_path / "no_libodbc.py").write_text(BLOCKER)
    code = "import no_libodbc\ntry:\n    import pyodbc\nexcept ImportError as e:\n    print('blocked:', e)\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.startswith("blocked: libodbc.so.2")


def test_without_unixodbc_every_other_test_still_collects(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, "--collect-only", ci=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "error" not in output.splitlines()[-1].lower(), output[-4000:]
    collected = {line.split("::", 1)[0] for line in proc.stdout.splitlines() if "::" in line}
    report = tmp_path / "skipped.jsonl"
    skipped = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    for_odbc = {s["nodeid"] for s in skipped if HINT in s["reason"] and "libodbc.so.2" in s["reason"]}
    # the pyodbc modules skip, saying what to install; every other test file is collected
    assert for_odbc == PYODBC_MODULES, skipped
    assert PYODBC_MODULES.isdisjoint(collected)
    assert _test_files() - collected == {s["nodeid"] for s in skipped}, sorted(_test_files() - collected)
    # the rest of storeroom-mssql's tests (settings, read-only guard, executemany) are still there
    assert {f"{MSSQL_TESTS}/test_settings.py", f"{MSSQL_TESTS}/test_read_only.py"} <= collected


def test_without_unixodbc_the_mssql_tests_skip_with_the_install_hint(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, MSSQL_TESTS, ci=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and re.search(r"\d+ skipped", summary), summary
    assert "failed" not in summary and "error" not in summary, summary
    reasons = [m["reason"] for m in _SKIP_LINE.finditer(proc.stdout)]
    assert reasons and all(HINT in reason for reason in reasons), reasons


def test_in_ci_a_missing_unixodbc_is_a_failure(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, MSSQL_TESTS, ci=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-4000:]
    assert "CI=true and pyodbc cannot be imported" in output and HINT in output, output[-4000:]
    summary = output.strip().splitlines()[-1]
    assert "error" in summary or "failed" in summary, summary
    assert "skipped" not in summary, summary
