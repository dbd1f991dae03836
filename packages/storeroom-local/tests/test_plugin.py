"""Registration, settings and construction through the Storeroom."""

from __future__ import annotations

from pathlib import Path

import pytest

from storeroom.errors import ConfigurationError, StorageError
from storeroom.plugins import PluginManager
from storeroom.room import Storeroom
from storeroom_local import AsyncLocalStorage, LocalStorage, LocalStorageSettings


def test_registered_under_local() -> None:
    pm = PluginManager()
    assert pm.storages.get("local") is LocalStorage
    assert pm.storages.get_async("local") is AsyncLocalStorage
    assert any(p.name == "local" and not p.error for p in pm.plugins)


def test_settings_defaults() -> None:
    settings = LocalStorageSettings(backend="local")
    assert (settings.root, settings.fsync) == ("var/objects", True)


def test_from_settings(root: Path) -> None:
    settings = LocalStorageSettings(backend="local", root=str(root), fsync=False)
    store = LocalStorage.from_settings("files", settings)
    assert (store.name, store.root) == ("files", str(root))
    astore = AsyncLocalStorage.from_settings("files", settings)
    assert astore.root == str(root)


def test_storeroom_builds_both_flavours(root: Path) -> None:
    settings = {"storages": {"files": {"backend": "local", "root": str(root), "fsync": False}}}
    with Storeroom.from_settings(settings, embedded_default=False) as room:
        storage = room.storage("files")
        assert isinstance(storage, LocalStorage)
        assert isinstance(room.async_storage("files"), AsyncLocalStorage)
        storage.write("hello.txt", b"hi")
        assert (root / "hello.txt").read_bytes() == b"hi"
        assert room.health()["storages.files"].ok


def test_unknown_setting_is_named(root: Path) -> None:
    settings = {"storages": {"files": {"backend": "local", "rot": str(root)}}}
    with pytest.raises(ConfigurationError, match="rot"):
        Storeroom.from_settings(settings, embedded_default=False)


@pytest.mark.parametrize("below", [False, True], ids=["root-is-a-file", "file-above-the-root"])
def test_a_file_where_the_root_should_be_names_the_problem_and_the_key(tmp_path: Path, below: bool) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"not a folder")
    root = blocker / "objects" if below else blocker
    room = Storeroom.from_settings({"storages": {"files": {"backend": "local", "root": str(root)}}})
    for build in (lambda: room.storage("files"), lambda: room.async_storage("files")):
        with pytest.raises(StorageError) as info:
            build()
        message = str(info.value)
        assert "is a file, not a folder" in message and "storages.files.root" in message
        assert str(blocker) in message
        assert "errno" not in message  # not the bare "File exists (errno 17)" any more
    assert blocker.read_bytes() == b"not a folder"  # nothing was touched
    room.close()
