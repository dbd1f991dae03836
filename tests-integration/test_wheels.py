"""What a user gets from ``pip install "storeroom[sqlite,local,orm,fastapi]"`` (and ``[postgres,s3]``).

Builds a wheel of every package under packages/, installs the core with two extras into a
fresh virtual environment (the storeroom wheels from the build, everything else from the
package index), and checks the result from inside that environment: exactly the requested
backends, and they work. One environment per extras set serves the whole session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent for p in (ROOT / "packages").glob("*/pyproject.toml"))
QUICKSTART = ROOT / "examples" / "quickstart.py"
FASTAPI_EXAMPLE = ROOT / "examples" / "fastapi_app" / "main.py"


@dataclass(frozen=True)
class Installed:
    python: Path
    prefix: Path
    wheels: dict[str, Path]  # distribution name -> wheel file
    version: str


def _dist_name(package: Path) -> str:
    with (package / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["name"])


def _run(cmd: list[str | os.PathLike[str]], *, cwd: Path | None = None, timeout: float = 600) -> str:
    proc = subprocess.run(
        [os.fspath(c) for c in cmd], cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}",
            pytrace=False,
        )
    return proc.stdout


def _clean_env() -> dict[str, str]:
    """The environment minus what would leak this checkout or its settings into the venv."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("STOREROOM_")}


def _build_wheels(out: Path, builder_python: Path) -> None:
    """Every package's wheel into ``out`` (hatchling here when available, else pip's isolated build)."""
    try:
        import hatchling  # noqa: F401 - the build backend every package declares
    except ImportError:  # not in this environment: pip builds in isolation instead
        _run([builder_python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, *PACKAGES])
        return
    for package in PACKAGES:
        _run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", out], cwd=package)


@dataclass(frozen=True)
class Wheelhouse:
    path: Path
    wheels: dict[str, Path]  # distribution name -> wheel file
    version: str


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """A wheel of every package in this checkout, built once per session."""
    out = tmp_path_factory.mktemp("wheelhouse")
    _build_wheels(out, Path(sys.executable))
    wheels: dict[str, Path] = {}
    for whl in sorted(out.glob("*.whl")):
        wheels[whl.name.split("-")[0].replace("_", "-").lower()] = whl
    assert set(wheels) == {_dist_name(p) for p in PACKAGES}, sorted(wheels)
    return Wheelhouse(out, wheels, wheels["storeroom"].name.split("-")[1])


def _install(tmp_path_factory: pytest.TempPathFactory, house: Wheelhouse, extras: str) -> Installed:
    """A fresh venv with ``storeroom[extras]``: storeroom wheels from the house, the rest from the index."""
    prefix = tmp_path_factory.mktemp(f"venv-{extras.replace(',', '-')}")
    venv.EnvBuilder(with_pip=True, clear=True).create(prefix)
    python = prefix / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--find-links", house.path,
         f"{house.wheels['storeroom']}[{extras}]"]
    )  # fmt: skip
    return Installed(python, prefix, house.wheels, house.version)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Wheelhouse) -> Installed:
    return _install(tmp_path_factory, wheelhouse, "sqlite,local,orm,fastapi")


@pytest.fixture(scope="session")
def installed_servers(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Wheelhouse) -> Installed:
    return _install(tmp_path_factory, wheelhouse, "postgres,s3")


def _in_venv(installed: Installed, code: str, *, cwd: Path | None = None) -> str:
    return _run([installed.python, "-c", code], cwd=cwd)


def test_every_package_builds_a_typed_wheel_without_tests(installed: Installed) -> None:
    for name, whl in installed.wheels.items():
        files = zipfile.ZipFile(whl).namelist()
        import_name = name.replace("-", "_")
        assert f"{import_name}/py.typed" in files, f"{whl.name} has no {import_name}/py.typed"
        assert not [f for f in files if f.startswith("tests/") or "/tests/" in f], f"{whl.name} ships its tests"


def test_exactly_the_requested_distributions_are_installed(installed: Installed) -> None:
    code = """
import importlib.metadata, json
import storeroom, storeroom_fastapi, storeroom_local, storeroom_orm, storeroom_sqlite
dists = {(d.metadata["Name"].lower(), d.version) for d in importlib.metadata.distributions()}
modules = (storeroom, storeroom_fastapi, storeroom_local, storeroom_orm, storeroom_sqlite)
print(json.dumps({
    "dists": sorted(d for d in dists if d[0].startswith("storeroom")),
    "files": [mod.__file__ or next(iter(mod.__path__)) for mod in modules],
}))
"""
    out = _in_venv(installed, code)
    found = json.loads(out)
    v = installed.version
    assert found["dists"] == [
        ["storeroom", v],
        ["storeroom-fastapi", v],
        ["storeroom-local", v],
        ["storeroom-orm", v],
        ["storeroom-sqlite", v],
    ]
    for path in found["files"]:  # imported from the venv, not from this checkout
        assert Path(path).resolve().is_relative_to(installed.prefix.resolve()), path


def test_quickstart_runs_from_the_installed_wheels(installed: Installed, tmp_path: Path) -> None:
    assert QUICKSTART.is_file(), f"{QUICKSTART.relative_to(ROOT)} is missing: the README's first command runs it"
    proc = subprocess.run(
        [os.fspath(installed.python), os.fspath(QUICKSTART)],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"quickstart exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )


def test_the_fastapi_example_serves_from_the_installed_wheels(installed: Installed, tmp_path: Path) -> None:
    """examples/fastapi_app on a real uvicorn, with only the wheels (and uvicorn, httpx) installed."""
    _run([installed.python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "uvicorn", "httpx"])
    code = """
import importlib.util, json, sys
import httpx
from storeroom_fastapi.testing import serve
spec = importlib.util.spec_from_file_location("example", sys.argv[1])
example = sys.modules["example"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)
with serve(example.app) as base, httpx.Client(base_url=base, headers={"X-Tenant-ID": "acme"}) as client:
    doc = client.post("/documents", params={"title": "t"}, content=b"hello", headers={"Content-Type": "text/plain"})
    form = client.post("/documents/form", files={"file": ("a.txt", b"form", "text/plain")})
    body = client.get(f"/documents/{doc.json()['id']}/file", headers={"Range": "bytes=1-3"})
    print(json.dumps([doc.status_code, form.status_code, body.status_code, body.text, client.get("/health").status_code]))
"""
    out = _run([installed.python, "-c", code, FASTAPI_EXAMPLE], cwd=tmp_path)
    assert json.loads(out.strip().splitlines()[-1]) == [201, 201, 206, "ell", 200]


def test_a_missing_backend_says_what_to_install_and_hides_the_password(installed: Installed, tmp_path: Path) -> None:
    code = """
import json
from storeroom import Storeroom
from storeroom.errors import PluginNotFoundError
try:
    Storeroom.from_settings({"databases": {"main": {"backend": "postgres", "url": "postgresql://u:secret@h/d"}}})
except PluginNotFoundError as exc:
    print(json.dumps({"str": str(exc), "repr": repr(exc), "args": repr(exc.args)}))
else:
    print(json.dumps(None))
"""
    result = json.loads(_in_venv(installed, code, cwd=tmp_path))
    assert result is not None, "no PluginNotFoundError for an uninstalled backend"
    assert 'pip install "storeroom[postgres]"' in result["str"]
    for text in result.values():
        assert "secret" not in text


def test_postgres_and_s3_extras_install_only_those_and_work(
    installed_servers: Installed, postgres_url: str, s3_endpoint: str, tmp_path: Path
) -> None:
    code = """
import importlib.metadata, json, sys, uuid
from storeroom import Storeroom
pg, s3 = sys.argv[1], sys.argv[2]
bucket = "wheel-" + uuid.uuid4().hex[:12]
settings = {
    "databases": {"main": {"backend": "postgres", "url": pg}},
    "storages": {"files": {"backend": "s3", "bucket": bucket, "endpoint_url": s3, "region": "us-east-1",
                           "access_key_id": "AKIAWHEELTEST", "secret_access_key": "wheel-secret-key",
                           "create_bucket": True}},
}
with Storeroom.from_settings(settings, embedded_default=False) as room:
    room.storage("files").write("hello.txt", b"hi")
    value = room.database().fetch_value("SELECT 40 + 2")
    body = room.storage("files").read("hello.txt").decode()
dists = sorted(d.metadata["Name"].lower() for d in importlib.metadata.distributions())
print(json.dumps({"dists": [d for d in dists if d.startswith("storeroom")], "value": value, "body": body}))
"""
    out = _run([installed_servers.python, "-c", code, postgres_url, s3_endpoint], cwd=tmp_path)
    found = json.loads(out.strip().splitlines()[-1])
    assert found == {"dists": ["storeroom", "storeroom-postgres", "storeroom-s3"], "value": 42, "body": "hi"}
