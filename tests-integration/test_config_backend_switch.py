"""The repository's own config/settings.toml (SQLite) switched to live servers by a url in the environment.

docs/configuration.md promises that ``STOREROOM_DATABASES__MAIN__URL=postgresql://...`` over a
file saying ``backend = "sqlite"`` runs ``main`` on PostgreSQL (and ``mysql://`` on MariaDB).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import storeroom

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "settings.toml", tmp_path / "config" / "settings.toml")
    monkeypatch.chdir(tmp_path)
    for var in ("STOREROOM_ENV", "STOREROOM_SETTINGS_FILES"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("server", "plugin", "query"),
    [("postgres_url", "postgres", "SELECT version()"), ("mariadb_url", "mysql", "SELECT VERSION()")],
)
def test_an_env_url_runs_the_configured_database_on_that_server(
    project: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, server: str, plugin: str, query: str
) -> None:
    monkeypatch.setenv("STOREROOM_DATABASES__MAIN__URL", request.getfixturevalue(server))
    with storeroom.from_config() as room:
        db = room.database()
        assert plugin == db.PLUGIN_NAME
        assert db.fetch_value(query)  # a real round trip to that server
        assert room.policy("avatars").content_types == ("image/png", "image/jpeg")  # the rest of the file holds
    assert not (project / "var" / "storeroom.db").exists()  # SQLite was never opened
