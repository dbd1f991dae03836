"""Atomic, durable writes; temp-file cleanup; sidecars and their staleness; folder pruning."""

from __future__ import annotations

import json
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from storeroom.errors import ContentTooLargeError, ObjectNotFoundError, StorageError
from storeroom_local import LocalStorage
from storeroom_local._paths import KeyConflictError

from ._helpers import temp_files, tree


@pytest.fixture
def storage(root: Path) -> LocalStorage:
    return LocalStorage(root, fsync=False)


class Boom(Exception):
    pass


def test_objects_are_plain_files(storage: LocalStorage, root: Path) -> None:
    storage.write("docs/a.txt", b"hello", content_type="text/plain")
    assert (root / "docs" / "a.txt").read_bytes() == b"hello"
    assert storage.root == str(root)


def test_no_partial_object_visible_while_streaming(storage: LocalStorage, root: Path) -> None:
    seen: list[tuple[bool, bool, list[str]]] = []

    def slow() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * 100_000
            seen.append((storage.exists("big"), (root / "big").exists(), storage.list_keys()))

    storage.write("big", slow())
    assert seen and all(s == (False, False, []) for s in seen)
    assert storage.stat("big").size == 500_000
    assert temp_files(root) == []


def test_overwrite_keeps_old_object_visible_until_commit(storage: LocalStorage) -> None:
    storage.write("k", b"old", metadata={"v": "old"})
    seen = []

    def slow() -> Iterator[bytes]:
        yield b"new "
        seen.append((storage.read("k"), storage.get_metadata("k")))
        yield b"content"

    storage.write("k", slow(), metadata={"v": "new"})
    assert seen == [(b"old", {"v": "old"})]
    assert storage.read("k") == b"new content"
    assert storage.get_metadata("k") == {"v": "new"}


@pytest.mark.parametrize("key", ["top", "deep/er/key"])
def test_temp_file_removed_when_source_raises(storage: LocalStorage, root: Path, key: str) -> None:
    def failing() -> Iterator[bytes]:
        yield b"x" * 100_000
        assert temp_files(root), "the body goes to a temp file first"
        raise Boom

    with pytest.raises(Boom):
        storage.write(key, failing())
    assert temp_files(root) == []
    assert storage.list_keys() == []


def test_temp_file_removed_when_too_large(storage: LocalStorage, root: Path) -> None:
    with pytest.raises(ContentTooLargeError):
        storage.write("k", iter([b"x" * 1000] * 10), max_size=5000)
    assert temp_files(root) == []


def test_temp_file_removed_on_key_conflict(storage: LocalStorage, root: Path) -> None:
    storage.write("a/b", b"x")
    with pytest.raises(KeyConflictError, match="folder"):
        storage.write("a", b"y")
    assert temp_files(root) == []
    assert storage.list_keys() == ["a/b"]


def test_disk_errors_become_storage_errors(storage: LocalStorage, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    real_write = os.write

    def full_disk(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(StorageError, match="disk is full") as excinfo:
        storage.write("k", b"data")
    assert isinstance(excinfo.value.__cause__, OSError)
    monkeypatch.setattr(os, "write", real_write)
    assert temp_files(root) == []
    assert storage.list_keys() == []


def test_caller_os_error_is_not_translated(storage: LocalStorage, root: Path) -> None:
    mine = OSError(5, "my device")

    def failing() -> Iterator[bytes]:
        yield b"x"
        raise mine

    with pytest.raises(OSError, match="my device") as excinfo:
        storage.write("k", failing())
    assert excinfo.value is mine
    assert not isinstance(excinfo.value, StorageError)


def test_leftover_temp_files_are_invisible_and_harmless(storage: LocalStorage, root: Path) -> None:
    storage.write("d/k", b"x")
    (root / "d" / ".storeroom-tmp-deadbeef").write_bytes(b"half written")  # a crash mid-write
    assert storage.list_keys() == ["d/k"]
    storage.write("d/k", b"y")
    assert storage.read("d/k") == b"y"


def test_fsync_of_file_and_folder(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    LocalStorage(root).write("a/b", b"x")
    assert len(calls) >= 2  # the data file and its folder (plus new folders)
    calls.clear()
    LocalStorage(root, fsync=False).write("a/c", b"x", metadata={"k": "v"})
    assert calls == []


def test_empty_folders_are_pruned(storage: LocalStorage, root: Path) -> None:
    storage.write("a/b/c", b"x", metadata={"k": "v"})
    storage.write("a/d", b"x")
    storage.delete("a/b/c")
    assert tree(root) == [".storeroom/", ".storeroom/meta/", "a/", "a/d"]
    storage.move("a/d", "e")
    assert tree(root) == [".storeroom/", ".storeroom/meta/", "e"]


def test_empty_leftover_folder_does_not_block_a_key(storage: LocalStorage, root: Path) -> None:
    (root / "x" / "y").mkdir(parents=True)
    storage.write("x", b"file now")
    assert storage.read("x") == b"file now"


# -- sidecars ------------------------------------------------------------------------------


def _sidecar(root: Path, key: str) -> dict:
    return json.loads((root / ".storeroom" / "meta" / key).read_bytes())


def test_sidecar_only_when_needed(storage: LocalStorage, root: Path) -> None:
    storage.write("plain", b"x")
    assert not (root / ".storeroom" / "meta" / "plain").exists()
    storage.write("rich", b"x", content_type="text/plain", metadata={"k": "ü"})
    doc = _sidecar(root, "rich")
    st = os.stat(root / "rich")
    assert doc["entries"][-1]["stamp"] == [st.st_ino, st.st_size, st.st_mtime_ns]
    assert doc["entries"][-1]["metadata"] == {"k": "ü"}
    storage.write("rich", b"y")
    assert not (root / ".storeroom" / "meta" / "rich").exists()
    storage.write("rich", b"z", metadata={"a": "1"})
    storage.delete("rich")
    assert not (root / ".storeroom" / "meta" / "rich").exists()


def test_stale_sidecar_is_ignored(storage: LocalStorage, root: Path) -> None:
    storage.write("k", b"x", content_type="text/plain", metadata={"k": "v"})
    tmp = root / "replacement"
    tmp.write_bytes(b"changed behind our back")
    os.replace(tmp, root / "k")  # another program replaced the file
    info = storage.stat("k")
    assert (info.content_type, dict(info.metadata)) == (None, {})
    assert storage.read("k") == b"changed behind our back"


def test_crash_between_sidecar_and_data_commit(
    storage: LocalStorage, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.write("k", b"old", metadata={"v": "old"})

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("power cut")  # the process dies between the two renames

    monkeypatch.setattr(
        os,
        "replace",
        lambda *a, _real=os.replace, **kw: _real(*a, **kw) if b".storeroom" in _parent_of(kw) else crash(),
    )
    with pytest.raises(SystemExit):
        storage.write("k", b"new", metadata={"v": "new"})
    monkeypatch.undo()
    assert len(_sidecar(root, "k")["entries"]) == 2  # the new entry was committed first...
    assert storage.read("k") == b"old"
    assert storage.get_metadata("k") == {"v": "old"}  # ...yet the old object keeps its own
    storage.write("k", b"newer", metadata={"v": "newer"})
    assert storage.get_metadata("k") == {"v": "newer"}
    assert len(_sidecar(root, "k")["entries"]) == 2  # old + new, stale ones dropped


def _parent_of(kwargs: dict) -> bytes:
    fd = kwargs["dst_dir_fd"]
    return os.fsencode(os.readlink(f"/proc/self/fd/{fd}"))


def test_torn_sidecar_is_ignored(storage: LocalStorage, root: Path) -> None:
    storage.write("k", b"x", metadata={"k": "v"})
    (root / ".storeroom" / "meta" / "k").write_bytes(b"{not json")
    assert storage.get_metadata("k") == {}
    storage.write("k", b"y", metadata={"k": "w"})
    assert storage.get_metadata("k") == {"k": "w"}


def test_stale_sidecar_file_where_a_folder_is_needed(storage: LocalStorage, root: Path) -> None:
    meta = root / ".storeroom" / "meta"
    meta.mkdir(parents=True)
    (meta / "a").write_bytes(b"{}")  # left by a crash: key "a" no longer exists
    storage.write("a/b", b"x", metadata={"k": "v"})
    assert storage.get_metadata("a/b") == {"k": "v"}


def test_stale_sidecar_folder_where_a_file_is_needed(storage: LocalStorage, root: Path) -> None:
    (root / ".storeroom" / "meta" / "a").mkdir(parents=True)
    (root / ".storeroom" / "meta" / "a" / "b").write_bytes(b"{}")
    storage.write("a", b"x", metadata={"k": "v"})
    assert storage.get_metadata("a") == {"k": "v"}


def test_conflicting_key_keeps_other_sidecars(storage: LocalStorage, root: Path) -> None:
    storage.write("a/b", b"x", metadata={"k": "child"})
    with pytest.raises(KeyConflictError):
        storage.write("a", b"y", metadata={"k": "parent"})
    assert storage.get_metadata("a/b") == {"k": "child"}


def test_move_keeps_metadata_with_the_inode(storage: LocalStorage, root: Path) -> None:
    storage.write("src", b"x", metadata={"k": "v"}, content_type="text/plain")
    storage.write("dst", b"old", metadata={"old": "1"})
    storage.move("src", "d/dst")
    storage.move("d/dst", "dst")
    assert storage.get_metadata("dst") == {"k": "v"}
    assert storage.stat("dst").content_type == "text/plain"
    assert not (root / ".storeroom" / "meta" / "src").exists()


# -- memory and lifecycle -------------------------------------------------------------------


def test_streaming_write_and_read_in_bounded_memory(storage: LocalStorage) -> None:
    block = b"\xab" * (1024 * 1024)

    def body() -> Iterator[bytes]:
        for _ in range(48):
            yield block

    tracemalloc.start()
    try:
        storage.write("big", body())
        for _ in storage.read_stream("big"):
            pass
        storage.copy("big", "big2")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert storage.stat("big2").size == 48 * 1024 * 1024
    assert peak < 8 * 1024 * 1024, peak


def test_closed_storage_refuses_work(root: Path) -> None:
    storage = LocalStorage(root, fsync=False)
    storage.write("k", b"x")
    storage.close()
    storage.close()
    with pytest.raises(StorageError, match="closed"):
        storage.read("k")
    with pytest.raises(StorageError, match="closed"):
        storage.write("k", b"y")


def test_health_reports_a_removed_root(root: Path) -> None:
    import shutil

    storage = LocalStorage(root, fsync=False)
    assert storage.health_check().ok
    assert storage.health_check().details["root"] == str(root)
    shutil.rmtree(root)
    result = storage.health_check()
    assert not result.ok
    assert "removed" in result.message or "FileNotFoundError" in result.message or "stat" in result.message


def test_read_range_and_missing(storage: LocalStorage) -> None:
    storage.write("k", b"0123456789")
    assert storage.read_range("k", 8, 100) == b"89"
    with pytest.raises(ObjectNotFoundError):
        storage.read_range("nope", 0, 1)
