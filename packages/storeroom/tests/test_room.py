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
        ({"databases": {"main": {"pool": {"size": 2}}}}, "databases.main.backend"),
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


# -- no silent fallback ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "suggested"), [("databse", "databases"), ("storage", "storages"), ("polices", "policies")]
)
def test_an_unknown_namespace_is_an_error_suggesting_the_close_one(namespace: str, suggested: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Storeroom.from_settings({namespace: {"main": {"backend": "sqlite"}}})
    assert info.value.key == namespace
    assert "unknown namespace" in str(info.value) and f"did you mean {suggested!r}?" in str(info.value)


@pytest.mark.parametrize(
    "entry",
    [{"backnd": "sqlite"}, {"backnd": "postgres", "url": "postgresql://app@db/app"}],
    ids=["alone", "with-url"],
)
def test_a_misspelled_backend_key_is_named_not_reported_missing(entry: dict) -> None:
    with pytest.raises(ConfigurationError) as info:
        Storeroom.from_settings({"databases": {"main": entry}})
    assert info.value.key == "databases.main.backnd"
    assert "did you mean 'backend'?" in str(info.value) and "missing" not in str(info.value)


def test_a_misspelled_key_suggests_the_close_one() -> None:
    with pytest.raises(ConfigurationError, match=r"storages.files.rooot: unknown key; did you mean 'root'\?"):
        Storeroom.from_settings({"storages": {"files": {"backend": "local", "rooot": "x"}}})
    with pytest.raises(ConfigurationError, match=r"databases.main.pool.siz: unknown key; did you mean 'size'\?"):
        Storeroom.from_settings({"databases": {"main": {"backend": "sqlite", "pool": {"siz": 3}}}})


def test_a_backend_typo_carries_the_key_and_suggests_the_installed_backend() -> None:
    with pytest.raises(PluginNotFoundError) as info:
        Storeroom.from_settings({"databases": {"main": {"backend": "postgress", "url": "postgresql://app@db/app"}}})
    assert info.value.key == "databases.main.backend" and info.value.suggestion == "postgres"
    assert "did you mean 'postgres'?" in str(info.value) and "pip install" not in str(info.value)
    with pytest.raises(PluginNotFoundError) as info:
        Storeroom.from_settings({"storages": {"files": {"backend": "locl"}}})
    assert info.value.key == "storages.files.backend" and "did you mean 'local'?" in str(info.value)


def test_a_url_alone_selects_the_backend(in_tmp: Path) -> None:
    with Storeroom.from_settings({"databases": {"main": {"url": f"sqlite:///{in_tmp}/a.db"}}}) as room:
        db = room.database()
        assert db.PLUGIN_NAME == "sqlite" and db.fetch_value("SELECT 1") == 1
    with Storeroom.from_settings({"databases": {"main": {"url": "mariadb://app@db.internal/app"}}}) as room:
        assert room.database().PLUGIN_NAME == "mysql"  # built, never connected


def test_a_url_no_installed_backend_reads_says_what_to_install() -> None:
    with pytest.raises(
        PluginNotFoundError, match=r"no installed database backend reads postgresql:// URLs.*storeroom\[postgres\]"
    ) as info:
        Storeroom.from_settings(
            {"databases": {"main": {"url": "postgresql://app:Url-Secret-7@db/app"}}},
            plugins=PluginManager(load_entry_points=False),
        )
    assert info.value.key == "databases.main.url" and "Url-Secret-7" not in str(info.value)


def test_a_backend_and_a_url_that_disagree_in_one_mapping_name_both_keys() -> None:
    with pytest.raises(ConfigurationError) as info:
        Storeroom.from_settings({"databases": {"main": {"backend": "sqlite", "url": "postgresql://app:Pw-9@db/app"}}})
    message = str(info.value)
    assert "databases.main.backend" in message and "databases.main.url" in message and "'postgres'" in message
    assert "Pw-9" not in message


# -- policies and numbers are checked when loaded ------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "key", "says"),
    [
        ({"content_types": []}, "policies.p.content_types", "omit the key to allow any type"),
        ({"key_prefix": "avatars"}, "policies.p.key_prefix", "must end with '/'"),
        ({"key_prefix": "a//b/"}, "policies.p.key_prefix", "empty segment"),
        ({"key_prefix": "../up/"}, "policies.p.key_prefix", "'..' segment"),
        ({"key_prefix": "/abs/"}, "policies.p.key_prefix", "starts with '/'"),
        ({"max_size": "0.4 B"}, "policies.p.max_size", "rounds to 0 bytes"),
        ({"max_size": "0.0001 KB"}, "policies.p.max_size", "rounds to 0 bytes"),
        ({"max_size": 0}, "policies.p.max_size", "rounds to 0 bytes"),
        ({"max_size": True}, "policies.p.max_size", "not true/false"),
    ],
)
def test_bad_policy_values_fail_at_load(in_tmp: Path, policy: dict, key: str, says: str) -> None:
    settings = {
        "storages": {"files": {"backend": "local", "root": str(in_tmp / "o")}},
        "policies": {"p": {"storage": "files", **policy}},
    }
    with pytest.raises(ConfigurationError) as info:
        Storeroom.from_settings(settings)  # not at the first upload
    assert info.value.key == key and says in str(info.value)
    assert not (in_tmp / "o").exists()  # nothing was opened


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"backend": "sqlite", "pool": {"size": True}}, "databases.main.pool.size"),
        ({"backend": "sqlite", "pool": {"max_overflow": False}}, "databases.main.pool.max_overflow"),
        ({"backend": "sqlite", "pool": {"timeout": True}}, "databases.main.pool.timeout"),
        ({"backend": "sqlite", "pool": {"recycle": True}}, "databases.main.pool.recycle"),
        ({"backend": "sqlite", "busy_timeout": True}, "databases.main.busy_timeout"),
        ({"backend": "postgres", "host": "db", "port": True}, "databases.main.port"),
        ({"backend": "postgres", "host": "db", "connect_timeout": True}, "databases.main.connect_timeout"),
        ({"backend": "postgres", "host": "db", "statement_timeout": False}, "databases.main.statement_timeout"),
    ],
)
def test_a_boolean_is_not_a_number(entry: dict, key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Storeroom.from_settings({"databases": {"main": entry}})
    assert info.value.key == key and "not true/false" in str(info.value)


def test_storage_policy_refuses_an_empty_allow_list_and_a_zero_size() -> None:
    from storeroom.policy import StoragePolicy

    with pytest.raises(ConfigurationError, match="omit the key"):
        StoragePolicy("p", None, content_types=[])
    with pytest.raises(ConfigurationError, match="rounds to 0 bytes"):
        StoragePolicy("p", None, max_size=0)
