"""docs/ against the code: every hook documented, every Python block valid, the plugin walk-through runs.

The writing-a-plugin page is executable documentation: each code block that starts
with a path comment (``# src/storeroom_blobfile/backend.py``) is one file of the
example plugin. The tests below write them into a temporary package, register it
through ``PluginManager.register``, use it through a ``Storeroom`` and the CLI, and
run the conformance tests the page shows.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import click
import pytest
from click.testing import CliRunner

from storeroom import Storeroom, hookspecs
from storeroom._markers import PROJECT
from storeroom.cli import create_cli
from storeroom.errors import ContentTooLargeError, ObjectExistsError, ObjectNotFoundError
from storeroom.plugins import PluginManager

pytestmark = pytest.mark.docs

DOCS = Path(__file__).resolve().parents[3] / "docs"
HOOKS_PAGE = DOCS / "plugins" / "hooks.md"
PLUGIN_PAGE = DOCS / "plugins" / "writing-a-plugin.md"
EXAMPLE_PACKAGE = "storeroom_blobfile"

_FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_PATH_COMMENT = re.compile(r"^# (?P<path>[\w./-]+\.(?:py|toml))\n")
_LINK = re.compile(r"\]\((?P<target>[^)#\s]+\.md)(?:#[^)]*)?\)")


def code_blocks(page: Path) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced block on ``page``."""
    return [(m["lang"], m["body"]) for m in _FENCE.finditer(page.read_text(encoding="utf-8"))]


def example_files(page: Path) -> dict[str, str]:
    """Blocks whose first line is ``# <relative path>``: the files of the documented package."""
    files: dict[str, str] = {}
    for lang, body in code_blocks(page):
        match = _PATH_COMMENT.match(body)
        if lang in ("python", "toml") and match:
            files[match["path"]] = body
    return files


def hook_names() -> list[str]:
    return sorted(
        name
        for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
        if getattr(func, f"{PROJECT}_spec", None) is not None
    )


# -- the hooks reference ------------------------------------------------------------------------


def test_there_are_hookspecs_to_document() -> None:
    assert len(hook_names()) >= 4
    assert set(hook_names()) == set(hookspecs.__all__)


@pytest.mark.parametrize("hook", hook_names())
def test_every_hookspec_has_a_heading_and_signature_in_hooks_md(hook: str) -> None:
    text = HOOKS_PAGE.read_text(encoding="utf-8")
    headings = re.findall(r"^#{2,4} .*$", text, re.MULTILINE)
    assert any(f"`{hook}`" in h for h in headings), f"docs/plugins/hooks.md has no heading for {hook}"
    params = list(inspect.signature(getattr(hookspecs, hook)).parameters)
    # ``def hook(cli: click.Group)``: each parameter in order, annotations allowed
    pattern = rf"def {hook}\(" + r"[^,)]*,\s*".join(rf"{re.escape(p)}\b" for p in params) + r"[^)]*\)"
    assert re.search(pattern, text), f"docs/plugins/hooks.md does not show the signature of {hook}"


def test_hooks_md_documents_no_hook_that_does_not_exist() -> None:
    text = HOOKS_PAGE.read_text(encoding="utf-8")
    headings = re.findall(r"^#{2,4} `(storeroom_\w+)`", text, re.MULTILINE)
    assert sorted(headings) == hook_names()


# -- every page ---------------------------------------------------------------------------------


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def test_the_expected_pages_exist() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in _pages()}
    expected = {
        "index.md",
        "configuration.md",
        "databases.md",
        "object-storage.md",
        "cli.md",
        "plugins/writing-a-plugin.md",
        "plugins/hooks.md",
    }
    assert expected <= names


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_python_blocks_compile(page: Path) -> None:
    for lang, body in code_blocks(page):
        if lang == "python":
            try:
                compile(body, f"{page.name} block", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
            except SyntaxError as exc:
                pytest.fail(f"{page.relative_to(DOCS)}: invalid Python in a code block: {exc}\n{body}")


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    for match in _LINK.finditer(page.read_text(encoding="utf-8")):
        target = match["target"]
        if "://" not in target:
            assert (page.parent / target).resolve().exists(), f"{page.relative_to(DOCS)} links to missing {target}"


# -- the writing-a-plugin walk-through ------------------------------------------------------------


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The documented plugin written out as a project directory, importable from ``src``."""
    files = example_files(PLUGIN_PAGE)
    root = tmp_path / "storeroom-blobfile"
    for relative, body in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    monkeypatch.syspath_prepend(str(root / "src"))
    yield root
    for name in [m for m in sys.modules if m == EXAMPLE_PACKAGE or m.startswith(EXAMPLE_PACKAGE + ".")]:
        del sys.modules[name]


def _plugin_module() -> ModuleType:
    return importlib.import_module(f"{EXAMPLE_PACKAGE}.plugin")


def test_the_walk_through_contains_a_whole_package() -> None:
    assert set(example_files(PLUGIN_PAGE)) >= {
        "pyproject.toml",
        "src/storeroom_blobfile/__init__.py",
        "src/storeroom_blobfile/settings.py",
        "src/storeroom_blobfile/_errors.py",
        "src/storeroom_blobfile/backend.py",
        "src/storeroom_blobfile/plugin.py",
        "tests/test_conformance.py",
    }


def test_the_entry_point_targets_the_plugin_module(example: Path) -> None:
    project = tomllib.loads((example / "pyproject.toml").read_text())
    entry_points = project["project"]["entry-points"][PROJECT]
    assert entry_points == {"blobfile": f"{EXAMPLE_PACKAGE}.plugin"}
    assert any(dep.startswith("storeroom") for dep in project["project"]["dependencies"])


def test_the_example_plugin_works_through_a_storeroom(example: Path) -> None:
    plugins = PluginManager(load_entry_points=False, disabled=set())
    plugins.register(_plugin_module(), name="blobfile")
    assert "blobfile" in plugins.storages

    settings = {
        "storages": {"archive": {"backend": "blobfile", "path": str(example / "var" / "archive.db"), "page_size": 2}}
    }
    with Storeroom.from_settings(settings, plugins=plugins, embedded_default=False) as room:
        store = room.storage("archive")
        info = store.write("reports/a.txt", b"hello world", content_type="text/plain", metadata={"Owner": "Ada"})
        assert info.size == 11
        assert store.read("reports/a.txt") == b"hello world"
        assert store.read_range("reports/a.txt", 6, 100) == b"world"
        assert store.get_metadata("reports/a.txt") == {"owner": "Ada"}
        store.write("reports/b.txt", iter([b"chunk-1 ", b"chunk-2"]))
        store.write("reports/c.txt", b"")
        store.write("other/d.txt", b"d")
        assert store.list_keys("reports/") == ["reports/a.txt", "reports/b.txt", "reports/c.txt"]
        assert b"".join(store.read_stream("reports/b.txt", chunk_size=3)) == b"chunk-1 chunk-2"
        with pytest.raises(ObjectExistsError):
            store.write("reports/a.txt", b"again", overwrite=False)
        with pytest.raises(ContentTooLargeError):
            store.write("reports/big.bin", iter([b"x" * 10] * 5), max_size=20)
        assert not store.exists("reports/big.bin")
        assert store.delete("reports/a.txt") is True
        assert store.delete("reports/a.txt") is False
        with pytest.raises(ObjectNotFoundError):
            store.read("reports/a.txt")
        health = room.health()["storages.archive"]
        assert health.status == "healthy", health.message
        assert health.details["objects"] == 3

        async def use_async_side() -> bytes:
            astore = room.async_storage("archive")
            await astore.write("async/e.txt", b"from asyncio")
            return await astore.read("async/e.txt")

        assert asyncio.run(use_async_side()) == b"from asyncio"


@pytest.mark.skipif(
    importlib.util.find_spec("storeroom_sqlite") is None,
    reason="the CLI fills the databases namespace with the embedded default, which needs storeroom-sqlite",
)
def test_the_example_plugin_command_and_health_in_the_cli(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("STOREROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(example)  # the embedded default database lives under ./var
    plugins = PluginManager(disabled=set())  # installed plugins, for the embedded default database
    plugins.register(_plugin_module(), name="blobfile")
    db_path = (example / "var" / "archive.db").as_posix()
    settings = example / "settings.toml"
    settings.write_text(f'[default.storages.archive]\nbackend = "blobfile"\npath = "{db_path}"\n', encoding="utf-8")
    app = create_cli(plugins=plugins)
    runner = CliRunner()

    result = runner.invoke(app, ["--settings", str(settings), "blobfile", "vacuum", "archive"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("archive: ")

    health = runner.invoke(app, ["--settings", str(settings), "health", "--json"])
    assert json.loads(health.stdout)["components"]["storages.archive"]["status"] == "healthy"


def _conformance_suite_available() -> bool:
    try:
        importlib.import_module("storeroom.testing")
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _conformance_suite_available(), reason="storeroom.testing is not complete yet")
def test_the_example_passes_its_conformance_tests(example: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREROOM_")}
    env["PYTHONPATH"] = os.pathsep.join([str(example / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "error::DeprecationWarning",  # a user following the page sees no deprecation either
            "tests",
        ],
        cwd=example,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ passed", proc.stdout)
    assert "Warning" not in proc.stdout + proc.stderr, proc.stdout[-4000:]


# -- docs/cli.md against the real command -------------------------------------------------------

CLI_PAGE = DOCS / "cli.md"


def console_example(page: Path, command: str) -> str:
    """The output shown under ``$ <command>`` in the page's first console block that runs it."""
    for lang, body in code_blocks(page):
        if lang == "console" and body.startswith(f"$ {command}\n"):
            return body.removeprefix(f"$ {command}\n")
    raise AssertionError(f"{page.name} has no console block starting with '$ {command}'")


def test_cli_md_help_is_the_real_help_output() -> None:
    # what a user with only the embedded default (sqlite, local: no plugin commands) sees on an 80-column
    # terminal: click formats for the width less two columns
    app = create_cli(PluginManager(load_entry_points=False))
    result = CliRunner().invoke(app, ["--help"], prog_name="storeroom", terminal_width=78)
    assert result.exit_code == 0, result.output
    assert console_example(CLI_PAGE, "storeroom --help") == result.output


def test_docs_cite_no_command_that_is_not_built() -> None:
    """`storeroom X` for a command that does not exist only in a sentence saying it is not built yet."""
    app = create_cli(PluginManager())
    commands = set(app.list_commands(click.Context(app, info_name="storeroom")))
    commands.add("blobfile")  # the command of writing-a-plugin.md's example plugin
    wrong = []
    for page in [*DOCS.rglob("*.md"), DOCS.parent / "README.md"]:
        for sentence in re.split(r"(?<=[.!?])\s+|\n\n", page.read_text(encoding="utf-8")):
            cited = set(re.findall(r"`storeroom ([a-z][a-z-]*)", sentence)) - commands
            if cited and "not built" not in sentence:
                wrong.append((page.name, sorted(cited), " ".join(sentence.split())[:120]))
    assert wrong == [], f"docs cite storeroom commands that do not exist: {wrong}"


def test_cli_md_config_example_is_true_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's ``storeroom config`` run, over this repository's own config/settings.toml."""
    block = next(
        body
        for lang, body in code_blocks(CLI_PAGE)
        if lang == "console" and body.split("\n", 1)[0].endswith(" storeroom config")
    )
    command, shown = block.split("\n", 1)
    assignment = re.fullmatch(r"\$ (STOREROOM_\w+)='([^']*)' storeroom config", command)
    assert assignment, command
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text((DOCS.parent / "config" / "settings.toml").read_text())
    monkeypatch.chdir(tmp_path)
    for var in [v for v in os.environ if v.startswith("STOREROOM_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv(assignment[1], assignment[2])
    result = CliRunner().invoke(create_cli(PluginManager()), ["config"], prog_name="storeroom")
    assert result.exit_code == 0, result.output
    expected = shown.split("\n...\n", 1)[0]  # the page elides the rest with "..."
    assert result.output.startswith(expected + "\n"), result.output
    assert "hunter2" not in result.output
