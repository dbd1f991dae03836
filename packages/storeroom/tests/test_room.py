"""The Storeroom registry against the real embedded backends (SQLite + local files)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import storeroom
from storeroom import Storeroom
from storeroom.adapters import AsyncStorageFromSync
from storeroom.errors import ConfigurationError, PluginNotFoundError, TransactionError
from storeroom.health import HealthStatus
from storeroom.plugins import PluginManager


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("STOREROOM_ENV", "STOREROOM_SETTINGS_FILES"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def two_databases(tmp_path: Path, default: str | None = "a") -> dict:
    dbs = {
        name: {"backend": "sqlite", "url": f"sqlite:///{tmp_path}/{name}.db", "default": name == default}
        for name in ("a", "b")
    }
    return {"databases": dbs}


def test_embedded_default_without_any_config(in_tmp: Path) -> None:
    with storeroom.from_config() as room:
        db = room.database()
        assert db.PLUGIN_NAME == "sqlite" and db.name == "main"
        assert db.fetch_value("SELECT 1 + 1") == 2
        st = room.storage()
        st.write("hello.txt", b"hi")
        assert (in_tmp / "var" / "objects" / "hello.txt").read_bytes() == b"hi"
        assert (in_tmp / "var" / "storeroom.db").exists()


def test_resources_are_cached_and_closed(in_tmp: Path) -> None:
    room = Storeroom.from_settings({})
    assert room.database() is room.database("main")
    assert room.storage("files") is room.storage()
    room.close()
    with pytest.raises(storeroom.errors.StoreroomError, match=r"closed"):
        room.database()


def test_named_connections_and_default(in_tmp: Path) -> None:
    with Storeroom.from_settings(two_databases(in_tmp)) as room:
        assert room.database().name == "a"
        assert room.database("b").name == "b"
        with pytest.raises(ConfigurationError, match=r"no database named 'c'.*configured: a, b"):
            room.database("c")


def test_several_databases_without_default(in_tmp: Path) -> None:
    with Storeroom.from_settings(two_databases(in_tmp, default=None)) as room:
        assert room.database("a").name == "a"
        with pytest.raises(ConfigurationError, match=r"none has default = true"):
            room.database()


def test_two_defaults_rejected_at_load(in_tmp: Path) -> None:
    settings = two_databases(in_tmp)
    settings["databases"]["b"]["default"] = True
    with pytest.raises(ConfigurationError, match=r"several entries say default = true"):
        Storeroom.from_settings(settings)


def test_other_connection_inside_transaction_is_refused(in_tmp: Path) -> None:
    with Storeroom.from_settings(two_databases(in_tmp)) as room:
        a, b = room.database("a"), room.database("b")
        with a.transaction():
            assert room.database("a") is a
            with pytest.raises(TransactionError, match=r"pinned"):
                room.database("b")
            with pytest.raises(TransactionError):
                b.fetch_value("SELECT 1")
        assert b.fetch_value("SELECT 1") == 1


def test_unknown_backend_has_install_hint(in_tmp: Path) -> None:
    with pytest.raises(PluginNotFoundError, match=r'pip install "storeroom\[postgres\]"') as info:
        Storeroom.from_settings(
            {"databases": {"main": {"backend": "postgres", "url": "postgresql://u:Secret-99@h/d"}}},
            plugins=PluginManager(load_entry_points=False),  # nothing installed
        )
    assert "Secret-99" not in str(info.value)


def test_disabled_backend_says_disabled_by_the_variable(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREROOM_DISABLE_PLUGINS", "postgres")  # the workspace installs it
    with pytest.raises(PluginNotFoundError, match=r"'postgres' is disabled by STOREROOM_DISABLE_PLUGINS") as info:
        Storeroom.from_settings(
            {"databases": {"main": {"backend": "postgres", "url": "postgresql://u:Secret-99@h/d"}}},
            plugins=PluginManager(),
        )
    assert "not installed" not in str(info.value) and "Secret-99" not in str(info.value)


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"databases": {"main": {"backend": "sqlite", "pool": {"size": "x"}}}}, "databases.main.pool.size"),
        ({"databases": {"main": {"backend": "sqlite", "pool": {"size": 0}}}}, "databases.main.pool.size"),
        ({"databases": {"main": {"url": "sqlite://"}}}, "databases.main.backend"),
        ({"storages": {"files": {"backend": "local", "rooot": "x"}}}, "storages.files.rooot"),
        ({"policies": {"p": {"storage": "nope"}}}, "policies.p.storage"),
        ({"policies": {"p": {"storage": "files", "max_size": "big"}}}, "policies.p.max_size"),
    ],
)
def test_malformed_config_names_the_key(settings: dict, key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Storeroom.from_settings(settings)
    assert key in str(info.value)


def test_policy_from_config(in_tmp: Path, memory_plugins: PluginManager) -> None:
    settings = {
        "storages": {"mem": {"backend": "memory"}},
        "policies": {"docs": {"storage": "mem", "key_prefix": "docs/", "max_size": "1 KiB"}},
    }
    with Storeroom.from_settings(settings, plugins=memory_plugins) as room:
        policy = room.policy("docs")
        assert policy.max_size == 1024
        ref = policy.put(b"text", filename="a.txt")
        assert ref.storage == "mem" and room.storage("mem").read(ref.key) == b"text"
        # the memory backend is sync only: its async side is core's thread-offload adapter
        assert isinstance(room.async_storage("mem"), AsyncStorageFromSync)
        with pytest.raises(ConfigurationError, match=r"no policy named 'x'"):
            room.policy("x")


def test_health_reports_every_resource(in_tmp: Path) -> None:
    with Storeroom.from_settings({}) as room:
        report = room.health()
    assert set(report) == {"databases.main", "storages.files"}
    assert all(r.status is HealthStatus.HEALTHY for r in report.values())
    assert report["databases.main"].latency_ms is not None


def test_async_room(in_tmp: Path) -> None:
    async def main() -> None:
        async with Storeroom.from_settings({}) as room:
            adb = room.async_database()
            assert await adb.fetch_value("SELECT 40 + 2") == 42
            ast = room.async_storage()
            await ast.write("a/b.txt", b"async")
            assert await ast.read("a/b.txt") == b"async"
            report = await room.ahealth()
            assert {r.status for r in report.values()} == {HealthStatus.HEALTHY}

    asyncio.run(main())


def test_repr_has_no_secrets(in_tmp: Path) -> None:
    room = Storeroom.from_settings({"databases": {"main": {"backend": "sqlite", "url": "sqlite:///x.db"}}})
    assert "main" in repr(room)
    room.close()
