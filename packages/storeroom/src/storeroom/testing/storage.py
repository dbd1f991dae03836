"""Conformance suites every object storage backend must pass, sync and async.

Subclass a suite in your plugin's tests, name the subclass ``Test...`` so pytest
collects it, and override its one fixture with a fresh, empty store::

    class TestMyStorage(ObjectStorageConformance):
        listing_page_size = 3  # if your backend paginates, make pages small

        @pytest.fixture
        def storage(self, tmp_path):
            with MyStorage(...) as st:
                yield st


    class TestMyAsyncStorage(AsyncObjectStorageConformance):
        @pytest_asyncio.fixture
        async def async_storage(self, tmp_path):
            async with MyAsyncStorage(...) as st:
                yield st

The tests only use the public API, so a failure always means users would see the
difference. Capability flags (class attributes) cover what legitimately differs
between backends; everything else is the contract.
"""

from __future__ import annotations

import asyncio
import io
import threading
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from storeroom.errors import (
    ContentTooLargeError,
    InvalidKeyError,
    InvalidMetadataError,
    InvalidRangeError,
    NotSupportedError,
    ObjectExistsError,
    ObjectNotFoundError,
    StorageError,
)
from storeroom.health import HealthStatus
from storeroom.objects import ObjectInfo
from storeroom.storage import AsyncObjectStorage, ObjectStorage

__all__ = [
    "INVALID_KEYS",
    "LISTING_KEYS",
    "UNICODE_KEYS",
    "AsyncObjectStorageConformance",
    "ObjectStorageConformance",
]

MiB = 1024 * 1024

#: keys every backend must reject with InvalidKeyError, before any I/O
INVALID_KEYS: dict[str, str] = {
    "empty": "",
    "dotdot": "../x",
    "dotdot-inner": "a/../../x",
    "dot": "a/./b",
    "only-dotdot": "..",
    "absolute": "/abs",
    "backslash": "a\\b",
    "nul": "a\x00b",
    "newline": "a\nb",
    "tab": "a\tb",
    "del": "a\x7fb",
    "escape": "a\x1bb",
    "double-slash": "a//b",
    "trailing-slash": "a/",
    "too-long": "k" * 1025,
    "too-long-utf8": "é" * 513,  # 1026 UTF-8 bytes, 513 characters
    "lone-surrogate": "a\ud800b",
    "c1-control": "a\x85b",
    "c1-control-last": "a\x9fb",
    "noncharacter-fffe": "a\ufffeb",
    "noncharacter-ffff": "a\uffff",
    "noncharacter-fdd0": "a\ufdd0b",
    "noncharacter-astral": "a\U0010fffe",
    "bidi-override": "invoice\u202egpj.exe",
    "bidi-isolate": "a\u2066b\u2069",
}

#: keys that must round-trip exactly (write, read, list)
UNICODE_KEYS: tuple[str, ...] = (
    "ünïcødé/naïve café.txt",
    "日本語/ファイル.bin",
    "emoji/😀🚀.dat",
    "spaces in/a name with spaces",
    "punct/!$&'()*+,;=:@%#[]{}~^`|.txt",
    ".hidden/.file",
    "dots/a..b/...c",
    "quote/\"double\" and 'single'",
)

#: listing must return these in exactly this order (UTF-8 byte order of the whole key)
LISTING_KEYS: tuple[str, ...] = (
    "A",
    "Z",
    "a-c",
    "a.b",
    "a/b",
    "a/b-c",
    "a/b/c",
    "a/b0",
    "a0",
    "ab",
    "b",
    "é",
    "日",
)

METADATA = {"Owner": "Alice", "x-Trace-Id": "abc-123", "unicode": "naïve — 日本 😀", "padded": "  spaced  "}
METADATA_STORED = {"owner": "Alice", "x-trace-id": "abc-123", "unicode": "naïve — 日本 😀", "padded": "  spaced  "}
BAD_METADATA: dict[str, dict[str, Any]] = {
    "non-ascii-name": {"nämé": "x"},
    "space-in-name": {"has space": "x"},
    "empty-name": {"": "x"},
    "leading-underscore": {"_x": "x"},
    "colon-in-name": {"a:b": "x"},
    "non-str-value": {"n": 1},
    "duplicate-case": {"Name": "a", "NAME": "b"},
    "too-large": {"big": "x" * 2100},
    "too-large-total": {f"k{i}": "v" * 100 for i in range(25)},
    "too-large-utf8": {"big": "é" * 1100},
}


def _needs_create_only(supported: bool) -> None:
    if not supported:
        pytest.skip(
            "the backend refuses create-only writes (supports_create_only = False): "
            "test_create_only_is_refused checks that instead"
        )


class SourceFailure(Exception):
    """Raised by a test's own data source; backends must let it through unchanged."""


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating-looking bytes (catches off-by-one chunk bugs)."""
    block = bytes((i * 31 + seed * 17 + (i >> 8)) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def failing_source(good: bytes, error: BaseException) -> Iterator[bytes]:
    yield good
    yield good
    raise error


class _ReadOnly:
    """A file-like object with only ``read`` (not seekable, no fileno): a socket or pipe."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._io.read(min(size, 1000) if size and size > 0 else size)


def _assert_recent(when: datetime | None) -> None:
    if when is None:
        return
    assert when.tzinfo is not None, "last_modified must be timezone-aware"
    now = datetime.now(UTC)
    assert now - timedelta(minutes=10) <= when <= now + timedelta(minutes=10), when


class ObjectStorageConformance:
    """The contract of :class:`storeroom.ObjectStorage`; override the ``storage`` fixture."""

    #: the backend can issue presigned URLs (GET ones are fetched and checked)
    supports_presigned_urls: ClassVar[bool] = False
    #: objects per listing page the backend uses in the fixture; listing tests go past two pages
    listing_page_size: ClassVar[int] = 10
    #: keys differing only in case are distinct objects (false on case-insensitive filesystems)
    case_sensitive_keys: ClassVar[bool] = True
    #: a key may also be a "folder" of other keys (``a`` and ``a/b``); filesystems cannot do this
    supports_key_as_prefix_folder: ClassVar[bool] = True
    #: threads racing in the concurrency tests
    concurrency: ClassVar[int] = 8
    #: bytes in the "large" objects used to exercise chunking and multipart paths
    large_object_size: ClassVar[int] = 2 * MiB + 12345
    #: create-only writes are enforced; False: the backend refuses them with NotSupportedError
    #: (a server that ignores If-None-Match), which ``test_create_only_is_refused`` checks instead
    supports_create_only: ClassVar[bool] = True

    @pytest.fixture
    def storage(self) -> Iterator[ObjectStorage]:
        """A fresh, empty store. Subclasses must override this fixture."""
        raise NotImplementedError(f"{type(self).__name__} must override the 'storage' fixture")

    # -- identity and lifecycle ------------------------------------------------------------

    def test_declares_plugin_name(self, storage: ObjectStorage) -> None:
        assert isinstance(storage.PLUGIN_NAME, str) and storage.PLUGIN_NAME

    def test_new_store_is_empty(self, storage: ObjectStorage) -> None:
        assert storage.list_keys() == []
        assert list(storage.list()) == []

    def test_health_check_is_healthy(self, storage: ObjectStorage) -> None:
        result = storage.health_check()
        assert result.status is HealthStatus.HEALTHY, result.message
        assert result.ok
        assert result.latency_ms is not None and result.latency_ms >= 0
        assert result.details.get("backend") == storage.PLUGIN_NAME

    def test_close_is_idempotent(self, storage: ObjectStorage) -> None:
        storage.close()
        storage.close()

    def test_context_manager_returns_store(self, storage: ObjectStorage) -> None:
        with storage as entered:
            assert entered is storage

    # -- write and read -------------------------------------------------------------------

    def test_write_returns_info(self, storage: ObjectStorage) -> None:
        info = storage.write("docs/a.txt", b"hello")
        assert isinstance(info, ObjectInfo)
        assert info.key == "docs/a.txt"
        assert info.size == 5
        stat = storage.stat("docs/a.txt")
        assert info.etag is None or info.etag == stat.etag

    def test_write_read_bytes(self, storage: ObjectStorage) -> None:
        storage.write("k", b"hello world")
        assert storage.read("k") == b"hello world"

    @pytest.mark.parametrize("kind", ["bytearray", "memoryview", "bytesio", "generator", "list", "readonly-file"])
    def test_write_data_kinds(self, storage: ObjectStorage, kind: str) -> None:
        data = payload(70_000, seed=3)
        makers: dict[str, Callable[[], Any]] = {
            "bytearray": lambda: bytearray(data),
            "memoryview": lambda: memoryview(data),
            "bytesio": lambda: io.BytesIO(data),
            "generator": lambda: chunks(data, 7_000),
            "list": lambda: list(chunks(data, 30_000)),
            "readonly-file": lambda: _ReadOnly(data),
        }
        source = makers[kind]()
        info = storage.write(f"kinds/{kind}", source)
        assert info.size == len(data)
        assert storage.read(f"kinds/{kind}") == data

    def test_write_from_real_file(self, storage: ObjectStorage, tmp_path: Path) -> None:
        data = payload(100_000, seed=5)
        path = tmp_path / "upload.bin"
        path.write_bytes(data)
        with path.open("rb") as f:
            storage.write("from-file", f)
        assert storage.read("from-file") == data

    def test_write_from_file_starts_at_current_position(self, storage: ObjectStorage, tmp_path: Path) -> None:
        path = tmp_path / "upload.bin"
        path.write_bytes(b"0123456789")
        with path.open("rb") as f:
            f.seek(3)
            info = storage.write("tail", f)
        assert info.size == 7
        assert storage.read("tail") == b"3456789"

    def test_write_generator_with_empty_and_view_chunks(self, storage: ObjectStorage) -> None:
        storage.write("mixed", iter([b"", b"ab", bytearray(b"cd"), b"", memoryview(b"ef"), b""]))
        assert storage.read("mixed") == b"abcdef"

    def test_zero_byte_object(self, storage: ObjectStorage) -> None:
        info = storage.write("empty", b"")
        assert info.size == 0
        assert storage.read("empty") == b""
        assert b"".join(storage.read_stream("empty")) == b""
        assert storage.read_range("empty", 0, 10) == b""
        assert storage.stat("empty").size == 0
        assert storage.exists("empty")
        assert [(i.key, i.size) for i in storage.list()] == [("empty", 0)]

    def test_zero_byte_object_from_empty_generator(self, storage: ObjectStorage) -> None:
        storage.write("empty-gen", iter([]))
        assert storage.read("empty-gen") == b""
        assert storage.stat("empty-gen").size == 0

    def test_large_object_streamed(self, storage: ObjectStorage) -> None:
        data = payload(self.large_object_size, seed=7)
        info = storage.write("big/object.bin", chunks(data, 256 * 1024 + 3))
        assert info.size == len(data)
        assert storage.stat("big/object.bin").size == len(data)
        assert storage.read("big/object.bin") == data
        parts = list(storage.read_stream("big/object.bin", chunk_size=MiB))
        assert all(0 < len(p) <= MiB for p in parts)
        assert b"".join(parts) == data

    def test_read_stream_respects_chunk_size(self, storage: ObjectStorage) -> None:
        storage.write("k", b"0123456789")
        parts = list(storage.read_stream("k", chunk_size=3))
        assert all(0 < len(p) <= 3 for p in parts)
        assert b"".join(parts) == b"0123456789"

    def test_read_stream_is_an_iterator_of_bytes(self, storage: ObjectStorage) -> None:
        storage.write("k", b"abc")
        stream = storage.read_stream("k")
        assert isinstance(stream, Iterator)
        assert all(isinstance(p, bytes) for p in stream)

    def test_read_stream_abandoned_early(self, storage: ObjectStorage) -> None:
        storage.write("k", payload(10_000))
        stream = storage.read_stream("k", chunk_size=100)
        assert next(iter(stream)) == payload(10_000)[:100]
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        storage.write("k", b"new")  # the abandoned reader must not block or break writers
        assert storage.read("k") == b"new"

    @pytest.mark.parametrize("chunk_size", [0, -1])
    def test_read_stream_bad_chunk_size(self, storage: ObjectStorage, chunk_size: int) -> None:
        storage.write("k", b"abc")
        with pytest.raises(InvalidRangeError):
            list(storage.read_stream("k", chunk_size=chunk_size))

    def test_str_data_is_rejected(self, storage: ObjectStorage) -> None:
        with pytest.raises(TypeError):
            storage.write("k", "text")
        assert not storage.exists("k")

    def test_generator_yielding_str_stores_nothing(self, storage: ObjectStorage) -> None:
        with pytest.raises(TypeError):
            storage.write("k", iter([b"ok", "text"]))
        assert not storage.exists("k")
        assert storage.list_keys() == []

    # -- keys -----------------------------------------------------------------------------

    @pytest.mark.parametrize("key", list(INVALID_KEYS.values()), ids=list(INVALID_KEYS))
    def test_invalid_key_rejected_everywhere(self, storage: ObjectStorage, key: str) -> None:
        storage.write("valid", b"x")
        calls: list[Callable[[], Any]] = [
            lambda: storage.write(key, b"data"),
            lambda: storage.read(key),
            lambda: list(storage.read_stream(key)),
            lambda: storage.read_range(key, 0, 1),
            lambda: storage.exists(key),
            lambda: storage.stat(key),
            lambda: storage.get_metadata(key),
            lambda: storage.delete(key),
            lambda: storage.delete_many(["valid", key]),
            lambda: storage.copy("valid", key),
            lambda: storage.copy(key, "valid"),
            lambda: storage.move("valid", key),
            lambda: storage.move(key, "valid"),
            lambda: storage.presigned_url(key),
            lambda: list(storage.list(start_after=key)),
        ]
        for call in calls:
            with pytest.raises(InvalidKeyError):
                call()
        assert storage.list_keys() == ["valid"]
        assert storage.read("valid") == b"x"

    @pytest.mark.parametrize("prefix", ["../", "/abs", "a\\b", "a\x00", "a//", "./x", "a\ufffe", "\u202e/", "a\x9b"])
    def test_invalid_prefix_rejected(self, storage: ObjectStorage, prefix: str) -> None:
        with pytest.raises(InvalidKeyError):
            list(storage.list(prefix))
        with pytest.raises(InvalidKeyError):
            storage.list_keys(prefix)

    def test_invalid_key_is_a_value_error(self, storage: ObjectStorage) -> None:
        with pytest.raises(ValueError, match="escape"):
            storage.write("../escape", b"x")

    def test_longest_key(self, storage: ObjectStorage) -> None:
        key = "/".join(["s" * 199] * 5) + "/" + "e" * 24  # 1024 bytes, segments < 255 bytes
        assert len(key.encode()) == 1024
        storage.write(key, b"deep")
        assert storage.read(key) == b"deep"
        assert storage.list_keys() == [key]

    @pytest.mark.parametrize("key", UNICODE_KEYS)
    def test_unicode_and_punctuation_keys_round_trip(self, storage: ObjectStorage, key: str) -> None:
        storage.write(key, key.encode())
        assert storage.read(key) == key.encode()
        assert storage.stat(key).key == key
        assert storage.list_keys() == [key]
        assert storage.delete(key)

    def test_keys_are_case_sensitive(self, storage: ObjectStorage) -> None:
        if not self.case_sensitive_keys:
            pytest.skip("backend has case-insensitive keys")
        storage.write("Case/File", b"upper")
        storage.write("case/file", b"lower")
        assert storage.read("Case/File") == b"upper"
        assert storage.read("case/file") == b"lower"
        assert storage.list_keys() == ["Case/File", "case/file"]

    def test_key_and_folder_of_same_name(self, storage: ObjectStorage) -> None:
        storage.write("a/b", b"child")
        if self.supports_key_as_prefix_folder:
            storage.write("a", b"parent")
            assert storage.read("a") == b"parent"
            assert storage.list_keys() == ["a", "a/b"]
            return
        with pytest.raises(StorageError):
            storage.write("a", b"parent")
        assert storage.list_keys() == ["a/b"]
        storage.write("c", b"file")
        with pytest.raises(StorageError):
            storage.write("c/d", b"below a file")
        assert storage.list_keys() == ["a/b", "c"]

    def test_prefix_of_keys_is_not_an_object(self, storage: ObjectStorage) -> None:
        storage.write("docs/a.txt", b"x")
        assert not storage.exists("docs")
        with pytest.raises(ObjectNotFoundError):
            storage.stat("docs")
        with pytest.raises(ObjectNotFoundError):
            storage.read("docs")
        assert storage.delete("docs") is False
        assert storage.read("docs/a.txt") == b"x"

    def test_key_below_a_file_is_missing(self, storage: ObjectStorage) -> None:
        storage.write("file", b"x")
        assert not storage.exists("file/child")
        with pytest.raises(ObjectNotFoundError):
            storage.read("file/child")
        assert storage.delete("file/child") is False

    # -- missing objects -------------------------------------------------------------------

    def test_missing_object_errors(self, storage: ObjectStorage) -> None:
        calls: dict[str, Callable[[], Any]] = {
            "read": lambda: storage.read("nope"),
            "read_stream": lambda: list(storage.read_stream("nope")),
            "read_range": lambda: storage.read_range("nope", 0, 1),
            "stat": lambda: storage.stat("nope"),
            "get_metadata": lambda: storage.get_metadata("nope"),
            "copy": lambda: storage.copy("nope", "dst"),
            "move": lambda: storage.move("nope", "dst"),
        }
        for name, call in calls.items():
            with pytest.raises(ObjectNotFoundError) as excinfo:
                call()
            assert isinstance(excinfo.value, FileNotFoundError), name
            assert isinstance(excinfo.value, StorageError), name
            assert excinfo.value.key == "nope", name
        assert not storage.exists("nope")
        assert storage.list_keys() == []

    # -- metadata and content type ---------------------------------------------------------

    def test_metadata_round_trip(self, storage: ObjectStorage) -> None:
        info = storage.write("m", b"x", metadata=METADATA)
        assert dict(storage.get_metadata("m")) == METADATA_STORED
        assert dict(storage.stat("m").metadata) == METADATA_STORED
        assert dict(info.metadata) in (METADATA_STORED, {})

    def test_metadata_values_any_unicode(self, storage: ObjectStorage) -> None:
        meta = {"multi": "line one\nline two", "symbols": "<>&\"'%=;,", "empty-ish": " ", "rtl": "שלום"}
        storage.write("m", b"x", metadata=meta)
        assert storage.get_metadata("m") == meta

    def test_metadata_names_are_case_insensitive(self, storage: ObjectStorage) -> None:
        storage.write("m", b"x", metadata={"Content-Owner": "bob"})
        assert storage.get_metadata("m") == {"content-owner": "bob"}

    def test_metadata_at_the_size_limit(self, storage: ObjectStorage) -> None:
        meta = {"big": "v" * (2048 - 3)}
        storage.write("m", b"x", metadata=meta)
        assert storage.get_metadata("m") == meta

    def test_get_metadata_returns_a_copy(self, storage: ObjectStorage) -> None:
        storage.write("m", b"x", metadata={"a": "1"})
        got = storage.get_metadata("m")
        got["b"] = "2"
        assert storage.get_metadata("m") == {"a": "1"}

    def test_no_metadata_is_empty_dict(self, storage: ObjectStorage) -> None:
        storage.write("m", b"x")
        assert storage.get_metadata("m") == {}

    @pytest.mark.parametrize("metadata", list(BAD_METADATA.values()), ids=list(BAD_METADATA))
    def test_invalid_metadata_rejected(self, storage: ObjectStorage, metadata: dict[str, Any]) -> None:
        with pytest.raises(InvalidMetadataError):
            storage.write("m", b"x", metadata=metadata)
        assert not storage.exists("m")

    def test_invalid_metadata_keeps_existing_object(self, storage: ObjectStorage) -> None:
        storage.write("m", b"old", metadata={"v": "1"})
        with pytest.raises(InvalidMetadataError):
            storage.write("m", b"new", metadata={"bad name": "x"})
        assert storage.read("m") == b"old"
        assert storage.get_metadata("m") == {"v": "1"}

    @pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", "application/vnd.api+json"])
    def test_content_type_round_trip(self, storage: ObjectStorage, content_type: str) -> None:
        storage.write("c", b"x", content_type=content_type)
        assert storage.stat("c").content_type == content_type

    def test_default_content_type(self, storage: ObjectStorage) -> None:
        storage.write("c", b"x")
        assert storage.stat("c").content_type in (None, "application/octet-stream")

    @pytest.mark.parametrize("content_type", ["plain", "text/plain\r\nX-Injected: 1", "tëxt/plain"])
    def test_invalid_content_type_rejected(self, storage: ObjectStorage, content_type: str) -> None:
        with pytest.raises(StorageError):
            storage.write("c", b"x", content_type=content_type)
        assert not storage.exists("c")

    # -- stat ------------------------------------------------------------------------------

    def test_stat_fields(self, storage: ObjectStorage) -> None:
        storage.write("s/obj", b"12345", content_type="text/plain", metadata={"k": "v"})
        info = storage.stat("s/obj")
        assert info.key == "s/obj"
        assert info.size == 5
        assert info.etag is None or (isinstance(info.etag, str) and info.etag)
        assert info.content_type == "text/plain"
        assert dict(info.metadata) == {"k": "v"}
        _assert_recent(info.last_modified)

    def test_etag_is_stable_and_changes_with_content(self, storage: ObjectStorage) -> None:
        storage.write("e", b"first")
        first = storage.stat("e").etag
        if first is None:
            pytest.skip("backend has no etags")
        assert storage.stat("e").etag == first
        storage.write("e", b"second version")
        assert storage.stat("e").etag != first

    # -- ranges ----------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("start", "end"),
        [(0, 5), (3, 7), (9, 10), (0, 10), (0, 100), (7, 100), (10, 20), (50, 60), (4, 4), (0, 0), (10, 10)],
    )
    def test_read_range_is_a_slice(self, storage: ObjectStorage, start: int, end: int) -> None:
        data = b"0123456789"
        storage.write("r", data)
        assert storage.read_range("r", start, end) == data[start:end]

    def test_read_range_across_chunk_boundaries(self, storage: ObjectStorage) -> None:
        data = payload(self.large_object_size, seed=9)
        storage.write("r", chunks(data, MiB))
        for start, end in [(MiB - 5, MiB + 5), (0, 1), (len(data) - 1, len(data)), (123, 2 * MiB + 7)]:
            assert storage.read_range("r", start, end) == data[start:end]

    @pytest.mark.parametrize(("start", "end"), [(-1, 5), (5, 4), (-5, -1), (1.0, 2), (0, "3"), (True, 2)])
    def test_invalid_range(self, storage: ObjectStorage, start: Any, end: Any) -> None:
        storage.write("r", b"0123456789")
        with pytest.raises(InvalidRangeError):
            storage.read_range("r", start, end)

    def test_invalid_range_is_checked_before_the_key(self, storage: ObjectStorage) -> None:
        with pytest.raises(InvalidRangeError):
            storage.read_range("missing", 5, 1)

    # -- size limits -----------------------------------------------------------------------

    def test_max_size_exact_fits(self, storage: ObjectStorage) -> None:
        storage.write("s", b"12345", max_size=5)
        storage.write("g", iter([b"12", b"345"]), max_size=5)
        assert storage.read("s") == storage.read("g") == b"12345"

    @pytest.mark.parametrize("kind", ["bytes", "generator", "bytesio", "readonly-file"])
    def test_content_too_large_stores_nothing(self, storage: ObjectStorage, kind: str) -> None:
        data = payload(50_000)
        makers: dict[str, Callable[[], Any]] = {
            "bytes": lambda: data,
            "generator": lambda: chunks(data, 4_096),
            "bytesio": lambda: io.BytesIO(data),
            "readonly-file": lambda: _ReadOnly(data),
        }
        source = makers[kind]()
        with pytest.raises(ContentTooLargeError) as excinfo:
            storage.write("big", source, max_size=10_000)
        assert excinfo.value.max_size == 10_000
        assert isinstance(excinfo.value, StorageError)
        assert not storage.exists("big")
        assert storage.list_keys() == []

    def test_content_too_large_keeps_existing_object(self, storage: ObjectStorage) -> None:
        storage.write("big", b"old", metadata={"v": "1"})
        with pytest.raises(ContentTooLargeError):
            storage.write("big", chunks(payload(50_000), 1_000), max_size=10_000, metadata={"v": "2"})
        assert storage.read("big") == b"old"
        assert storage.get_metadata("big") == {"v": "1"}

    def test_content_too_large_large_stream(self, storage: ObjectStorage) -> None:
        data = payload(self.large_object_size)
        with pytest.raises(ContentTooLargeError):
            storage.write("big", chunks(data, 256 * 1024), max_size=MiB + 1)
        assert storage.list_keys() == []

    # -- failing sources -------------------------------------------------------------------

    def test_source_error_propagates_unchanged_and_stores_nothing(self, storage: ObjectStorage) -> None:
        boom = SourceFailure("disk on fire")
        with pytest.raises(SourceFailure) as excinfo:
            storage.write("f", failing_source(b"x" * 10_000, boom))
        assert excinfo.value is boom
        assert not storage.exists("f")
        assert storage.list_keys() == []

    def test_source_error_after_large_prefix(self, storage: ObjectStorage) -> None:
        boom = SourceFailure("late failure")
        with pytest.raises(SourceFailure) as excinfo:
            storage.write("f", failing_source(payload(self.large_object_size // 2 + 1), boom))
        assert excinfo.value is boom
        assert storage.list_keys() == []

    def test_source_error_keeps_existing_object(self, storage: ObjectStorage) -> None:
        storage.write("f", b"original", content_type="text/plain", metadata={"v": "1"})
        boom = SourceFailure()
        with pytest.raises(SourceFailure):
            storage.write("f", failing_source(b"replacement", boom), metadata={"v": "2"})
        assert storage.read("f") == b"original"
        assert storage.get_metadata("f") == {"v": "1"}
        assert storage.stat("f").content_type == "text/plain"

    def test_file_source_error_propagates(self, storage: ObjectStorage) -> None:
        boom = OSError("read failed")

        class Broken(io.RawIOBase):
            def readable(self) -> bool:
                return True

            def read(self, size: int = -1) -> bytes:
                raise boom

        with pytest.raises(OSError, match="read failed") as excinfo:
            storage.write("f", Broken())
        assert excinfo.value is boom
        assert storage.list_keys() == []

    # -- overwrite and create-only ---------------------------------------------------------

    def test_overwrite_replaces_content_and_metadata(self, storage: ObjectStorage) -> None:
        storage.write("o", b"first version", content_type="text/plain", metadata={"a": "1", "b": "2"})
        info = storage.write("o", b"second", metadata={"c": "3"})
        assert info.size == 6
        assert storage.read("o") == b"second"
        assert storage.get_metadata("o") == {"c": "3"}
        assert storage.stat("o").content_type in (None, "application/octet-stream")
        assert storage.stat("o").size == 6
        assert storage.list_keys() == ["o"]

    def test_overwrite_drops_metadata(self, storage: ObjectStorage) -> None:
        storage.write("o", b"1", metadata={"a": "1"}, content_type="text/csv")
        storage.write("o", b"2")
        assert storage.get_metadata("o") == {}

    def test_overwrite_with_smaller_and_empty(self, storage: ObjectStorage) -> None:
        storage.write("o", payload(100_000))
        storage.write("o", b"tiny")
        assert storage.read("o") == b"tiny"
        storage.write("o", b"")
        assert storage.read("o") == b""

    def test_create_only_new_key(self, storage: ObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        storage.write("c", b"x", overwrite=False)
        assert storage.read("c") == b"x"

    def test_create_only_existing_key(self, storage: ObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        storage.write("c", b"original", metadata={"v": "1"})
        with pytest.raises(ObjectExistsError) as excinfo:
            storage.write("c", b"intruder", overwrite=False, metadata={"v": "2"})
        assert isinstance(excinfo.value, FileExistsError)
        assert excinfo.value.key == "c"
        assert storage.read("c") == b"original"
        assert storage.get_metadata("c") == {"v": "1"}

    def test_create_only_with_streamed_source(self, storage: ObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        storage.write("c", b"original")
        with pytest.raises(ObjectExistsError):
            storage.write("c", chunks(payload(300_000), 10_000), overwrite=False)
        assert storage.read("c") == b"original"
        assert storage.list_keys() == ["c"]

    def test_create_only_race_has_one_winner(self, storage: ObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        n = self.concurrency
        barrier = threading.Barrier(n)
        outcomes: list[str | BaseException] = [""] * n

        def attempt(i: int) -> None:
            barrier.wait()
            try:
                storage.write("race", chunks(payload(50_000, seed=i), 5_000), overwrite=False, metadata={"w": str(i)})
                outcomes[i] = "won"
            except ObjectExistsError:
                outcomes[i] = "lost"
            except BaseException as exc:  # noqa: BLE001 - reported below
                outcomes[i] = exc

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        assert not errors, errors
        assert outcomes.count("won") == 1, outcomes
        winner = outcomes.index("won")
        assert storage.read("race") == payload(50_000, seed=winner)
        assert storage.get_metadata("race") == {"w": str(winner)}
        assert storage.list_keys() == ["race"]

    def test_create_only_is_refused(self, storage: ObjectStorage) -> None:
        """Without create-only, every create-only request raises NotSupportedError and changes nothing."""
        if self.supports_create_only:
            pytest.skip("the backend enforces create-only writes (the create-only tests check them)")
        storage.write("kept", b"original", metadata={"v": "1"})
        calls: list[Callable[[], Any]] = [
            lambda: storage.write("new", b"x", overwrite=False),
            lambda: storage.write("new", chunks(payload(300_000), 10_000), overwrite=False),
            lambda: storage.write("kept", b"intruder", overwrite=False),
            lambda: storage.copy("kept", "copy", overwrite=False),
            lambda: storage.move("kept", "moved", overwrite=False),
        ]
        for call in calls:
            with pytest.raises(NotSupportedError) as excinfo:
                call()
            assert isinstance(excinfo.value, StorageError)
        assert storage.list_keys() == ["kept"]
        assert storage.read("kept") == b"original"
        assert storage.get_metadata("kept") == {"v": "1"}

    def test_concurrent_overwrites_stay_consistent(self, storage: ObjectStorage) -> None:
        n = self.concurrency
        barrier = threading.Barrier(n)
        errors: list[BaseException] = []

        def attempt(i: int) -> None:
            barrier.wait()
            try:
                storage.write("hot", chunks(payload(40_000, seed=i), 4_000), metadata={"w": str(i)})
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        winner = int(storage.get_metadata("hot")["w"])
        assert storage.read("hot") == payload(40_000, seed=winner), "metadata and content come from different writes"
        assert storage.list_keys() == ["hot"]

    def test_concurrent_writes_to_different_keys(self, storage: ObjectStorage) -> None:
        n = self.concurrency
        errors: list[BaseException] = []

        def attempt(i: int) -> None:
            try:
                storage.write(f"par/{i:03d}", payload(20_000, seed=i))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert storage.list_keys("par/") == [f"par/{i:03d}" for i in range(n)]
        assert all(storage.read(f"par/{i:03d}") == payload(20_000, seed=i) for i in range(n))

    # -- delete ----------------------------------------------------------------------------

    def test_delete_is_idempotent(self, storage: ObjectStorage) -> None:
        storage.write("d/x", b"x")
        assert storage.delete("d/x") is True
        assert storage.delete("d/x") is False
        assert not storage.exists("d/x")
        with pytest.raises(ObjectNotFoundError):
            storage.read("d/x")
        assert storage.list_keys() == []

    def test_delete_missing_key(self, storage: ObjectStorage) -> None:
        assert storage.delete("never/written") is False

    def test_delete_leaves_siblings(self, storage: ObjectStorage) -> None:
        for key in ("d/a", "d/b", "d/sub/c", "dz"):
            storage.write(key, key.encode())
        assert storage.delete("d/b")
        assert storage.list_keys() == ["d/a", "d/sub/c", "dz"]
        assert storage.delete("d/sub/c")
        assert storage.list_keys() == ["d/a", "dz"]

    def test_write_after_delete_of_nested_key(self, storage: ObjectStorage) -> None:
        storage.write("x/y/z", b"1")
        storage.delete("x/y/z")
        storage.write("x/y/z", b"2")
        assert storage.read("x/y/z") == b"2"
        storage.delete("x/y/z")
        storage.write("x", b"3")  # the emptied "folder" must not block a key of the same name
        assert storage.read("x") == b"3"

    def test_delete_many_counts_existing(self, storage: ObjectStorage) -> None:
        for key in ("a", "b", "c/d"):
            storage.write(key, b"x")
        assert storage.delete_many(["a", "c/d", "missing"]) == 2
        assert storage.list_keys() == ["b"]
        assert storage.delete_many([]) == 0
        assert storage.delete_many(iter(["b"])) == 1
        assert storage.list_keys() == []

    def test_delete_many_validates_all_first(self, storage: ObjectStorage) -> None:
        storage.write("a", b"x")
        with pytest.raises(InvalidKeyError):
            storage.delete_many(["a", "../bad"])
        assert storage.exists("a")

    def test_delete_many_beyond_a_page(self, storage: ObjectStorage) -> None:
        keys = [f"many/{i:04d}" for i in range(2 * self.listing_page_size + 3)]
        for key in keys:
            storage.write(key, b"x")
        assert storage.delete_many(keys) == len(keys)
        assert storage.list_keys() == []

    # -- listing ---------------------------------------------------------------------------

    def _write_all(self, storage: ObjectStorage, keys: Any) -> None:
        for key in keys:
            storage.write(key, key.encode())

    def _listing_keys(self) -> list[str]:
        keys = list(LISTING_KEYS)
        if not self.supports_key_as_prefix_folder:
            keys = [k for k in keys if not any(o.startswith(k + "/") for o in keys)]
        if not self.case_sensitive_keys:
            keys = [k for k in keys if k.lower() == k or k.lower() not in keys]
        return keys

    def test_list_order_is_utf8_byte_order(self, storage: ObjectStorage) -> None:
        keys = self._listing_keys()
        self._write_all(storage, reversed(keys))
        assert storage.list_keys() == keys
        assert keys == sorted(keys, key=lambda k: k.encode())

    def test_list_reports_sizes(self, storage: ObjectStorage) -> None:
        storage.write("s/one", b"1")
        storage.write("s/three", b"333")
        storage.write("s/empty", b"")
        infos = list(storage.list("s/"))
        assert all(isinstance(i, ObjectInfo) for i in infos)
        assert [(i.key, i.size) for i in infos] == [("s/empty", 0), ("s/one", 1), ("s/three", 3)]
        for info in infos:
            _assert_recent(info.last_modified)

    def test_list_prefix_is_a_string_prefix(self, storage: ObjectStorage) -> None:
        keys = ["doc", "docs.txt", "docs/a", "docs/b/c", "docs2/x", "doct", "dp"]
        self._write_all(storage, keys)
        assert storage.list_keys("docs") == ["docs.txt", "docs/a", "docs/b/c", "docs2/x"]
        assert storage.list_keys("docs/") == ["docs/a", "docs/b/c"]
        assert storage.list_keys("docs/b") == ["docs/b/c"]
        assert storage.list_keys("docs/b/") == ["docs/b/c"]
        assert storage.list_keys("do") == keys[:-1]
        assert storage.list_keys("d") == keys
        assert storage.list_keys("nothing") == []
        assert storage.list_keys("docs/a/") == []
        assert storage.list_keys("docs/a") == ["docs/a"]

    def test_list_prefix_with_unicode(self, storage: ObjectStorage) -> None:
        self._write_all(storage, ["café/1", "café/2", "cafe/3", "caf/4"])
        assert storage.list_keys("café") == ["café/1", "café/2"]
        assert storage.list_keys("caf") == ["caf/4", "cafe/3", "café/1", "café/2"]

    def test_list_start_after(self, storage: ObjectStorage) -> None:
        keys = self._listing_keys()
        self._write_all(storage, keys)
        for i, key in enumerate(keys):
            assert [o.key for o in storage.list(start_after=key)] == keys[i + 1 :], key
        assert [o.key for o in storage.list(start_after="a/a")] == [k for k in keys if k > "a/a"]
        assert [o.key for o in storage.list(start_after="\U0010fffd")] == []  # the last character a key may hold

    def test_list_prefix_and_start_after(self, storage: ObjectStorage) -> None:
        keys = ["p/a", "p/b/1", "p/b/2", "p/c", "q/a"]
        self._write_all(storage, keys)
        assert [o.key for o in storage.list("p/", start_after="p/b/1")] == ["p/b/2", "p/c"]
        assert [o.key for o in storage.list("p/", start_after="p/b")] == ["p/b/1", "p/b/2", "p/c"]
        assert [o.key for o in storage.list("p/", start_after="a")] == ["p/a", "p/b/1", "p/b/2", "p/c"]
        assert [o.key for o in storage.list("p/", start_after="z")] == []

    def test_list_many_objects_across_pages(self, storage: ObjectStorage) -> None:
        n = 2 * self.listing_page_size + 3
        keys = sorted(f"page/{i:05d}" for i in range(n))
        self._write_all(storage, keys)
        storage.write("pagf", b"after")
        storage.write("pag", b"before")
        assert storage.list_keys("page/") == keys
        middle = keys[self.listing_page_size]
        assert [o.key for o in storage.list("page/", start_after=middle)] == keys[self.listing_page_size + 1 :]
        assert storage.list_keys() == ["pag", *keys, "pagf"]

    def test_list_is_lazy(self, storage: ObjectStorage) -> None:
        self._write_all(storage, [f"lazy/{i}" for i in range(5)])
        listing = storage.list("lazy/")
        assert isinstance(listing, Iterator)
        assert next(listing).key == "lazy/0"
        close = getattr(listing, "close", None)
        if close is not None:
            close()

    def test_list_survives_deletes_while_iterating(self, storage: ObjectStorage) -> None:
        keys = [f"del/{c}/{i}" for c in "abc" for i in range(3)]
        self._write_all(storage, keys)
        seen = []
        for info in storage.list("del/"):
            seen.append(info.key)
            if len(seen) == 1:
                storage.delete_many(keys)
        assert seen[0] == "del/a/0"
        assert set(seen) <= set(keys)
        assert seen == sorted(seen)

    def test_list_keys_matches_list(self, storage: ObjectStorage) -> None:
        self._write_all(storage, ["x/1", "x/2", "y"])
        assert storage.list_keys() == [o.key for o in storage.list()]
        assert storage.list_keys("x/") == ["x/1", "x/2"]

    # -- copy and move ---------------------------------------------------------------------

    def test_copy_preserves_content_and_metadata(self, storage: ObjectStorage) -> None:
        storage.write("src", b"payload", content_type="text/plain", metadata={"k": "v", "u": "ü"})
        info = storage.copy("src", "dir/dst")
        assert info.key == "dir/dst"
        assert info.size == 7
        assert storage.read("dir/dst") == b"payload"
        assert storage.get_metadata("dir/dst") == {"k": "v", "u": "ü"}
        assert storage.stat("dir/dst").content_type == "text/plain"
        assert storage.read("src") == b"payload"
        assert storage.list_keys() == ["dir/dst", "src"]

    def test_copy_is_independent(self, storage: ObjectStorage) -> None:
        storage.write("src", b"one")
        storage.copy("src", "dst")
        storage.write("src", b"two")
        storage.delete("src")
        assert storage.read("dst") == b"one"

    def test_copy_large_object(self, storage: ObjectStorage) -> None:
        data = payload(self.large_object_size, seed=11)
        storage.write("src", chunks(data, MiB))
        storage.copy("src", "dst")
        assert storage.read("dst") == data

    def test_copy_overwrites_by_default(self, storage: ObjectStorage) -> None:
        storage.write("src", b"new", metadata={"v": "new"})
        storage.write("dst", b"old content", metadata={"v": "old"}, content_type="text/csv")
        storage.copy("src", "dst")
        assert storage.read("dst") == b"new"
        assert storage.get_metadata("dst") == {"v": "new"}

    def test_copy_create_only(self, storage: ObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        storage.write("src", b"new")
        storage.write("dst", b"old", metadata={"v": "old"})
        with pytest.raises(ObjectExistsError):
            storage.copy("src", "dst", overwrite=False)
        assert storage.read("dst") == b"old"
        assert storage.get_metadata("dst") == {"v": "old"}
        storage.copy("src", "fresh", overwrite=False)
        assert storage.read("fresh") == b"new"

    def test_copy_onto_itself_keeps_the_object(self, storage: ObjectStorage) -> None:
        storage.write("same", b"content", metadata={"k": "v"})
        storage.copy("same", "same")
        assert storage.read("same") == b"content"
        assert storage.get_metadata("same") == {"k": "v"}
        with pytest.raises(ObjectExistsError if self.supports_create_only else NotSupportedError):
            storage.copy("same", "same", overwrite=False)
        assert storage.read("same") == b"content"

    def test_copy_missing_source_creates_nothing(self, storage: ObjectStorage) -> None:
        with pytest.raises(ObjectNotFoundError):
            storage.copy("missing", "dst")
        assert storage.list_keys() == []

    def test_move(self, storage: ObjectStorage) -> None:
        storage.write("old/name", b"data", content_type="image/png", metadata={"k": "v"})
        info = storage.move("old/name", "new/deeper/name")
        assert info.key == "new/deeper/name"
        assert info.size == 4
        assert not storage.exists("old/name")
        assert storage.read("new/deeper/name") == b"data"
        assert storage.get_metadata("new/deeper/name") == {"k": "v"}
        assert storage.stat("new/deeper/name").content_type == "image/png"
        assert storage.list_keys() == ["new/deeper/name"]

    def test_move_overwrites_by_default(self, storage: ObjectStorage) -> None:
        storage.write("a", b"from a")
        storage.write("b", b"from b", metadata={"v": "b"})
        storage.move("a", "b")
        assert storage.read("b") == b"from a"
        assert storage.get_metadata("b") == {}
        assert storage.list_keys() == ["b"]

    def test_move_create_only(self, storage: ObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        storage.write("a", b"from a")
        storage.write("b", b"from b")
        with pytest.raises(ObjectExistsError):
            storage.move("a", "b", overwrite=False)
        assert storage.read("a") == b"from a"
        assert storage.read("b") == b"from b"
        storage.move("a", "c", overwrite=False)
        assert storage.list_keys() == ["b", "c"]

    def test_move_onto_itself_is_a_no_op(self, storage: ObjectStorage) -> None:
        storage.write("same", b"content", metadata={"k": "v"})
        info = storage.move("same", "same")
        assert info.key == "same"
        assert storage.read("same") == b"content"
        assert storage.get_metadata("same") == {"k": "v"}

    def test_move_missing_source(self, storage: ObjectStorage) -> None:
        with pytest.raises(ObjectNotFoundError):
            storage.move("missing", "dst")
        assert storage.list_keys() == []

    # -- presigned URLs --------------------------------------------------------------------

    def test_presigned_url(self, storage: ObjectStorage) -> None:
        storage.write("p/obj", b"shared bytes")
        if not self.supports_presigned_urls:
            with pytest.raises(NotSupportedError):
                storage.presigned_url("p/obj")
            return
        url = storage.presigned_url("p/obj", expires_in=60)
        assert isinstance(url, str) and url.startswith(("http://", "https://"))
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == b"shared bytes"
        put = storage.presigned_url("p/upload", method="PUT")
        assert isinstance(put, str) and put.startswith(("http://", "https://"))

    @pytest.mark.parametrize("method", ["DELETE", "POST"])
    def test_presigned_url_bad_method(self, storage: ObjectStorage, method: str) -> None:
        storage.write("p", b"x")
        with pytest.raises(NotSupportedError):
            storage.presigned_url("p", method=method)

    @pytest.mark.parametrize("expires_in", [0, -1, 8 * 24 * 3600])
    def test_presigned_url_bad_expiry(self, storage: ObjectStorage, expires_in: int) -> None:
        storage.write("p", b"x")
        with pytest.raises(StorageError):
            storage.presigned_url("p", expires_in=expires_in)


# ==========================================================================================
# async
# ==========================================================================================


async def achunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[start : start + size]


async def afailing_source(good: bytes, error: BaseException) -> AsyncIterator[bytes]:
    yield good
    await asyncio.sleep(0)
    yield good
    raise error


class _AsyncReader:
    """An object with an ``async def read`` (aiofiles, anyio streams, UploadFile)."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        await asyncio.sleep(0)
        return self._io.read(min(size, 1000) if size and size > 0 else size)


async def _collect(aiterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in aiterator]


async def _keys(storage: AsyncObjectStorage, prefix: str = "", start_after: str | None = None) -> list[str]:
    return [info.key async for info in storage.list(prefix, start_after=start_after)]


class AsyncObjectStorageConformance:
    """The contract of :class:`storeroom.AsyncObjectStorage`; override ``async_storage``."""

    pytestmark = [pytest.mark.asyncio]

    supports_presigned_urls: ClassVar[bool] = False
    listing_page_size: ClassVar[int] = 10
    case_sensitive_keys: ClassVar[bool] = True
    supports_key_as_prefix_folder: ClassVar[bool] = True
    concurrency: ClassVar[int] = 8
    large_object_size: ClassVar[int] = 2 * MiB + 12345
    supports_create_only: ClassVar[bool] = True

    @pytest.fixture
    def async_storage(self) -> Iterator[AsyncObjectStorage]:
        """A fresh, empty async store. Subclasses override this (usually with ``pytest_asyncio.fixture``)."""
        raise NotImplementedError(f"{type(self).__name__} must override the 'async_storage' fixture")

    # -- identity and lifecycle ------------------------------------------------------------

    async def test_declares_plugin_name(self, async_storage: AsyncObjectStorage) -> None:
        assert isinstance(async_storage.PLUGIN_NAME, str) and async_storage.PLUGIN_NAME

    async def test_new_store_is_empty(self, async_storage: AsyncObjectStorage) -> None:
        assert await async_storage.list_keys() == []

    async def test_health_check_is_healthy(self, async_storage: AsyncObjectStorage) -> None:
        result = await async_storage.health_check()
        assert result.status is HealthStatus.HEALTHY, result.message
        assert result.details.get("backend") == async_storage.PLUGIN_NAME

    async def test_close_is_idempotent(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.close()
        await async_storage.close()
        await async_storage.aclose()

    async def test_context_manager_returns_store(self, async_storage: AsyncObjectStorage) -> None:
        async with async_storage as entered:
            assert entered is async_storage

    # -- write and read -------------------------------------------------------------------

    async def test_write_returns_info(self, async_storage: AsyncObjectStorage) -> None:
        info = await async_storage.write("docs/a.txt", b"hello")
        assert isinstance(info, ObjectInfo)
        assert (info.key, info.size) == ("docs/a.txt", 5)
        stat = await async_storage.stat("docs/a.txt")
        assert info.etag is None or info.etag == stat.etag

    @pytest.mark.parametrize(
        "kind", ["bytes", "bytearray", "memoryview", "bytesio", "generator", "async-generator", "async-reader"]
    )
    async def test_write_data_kinds(self, async_storage: AsyncObjectStorage, kind: str) -> None:
        data = payload(70_000, seed=3)
        makers: dict[str, Callable[[], Any]] = {
            "bytes": lambda: data,
            "bytearray": lambda: bytearray(data),
            "memoryview": lambda: memoryview(data),
            "bytesio": lambda: io.BytesIO(data),
            "generator": lambda: chunks(data, 7_000),
            "async-generator": lambda: achunks(data, 7_000),
            "async-reader": lambda: _AsyncReader(data),
        }
        source = makers[kind]()
        info = await async_storage.write(f"kinds/{kind}", source)
        assert info.size == len(data)
        assert await async_storage.read(f"kinds/{kind}") == data

    async def test_write_from_real_file(self, async_storage: AsyncObjectStorage, tmp_path: Path) -> None:
        data = payload(100_000, seed=5)
        path = tmp_path / "upload.bin"
        path.write_bytes(data)
        with path.open("rb") as f:
            await async_storage.write("from-file", f)
        assert await async_storage.read("from-file") == data

    async def test_zero_byte_object(self, async_storage: AsyncObjectStorage) -> None:
        assert (await async_storage.write("empty", b"")).size == 0
        assert await async_storage.read("empty") == b""
        assert b"".join(await _collect(async_storage.read_stream("empty"))) == b""
        assert await async_storage.read_range("empty", 0, 10) == b""
        assert (await async_storage.stat("empty")).size == 0
        assert await async_storage.exists("empty")

    async def test_zero_byte_object_from_empty_async_generator(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("empty", achunks(b"", 10))
        assert await async_storage.read("empty") == b""

    async def test_large_object_streamed(self, async_storage: AsyncObjectStorage) -> None:
        data = payload(self.large_object_size, seed=7)
        info = await async_storage.write("big/object.bin", achunks(data, 256 * 1024 + 3))
        assert info.size == len(data)
        assert await async_storage.read("big/object.bin") == data
        parts = await _collect(async_storage.read_stream("big/object.bin", chunk_size=MiB))
        assert all(0 < len(p) <= MiB for p in parts)
        assert b"".join(parts) == data

    async def test_read_stream_respects_chunk_size(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("k", b"0123456789")
        parts = await _collect(async_storage.read_stream("k", chunk_size=3))
        assert all(0 < len(p) <= 3 for p in parts)
        assert b"".join(parts) == b"0123456789"

    async def test_read_stream_abandoned_early(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("k", payload(10_000))
        stream = async_storage.read_stream("k", chunk_size=100)
        assert await stream.__anext__() == payload(10_000)[:100]
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
        await async_storage.write("k", b"new")
        assert await async_storage.read("k") == b"new"

    async def test_str_data_is_rejected(self, async_storage: AsyncObjectStorage) -> None:
        with pytest.raises(TypeError):
            await async_storage.write("k", "text")
        assert not await async_storage.exists("k")

    # -- keys -----------------------------------------------------------------------------

    @pytest.mark.parametrize("key", list(INVALID_KEYS.values()), ids=list(INVALID_KEYS))
    async def test_invalid_key_rejected_everywhere(self, async_storage: AsyncObjectStorage, key: str) -> None:
        st = async_storage
        await st.write("valid", b"x")
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: st.write(key, b"data"),
            lambda: st.write(key, achunks(b"data", 2)),
            lambda: st.read(key),
            lambda: _collect(st.read_stream(key)),
            lambda: st.read_range(key, 0, 1),
            lambda: st.exists(key),
            lambda: st.stat(key),
            lambda: st.get_metadata(key),
            lambda: st.delete(key),
            lambda: st.delete_many(["valid", key]),
            lambda: st.copy("valid", key),
            lambda: st.copy(key, "valid"),
            lambda: st.move("valid", key),
            lambda: st.move(key, "valid"),
            lambda: st.presigned_url(key),
        ]
        for call in calls:
            with pytest.raises(InvalidKeyError):
                await call()
        assert await st.list_keys() == ["valid"]
        assert await st.read("valid") == b"x"

    async def test_invalid_prefix_rejected(self, async_storage: AsyncObjectStorage) -> None:
        with pytest.raises(InvalidKeyError):
            await _collect(async_storage.list("../"))

    @pytest.mark.parametrize("key", UNICODE_KEYS)
    async def test_unicode_keys_round_trip(self, async_storage: AsyncObjectStorage, key: str) -> None:
        await async_storage.write(key, key.encode())
        assert await async_storage.read(key) == key.encode()
        assert await async_storage.list_keys() == [key]

    async def test_key_and_folder_of_same_name(self, async_storage: AsyncObjectStorage) -> None:
        st = async_storage
        await st.write("a/b", b"child")
        if self.supports_key_as_prefix_folder:
            await st.write("a", b"parent")
            assert await st.list_keys() == ["a", "a/b"]
            return
        with pytest.raises(StorageError):
            await st.write("a", b"parent")
        assert await st.list_keys() == ["a/b"]

    async def test_prefix_of_keys_is_not_an_object(self, async_storage: AsyncObjectStorage) -> None:
        st = async_storage
        await st.write("docs/a.txt", b"x")
        assert not await st.exists("docs")
        with pytest.raises(ObjectNotFoundError):
            await st.read("docs")
        assert await st.delete("docs") is False
        assert await st.read("docs/a.txt") == b"x"

    async def test_missing_object_errors(self, async_storage: AsyncObjectStorage) -> None:
        st = async_storage
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "read": lambda: st.read("nope"),
            "read_stream": lambda: _collect(st.read_stream("nope")),
            "read_range": lambda: st.read_range("nope", 0, 1),
            "stat": lambda: st.stat("nope"),
            "get_metadata": lambda: st.get_metadata("nope"),
            "copy": lambda: st.copy("nope", "dst"),
            "move": lambda: st.move("nope", "dst"),
        }
        for name, call in calls.items():
            with pytest.raises(ObjectNotFoundError) as excinfo:
                await call()
            assert isinstance(excinfo.value, FileNotFoundError), name
            assert excinfo.value.key == "nope", name
        assert not await st.exists("nope")
        assert await st.list_keys() == []

    # -- metadata and content type ---------------------------------------------------------

    async def test_metadata_round_trip(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("m", b"x", metadata=METADATA, content_type="text/plain; charset=utf-8")
        assert await async_storage.get_metadata("m") == METADATA_STORED
        info = await async_storage.stat("m")
        assert dict(info.metadata) == METADATA_STORED
        assert info.content_type == "text/plain; charset=utf-8"

    async def test_default_content_type(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("c", b"x")
        assert (await async_storage.stat("c")).content_type in (None, "application/octet-stream")

    @pytest.mark.parametrize("metadata", list(BAD_METADATA.values()), ids=list(BAD_METADATA))
    async def test_invalid_metadata_rejected(self, async_storage: AsyncObjectStorage, metadata: dict[str, Any]) -> None:
        with pytest.raises(InvalidMetadataError):
            await async_storage.write("m", b"x", metadata=metadata)
        assert not await async_storage.exists("m")

    async def test_stat_fields(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("s/obj", b"12345", content_type="text/plain", metadata={"k": "v"})
        info = await async_storage.stat("s/obj")
        assert (info.key, info.size, info.content_type, dict(info.metadata)) == ("s/obj", 5, "text/plain", {"k": "v"})
        _assert_recent(info.last_modified)

    async def test_etag_is_stable_and_changes_with_content(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("e", b"first")
        first = (await async_storage.stat("e")).etag
        if first is None:
            pytest.skip("backend has no etags")
        assert (await async_storage.stat("e")).etag == first
        await async_storage.write("e", b"second version")
        assert (await async_storage.stat("e")).etag != first

    # -- ranges ----------------------------------------------------------------------------

    async def test_read_range_is_a_slice(self, async_storage: AsyncObjectStorage) -> None:
        data = b"0123456789"
        await async_storage.write("r", data)
        for start, end in [(0, 5), (3, 7), (9, 10), (0, 100), (7, 100), (10, 20), (50, 60), (4, 4), (0, 0)]:
            assert await async_storage.read_range("r", start, end) == data[start:end], (start, end)

    async def test_read_range_across_chunk_boundaries(self, async_storage: AsyncObjectStorage) -> None:
        data = payload(self.large_object_size, seed=9)
        await async_storage.write("r", achunks(data, MiB))
        for start, end in [(MiB - 5, MiB + 5), (len(data) - 1, len(data)), (123, 2 * MiB + 7)]:
            assert await async_storage.read_range("r", start, end) == data[start:end]

    @pytest.mark.parametrize(("start", "end"), [(-1, 5), (5, 4), (1.0, 2)])
    async def test_invalid_range(self, async_storage: AsyncObjectStorage, start: Any, end: Any) -> None:
        await async_storage.write("r", b"0123456789")
        with pytest.raises(InvalidRangeError):
            await async_storage.read_range("r", start, end)

    # -- size limits and failing sources ---------------------------------------------------

    @pytest.mark.parametrize("kind", ["bytes", "generator", "async-generator", "async-reader"])
    async def test_content_too_large_stores_nothing(self, async_storage: AsyncObjectStorage, kind: str) -> None:
        data = payload(50_000)
        makers: dict[str, Callable[[], Any]] = {
            "bytes": lambda: data,
            "generator": lambda: chunks(data, 4_096),
            "async-generator": lambda: achunks(data, 4_096),
            "async-reader": lambda: _AsyncReader(data),
        }
        source = makers[kind]()
        with pytest.raises(ContentTooLargeError) as excinfo:
            await async_storage.write("big", source, max_size=10_000)
        assert excinfo.value.max_size == 10_000
        assert not await async_storage.exists("big")
        assert await async_storage.list_keys() == []

    async def test_max_size_exact_fits(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("g", achunks(b"12345", 2), max_size=5)
        assert await async_storage.read("g") == b"12345"

    async def test_content_too_large_keeps_existing_object(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("big", b"old", metadata={"v": "1"})
        with pytest.raises(ContentTooLargeError):
            await async_storage.write("big", achunks(payload(50_000), 1_000), max_size=10_000)
        assert await async_storage.read("big") == b"old"
        assert await async_storage.get_metadata("big") == {"v": "1"}

    @pytest.mark.parametrize("kind", ["generator", "async-generator"])
    async def test_source_error_propagates_unchanged(self, async_storage: AsyncObjectStorage, kind: str) -> None:
        boom = SourceFailure("disk on fire")
        make = failing_source if kind == "generator" else afailing_source
        with pytest.raises(SourceFailure) as excinfo:
            await async_storage.write("f", make(b"x" * 10_000, boom))
        assert excinfo.value is boom
        assert not await async_storage.exists("f")
        assert await async_storage.list_keys() == []

    async def test_source_error_keeps_existing_object(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("f", b"original", metadata={"v": "1"})
        with pytest.raises(SourceFailure):
            await async_storage.write("f", afailing_source(b"replacement", SourceFailure()), metadata={"v": "2"})
        assert await async_storage.read("f") == b"original"
        assert await async_storage.get_metadata("f") == {"v": "1"}

    async def test_cancelled_write_stores_nothing(self, async_storage: AsyncObjectStorage) -> None:
        started = asyncio.Event()

        async def endless() -> AsyncIterator[bytes]:
            for _ in range(20_000):  # "endless" for the test, but never hangs a broken backend forever
                yield b"x" * 1000
                started.set()
                await asyncio.sleep(0.001)

        task = asyncio.create_task(async_storage.write("cancelled", endless()))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not await async_storage.exists("cancelled")
        assert await async_storage.list_keys() == []

    # -- overwrite and create-only ---------------------------------------------------------

    async def test_overwrite_replaces_content_and_metadata(self, async_storage: AsyncObjectStorage) -> None:
        st = async_storage
        await st.write("o", b"first version", content_type="text/plain", metadata={"a": "1"})
        await st.write("o", b"second", metadata={"c": "3"})
        assert await st.read("o") == b"second"
        assert await st.get_metadata("o") == {"c": "3"}
        assert (await st.stat("o")).content_type in (None, "application/octet-stream")

    async def test_create_only_existing_key(self, async_storage: AsyncObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        st = async_storage
        await st.write("c", b"original", metadata={"v": "1"})
        with pytest.raises(ObjectExistsError) as excinfo:
            await st.write("c", achunks(b"intruder", 3), overwrite=False)
        assert isinstance(excinfo.value, FileExistsError)
        assert await st.read("c") == b"original"
        assert await st.get_metadata("c") == {"v": "1"}
        await st.write("new", b"x", overwrite=False)
        assert await st.read("new") == b"x"

    async def test_create_only_race_has_one_winner(self, async_storage: AsyncObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        n = self.concurrency
        results = await asyncio.gather(
            *(
                async_storage.write(
                    "race", achunks(payload(50_000, seed=i), 5_000), overwrite=False, metadata={"w": str(i)}
                )
                for i in range(n)
            ),
            return_exceptions=True,
        )
        winners = [i for i, r in enumerate(results) if isinstance(r, ObjectInfo)]
        others = [r for r in results if not isinstance(r, ObjectInfo)]
        assert len(winners) == 1, results
        assert all(isinstance(r, ObjectExistsError) for r in others), others
        assert await async_storage.read("race") == payload(50_000, seed=winners[0])
        assert await async_storage.get_metadata("race") == {"w": str(winners[0])}

    async def test_create_only_is_refused(self, async_storage: AsyncObjectStorage) -> None:
        if self.supports_create_only:
            pytest.skip("the backend enforces create-only writes (the create-only tests check them)")
        st = async_storage
        await st.write("kept", b"original", metadata={"v": "1"})
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: st.write("new", b"x", overwrite=False),
            lambda: st.write("new", achunks(payload(300_000), 10_000), overwrite=False),
            lambda: st.write("kept", b"intruder", overwrite=False),
            lambda: st.copy("kept", "copy", overwrite=False),
            lambda: st.move("kept", "moved", overwrite=False),
        ]
        for call in calls:
            with pytest.raises(NotSupportedError):
                await call()
        assert await st.list_keys() == ["kept"]
        assert await st.read("kept") == b"original"
        assert await st.get_metadata("kept") == {"v": "1"}

    async def test_concurrent_overwrites_stay_consistent(self, async_storage: AsyncObjectStorage) -> None:
        n = self.concurrency
        await asyncio.gather(
            *(
                async_storage.write("hot", achunks(payload(40_000, seed=i), 4_000), metadata={"w": str(i)})
                for i in range(n)
            )
        )
        winner = int((await async_storage.get_metadata("hot"))["w"])
        assert await async_storage.read("hot") == payload(40_000, seed=winner)

    # -- delete ----------------------------------------------------------------------------

    async def test_delete_is_idempotent(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("d/x", b"x")
        assert await async_storage.delete("d/x") is True
        assert await async_storage.delete("d/x") is False
        assert await async_storage.list_keys() == []

    async def test_delete_many_counts_existing(self, async_storage: AsyncObjectStorage) -> None:
        st = async_storage
        for key in ("a", "b", "c/d"):
            await st.write(key, b"x")
        assert await st.delete_many(["a", "c/d", "missing"]) == 2
        assert await st.delete_many([]) == 0
        assert await st.list_keys() == ["b"]

    async def test_write_after_delete_of_nested_key(self, async_storage: AsyncObjectStorage) -> None:
        st = async_storage
        await st.write("x/y/z", b"1")
        await st.delete("x/y/z")
        await st.write("x", b"3")
        assert await st.read("x") == b"3"

    # -- listing ---------------------------------------------------------------------------

    def _listing_keys(self) -> list[str]:
        return ObjectStorageConformance._listing_keys(self)  # type: ignore[arg-type]

    async def test_list_order_is_utf8_byte_order(self, async_storage: AsyncObjectStorage) -> None:
        keys = self._listing_keys()
        for key in reversed(keys):
            await async_storage.write(key, b"x")
        assert await async_storage.list_keys() == keys
        for i, key in enumerate(keys):
            assert await _keys(async_storage, start_after=key) == keys[i + 1 :]

    async def test_list_prefix_is_a_string_prefix(self, async_storage: AsyncObjectStorage) -> None:
        keys = ["doc", "docs.txt", "docs/a", "docs/b/c", "docs2/x", "doct"]
        for key in keys:
            await async_storage.write(key, b"x")
        assert await async_storage.list_keys("docs") == ["docs.txt", "docs/a", "docs/b/c", "docs2/x"]
        assert await async_storage.list_keys("docs/") == ["docs/a", "docs/b/c"]
        assert await _keys(async_storage, "docs/", start_after="docs/a") == ["docs/b/c"]

    async def test_list_reports_sizes(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("s/one", b"1")
        await async_storage.write("s/three", b"333")
        infos = await _collect(async_storage.list("s/"))
        assert [(i.key, i.size) for i in infos] == [("s/one", 1), ("s/three", 3)]

    async def test_list_many_objects_across_pages(self, async_storage: AsyncObjectStorage) -> None:
        n = 2 * self.listing_page_size + 3
        keys = [f"page/{i:05d}" for i in range(n)]
        await asyncio.gather(*(async_storage.write(k, b"x") for k in keys))
        assert await async_storage.list_keys("page/") == keys
        middle = keys[self.listing_page_size]
        assert await _keys(async_storage, "page/", start_after=middle) == keys[self.listing_page_size + 1 :]

    async def test_list_is_lazy(self, async_storage: AsyncObjectStorage) -> None:
        for i in range(5):
            await async_storage.write(f"lazy/{i}", b"x")
        listing = async_storage.list("lazy/")
        assert isinstance(listing, AsyncIterator)
        assert (await listing.__anext__()).key == "lazy/0"
        aclose = getattr(listing, "aclose", None)
        if aclose is not None:
            await aclose()

    # -- copy and move ---------------------------------------------------------------------

    async def test_copy_preserves_content_and_metadata(self, async_storage: AsyncObjectStorage) -> None:
        st = async_storage
        await st.write("src", b"payload", content_type="text/plain", metadata={"k": "v"})
        info = await st.copy("src", "dir/dst")
        assert (info.key, info.size) == ("dir/dst", 7)
        assert await st.read("dir/dst") == b"payload"
        assert await st.get_metadata("dir/dst") == {"k": "v"}
        assert (await st.stat("dir/dst")).content_type == "text/plain"
        assert await st.read("src") == b"payload"

    async def test_copy_create_only(self, async_storage: AsyncObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        st = async_storage
        await st.write("src", b"new")
        await st.write("dst", b"old")
        with pytest.raises(ObjectExistsError):
            await st.copy("src", "dst", overwrite=False)
        assert await st.read("dst") == b"old"

    async def test_copy_onto_itself_keeps_the_object(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("same", b"content", metadata={"k": "v"})
        await async_storage.copy("same", "same")
        assert await async_storage.read("same") == b"content"
        assert await async_storage.get_metadata("same") == {"k": "v"}

    async def test_copy_large_object(self, async_storage: AsyncObjectStorage) -> None:
        data = payload(self.large_object_size, seed=11)
        await async_storage.write("src", data)
        await async_storage.copy("src", "dst")
        assert await async_storage.read("dst") == data

    async def test_move(self, async_storage: AsyncObjectStorage) -> None:
        st = async_storage
        await st.write("old/name", b"data", content_type="image/png", metadata={"k": "v"})
        info = await st.move("old/name", "new/name")
        assert info.key == "new/name"
        assert not await st.exists("old/name")
        assert await st.read("new/name") == b"data"
        assert await st.get_metadata("new/name") == {"k": "v"}
        assert await st.list_keys() == ["new/name"]

    async def test_move_create_only(self, async_storage: AsyncObjectStorage) -> None:
        _needs_create_only(self.supports_create_only)
        st = async_storage
        await st.write("a", b"from a")
        await st.write("b", b"from b")
        with pytest.raises(ObjectExistsError):
            await st.move("a", "b", overwrite=False)
        assert await st.read("a") == b"from a"
        assert await st.read("b") == b"from b"

    async def test_move_onto_itself_is_a_no_op(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("same", b"content")
        await async_storage.move("same", "same")
        assert await async_storage.read("same") == b"content"

    # -- presigned URLs --------------------------------------------------------------------

    async def test_presigned_url(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("p/obj", b"shared bytes")
        if not self.supports_presigned_urls:
            with pytest.raises(NotSupportedError):
                await async_storage.presigned_url("p/obj")
            return
        url = await async_storage.presigned_url("p/obj", expires_in=60)
        assert url.startswith(("http://", "https://"))

        def fetch() -> bytes:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read()  # type: ignore[no-any-return]

        assert await asyncio.to_thread(fetch) == b"shared bytes"

    async def test_presigned_url_bad_method(self, async_storage: AsyncObjectStorage) -> None:
        await async_storage.write("p", b"x")
        with pytest.raises(NotSupportedError):
            await async_storage.presigned_url("p", method="DELETE")
