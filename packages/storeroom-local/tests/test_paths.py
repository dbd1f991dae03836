"""Keys can never reach outside the root: reserved names, long segments, symbolic links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storeroom.errors import InvalidKeyError, ObjectNotFoundError, StorageError
from storeroom_local import LocalStorage
from storeroom_local._paths import KeyConflictError, key_segments

from ._helpers import tree


@pytest.fixture
def storage(root: Path) -> LocalStorage:
    return LocalStorage(root, fsync=False)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret").write_bytes(b"top secret")
    return folder


@pytest.mark.parametrize(
    "key", [".storeroom/meta/x", ".storeroom", "a/.storeroom", "a/.storeroom-tmp-1", ".storeroomx/y"]
)
def test_reserved_segments_are_invalid_keys(storage: LocalStorage, root: Path, key: str) -> None:
    storage.write("b", b"x")
    before = tree(root)
    for call in (
        lambda: storage.write(key, b"x"),
        lambda: storage.read(key),
        lambda: storage.exists(key),
        lambda: storage.stat(key),
        lambda: storage.delete(key),
        lambda: storage.copy(key, "c"),
        lambda: storage.copy("b", key),
        lambda: storage.move("b", key),
    ):
        with pytest.raises(InvalidKeyError, match="reserves"):
            call()
    assert tree(root) == before


def test_reserved_names_are_not_listed(storage: LocalStorage, root: Path) -> None:
    storage.write("a", b"x", metadata={"k": "v"})
    assert (root / ".storeroom").is_dir()
    assert storage.list_keys() == ["a"]
    assert storage.list_keys(".storeroom") == []
    assert storage.list_keys(".st") == []


def test_long_segment_is_an_invalid_key(storage: LocalStorage, root: Path) -> None:
    with pytest.raises(InvalidKeyError, match="255"):
        storage.write("a/" + "x" * 256, b"x")
    assert tree(root) == []
    storage.write("a/" + "x" * 255, b"ok")
    assert storage.read("a/" + "x" * 255) == b"ok"


def test_key_segments() -> None:
    assert key_segments("a/é/c") == [b"a", "é".encode(), b"c"]


def test_symlinked_folder_pointing_outside(storage: LocalStorage, root: Path, outside: Path) -> None:
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ObjectNotFoundError):
        storage.read("link/secret")
    with pytest.raises(ObjectNotFoundError):
        list(storage.read_stream("link/secret"))
    with pytest.raises(ObjectNotFoundError):
        storage.read_range("link/secret", 0, 3)
    with pytest.raises(ObjectNotFoundError):
        storage.copy("link/secret", "stolen")
    with pytest.raises(ObjectNotFoundError):
        storage.move("link/secret", "stolen")
    assert not storage.exists("link/secret")
    assert storage.delete("link/secret") is False
    with pytest.raises(KeyConflictError, match="symbolic link"):
        storage.write("link/planted", b"x")
    with pytest.raises(StorageError):
        storage.copy("stolen", "link/planted")
    assert storage.list_keys() == []
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"top secret"


def test_symlinked_file_pointing_outside(storage: LocalStorage, root: Path, outside: Path) -> None:
    (root / "lf").symlink_to(outside / "secret")
    assert not storage.exists("lf")
    with pytest.raises(ObjectNotFoundError):
        storage.read("lf")
    with pytest.raises(ObjectNotFoundError):
        storage.stat("lf")
    assert storage.delete("lf") is False
    assert storage.list_keys() == []
    storage.write("lf", b"replaced the link, not its target")
    assert storage.read("lf") == b"replaced the link, not its target"
    assert not (root / "lf").is_symlink()
    assert (outside / "secret").read_bytes() == b"top secret"


def test_nested_symlink_deeper_in_the_tree(storage: LocalStorage, root: Path, outside: Path) -> None:
    storage.write("a/b/c", b"x")
    (root / "a" / "b" / "up").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ObjectNotFoundError):
        storage.read("a/b/up/secret")
    assert storage.list_keys() == ["a/b/c"]
    assert storage.list_keys("a/b/up/") == []


def test_root_may_itself_be_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    storage = LocalStorage(tmp_path / "alias", fsync=False)
    storage.write("k", b"v")
    assert (real / "k").read_bytes() == b"v"


def test_foreign_files_with_unkeyable_names_are_invisible(storage: LocalStorage, root: Path) -> None:
    storage.write("ok", b"x")
    (root / "new\nline").write_bytes(b"x")
    (root / "back\\slash").write_bytes(b"x")
    os.mkdir(root / "fifo-dir")
    os.mkfifo(root / "fifo-dir" / "pipe")
    with open(os.path.join(os.fsencode(root), b"latin1-\xe9"), "wb") as f:
        f.write(b"x")
    assert storage.list_keys() == ["ok"]
    with pytest.raises(ObjectNotFoundError):
        storage.read("fifo-dir/pipe")  # opened non-blocking, then refused: never hangs
