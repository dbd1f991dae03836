"""SQLiteSettings and construction from settings, through the real Storeroom and plugins."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import storeroom_sqlite.plugin
from storeroom.errors import ConfigurationError, TransactionError
from storeroom.health import HealthStatus
from storeroom.plugins import PluginManager
from storeroom.room import Storeroom
from storeroom_sqlite import AsyncSQLiteDatabase, SQLiteDatabase, SQLiteSettings


@pytest.fixture
def plugins() -> PluginManager:
    manager = PluginManager(load_entry_points=False)
    manager.register(storeroom_sqlite.plugin, name="sqlite")
    return manager


def _room(plugins: PluginManager, **databases: dict[str, Any]) -> Storeroom:
    return Storeroom.from_settings({"databases": databases}, plugins=plugins, embedded_default=False)


def test_defaults() -> None:
    settings = SQLiteSettings(backend="sqlite")
    assert settings.url == "sqlite:///var/storeroom.db"
    assert settings.busy_timeout == 5.0 and settings.journal_mode is None
    assert settings.pool.size == 5


def test_from_settings_through_storeroom(tmp_path: Path, plugins: PluginManager) -> None:
    url = f"sqlite:///{tmp_path}/room.db"
    with _room(
        plugins,
        main={
            "backend": "sqlite",
            "url": url,
            "pool": {"size": 2, "max_overflow": 1},
            "busy_timeout": 3,
            "journal_mode": "WAL",
        },
    ) as room:
        db = room.database()
        assert isinstance(db, SQLiteDatabase)
        assert db.name == "main" and db.busy_timeout == 3.0 and db.journal_mode == "wal"
        assert db.pool_info().size == 2 and db.pool_info().available == 3
        db.execute("CREATE TABLE t (id INTEGER)")
        db.execute("INSERT INTO t (id) VALUES (:id)", {"id": 1})
        assert room.health()["databases.main"].status is HealthStatus.HEALTHY
        adb = room.async_database()
        assert isinstance(adb, AsyncSQLiteDatabase)
        assert asyncio.run(adb.fetch_value("SELECT count(*) FROM t")) == 1


def test_entry_point_registers_both_sides() -> None:
    manager = PluginManager()  # the installed distribution's entry point
    assert manager.databases.get("sqlite") is SQLiteDatabase
    assert manager.databases.get_async("sqlite") is AsyncSQLiteDatabase
    assert any(p.name == "sqlite" and p.error is None for p in manager.plugins)


def test_storeroom_refuses_other_database_inside_transaction(tmp_path: Path, plugins: PluginManager) -> None:
    with _room(
        plugins,
        a={"backend": "sqlite", "url": f"sqlite:///{tmp_path}/a.db", "default": True},
        b={"backend": "sqlite", "url": f"sqlite:///{tmp_path}/b.db"},
    ) as room:
        b = room.database("b")
        with room.database().transaction():
            with pytest.raises(TransactionError):
                room.database("b")
            with pytest.raises(TransactionError):
                b.fetch_value("SELECT 1")
            assert room.database("a").fetch_value("SELECT 1") == 1


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"pool": {"size": "x"}}, "databases.main.pool.size"),
        ({"pool": {"size": 0}}, "databases.main.pool.size"),
        ({"pool": {"sise": 3}}, "databases.main.pool.sise"),
        ({"colour": "red"}, "databases.main.colour"),
        ({"busy_timeout": -1}, "databases.main.busy_timeout"),
        ({"journal_mode": "sideways"}, "databases.main.journal_mode"),
        ({"url": "postgresql://app:Pa55-secret@db/app"}, "databases.main.url"),
    ],
)
def test_bad_settings_name_the_key(plugins: PluginManager, entry: dict[str, Any], key: str) -> None:
    raw = {"backend": "sqlite", "url": "sqlite:///:memory:", **entry}
    with pytest.raises(ConfigurationError) as caught:
        _room(plugins, main=raw)
    assert caught.value.key == key
    assert key in str(caught.value)
    assert "Pa55-secret" not in str(caught.value)


def test_unknown_key_message_says_so(plugins: PluginManager) -> None:
    with pytest.raises(ConfigurationError, match="unknown key"):
        _room(plugins, main={"backend": "sqlite", "colour": "red"})


def test_from_settings_accepts_a_plain_mapping(tmp_path: Path) -> None:
    db = SQLiteDatabase.from_settings("plain", {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/m.db"})
    with db:
        assert db.name == "plain" and db.fetch_value("SELECT 1") == 1
    with pytest.raises(ConfigurationError, match=r"databases\.plain\.pool\.size"):
        SQLiteDatabase.from_settings("plain", {"backend": "sqlite", "pool": {"size": "x"}})
