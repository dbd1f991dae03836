"""Plugin discovery through real entry points (a dist-info directory on sys.path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storeroom.errors import PluginError, PluginLoadError, PluginNotFoundError
from storeroom.plugins import PluginManager, install_hint

PLUGIN_SOURCE = """
from collections.abc import Iterator
from storeroom import hookimpl
from storeroom.objects import ObjectInfo
from storeroom.storage import ObjectStorage


class {cls}(ObjectStorage):
    PLUGIN_NAME = {name!r}

    def _write(self, key, source, *, content_type, metadata, overwrite):
        raise NotImplementedError
    def _read_stream(self, key, chunk_size): yield b""
    def _read_range(self, key, start, end): return b""
    def _stat(self, key): return ObjectInfo(key, 0)
    def _delete(self, key): return False
    def _list(self, prefix, start_after) -> Iterator[ObjectInfo]: return iter(())


@hookimpl
def storeroom_register_object_storages():
    return [{cls}]


@hookimpl
def storeroom_register_commands(cli):
    cli.append({name!r})
"""


def make_distribution(root: Path, dist: str, entry_name: str, module: str, source: str) -> None:
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[storeroom]\n{entry_name} = {module}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("STOREROOM_DISABLE_PLUGINS", raising=False)
    return tmp_path


def test_entry_point_plugin_is_discovered_with_its_distribution(site: Path) -> None:
    make_distribution(site, "acme-store", "acme", "acme_store_plugin", PLUGIN_SOURCE.format(cls="Acme", name="acme"))
    pm = PluginManager()
    assert "acme" in pm.storages
    info = next(p for p in pm.plugins if p.name == "acme")
    assert (info.distribution, info.version, info.error) == ("acme-store", "1.2.3", None)
    assert info.provides == ["object storage:acme"]
    commands: list[str] = []
    # the CLI calls each impl in isolation (installed plugins such as schema-sync add real click commands)
    impl = next(i for i in pm.hooks.hook.storeroom_register_commands.get_hookimpls() if i.plugin_name == "acme")
    impl.function(cli=commands)
    assert "acme" in commands


def test_broken_plugin_is_isolated_and_named(site: Path) -> None:
    make_distribution(site, "acme-store", "acme", "acme_store_plugin", PLUGIN_SOURCE.format(cls="Acme", name="acme"))
    make_distribution(site, "broken-dist", "broken", "broken_plugin", "raise RuntimeError('bad import')\n")
    pm = PluginManager()
    assert "acme" in pm.storages  # the healthy plugin still works
    with pytest.raises(PluginLoadError, match="broken-dist") as info:
        pm.storages.get("broken")
    assert info.value.distribution == "broken-dist"
    assert isinstance(info.value.__cause__, RuntimeError)


def test_duplicate_plugin_name_names_both_classes(site: Path) -> None:
    make_distribution(site, "acme-one", "acme1", "acme_one", PLUGIN_SOURCE.format(cls="One", name="same"))
    make_distribution(site, "acme-two", "acme2", "acme_two", PLUGIN_SOURCE.format(cls="Two", name="same"))
    pm = PluginManager()
    two = next(p for p in pm.plugins if p.name == "acme2")
    assert two.error is not None
    assert "acme_one.One" in str(two.error) and "acme_two.Two" in str(two.error)


def test_disable_plugins_env(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_distribution(site, "acme-store", "acme", "acme_store_plugin", PLUGIN_SOURCE.format(cls="Acme", name="acme"))
    monkeypatch.setenv("STOREROOM_DISABLE_PLUGINS", "acme, other")
    pm = PluginManager()
    assert "acme" not in pm.storages
    assert all(p.name != "acme" for p in pm.plugins)


def test_a_disabled_plugin_is_named_as_disabled_not_as_missing(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_distribution(site, "acme-store", "acme", "acme_store_plugin", PLUGIN_SOURCE.format(cls="Acme", name="acme"))
    monkeypatch.setenv("STOREROOM_DISABLE_PLUGINS", "acme")
    pm = PluginManager()
    with pytest.raises(PluginNotFoundError) as info:
        pm.storages.get("acme")
    message = str(info.value)
    assert "disabled by STOREROOM_DISABLE_PLUGINS" in message and "acme-store" in message
    assert "not installed" not in message and "pip install" not in message
    assert info.value.disabled is True and info.value.name == "acme"
    with pytest.raises(PluginNotFoundError, match="is installed") as other:  # a name nobody provides
        pm.storages.get("ftp")
    assert other.value.disabled is False


def test_unknown_backend_gives_install_hint() -> None:
    pm = PluginManager(load_entry_points=False)
    with pytest.raises(PluginNotFoundError) as info:
        pm.databases.get("postgres")
    assert 'pip install "storeroom[postgres]"' in str(info.value)
    assert info.value.install_hint == install_hint("postgres")
    with pytest.raises(PluginNotFoundError, match="install the distribution"):
        pm.storages.get("ftp")


def test_registering_a_non_backend_class_fails_clearly() -> None:
    pm = PluginManager(load_entry_points=False)

    class NotAStorage:
        PLUGIN_NAME = "nope"

    with pytest.raises(PluginError, match="not a subclass of ObjectStorage"):
        pm.storages.register(NotAStorage)

    class NoName:
        pass

    with pytest.raises(PluginError, match="PLUGIN_NAME"):
        pm.storages.register(NoName)


def test_hookspec_names_are_the_documented_ones() -> None:
    from storeroom import hookspecs

    assert sorted(hookspecs.__all__) == [
        "storeroom_register_commands",
        "storeroom_register_databases",
        "storeroom_register_object_storages",
        "storeroom_register_schema_providers",
    ]
