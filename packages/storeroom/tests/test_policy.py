from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator

import pytest

from storeroom import StoragePolicy, StoredObjectRef
from storeroom.adapters import AsyncStorageFromSync
from storeroom.errors import ContentTooLargeError, ContentTypeNotAllowedError, InvalidKeyError
from storeroom.testing import MemoryObjectStorage


@pytest.fixture
def store() -> MemoryObjectStorage:
    s = MemoryObjectStorage()
    s.name = "files"
    return s


@pytest.fixture
def policy(store: MemoryObjectStorage) -> StoragePolicy:
    return StoragePolicy(
        "avatars", store, "avatars/", 1024, ["image/png", "image/jpeg"], async_storage=AsyncStorageFromSync(store)
    )


def test_put_bytes_generates_unique_key_and_ref(policy: StoragePolicy, store: MemoryObjectStorage) -> None:
    ref = policy.put(b"\x89PNG data", filename="Me.PNG")
    assert ref.storage == "files"
    assert ref.key.startswith("avatars/") and ref.key.endswith(".png")
    assert ref.size == 9 and ref.content_type == "image/png" and ref.filename == "Me.PNG"
    assert ref.checksum == "sha256:" + __import__("hashlib").sha256(b"\x89PNG data").hexdigest()
    assert store.read(ref.key) == b"\x89PNG data"
    assert store.stat(ref.key).content_type == "image/png"
    other = policy.put(b"x", filename="me.png")
    assert other.key != ref.key


def test_ref_round_trips_through_json(policy: StoragePolicy) -> None:
    ref = policy.put(b"abc", content_type="image/jpeg")
    again = StoredObjectRef.model_validate(json.loads(ref.model_dump_json()))
    assert again == ref


def test_streamed_oversize_stores_nothing(policy: StoragePolicy, store: MemoryObjectStorage) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 200

    with pytest.raises(ContentTooLargeError):
        policy.put(chunks(), content_type="image/png")
    assert store.list_keys() == []


def test_known_oversize_rejected_before_reading(policy: StoragePolicy, store: MemoryObjectStorage) -> None:
    f = io.BytesIO(b"x" * 5000)
    with pytest.raises(ContentTooLargeError):
        policy.put(f, content_type="image/png")
    assert f.tell() == 0 and store.list_keys() == []


def test_content_type_outside_policy(policy: StoragePolicy, store: MemoryObjectStorage) -> None:
    with pytest.raises(ContentTypeNotAllowedError, match="application/pdf"):
        policy.put(b"%PDF", filename="cv.pdf")
    with pytest.raises(ContentTypeNotAllowedError, match="application/octet-stream"):
        policy.put(b"??")  # no type, no filename: octet-stream is not allowed here
    assert store.list_keys() == []


def test_wildcard_and_parameters(store: MemoryObjectStorage) -> None:
    p = StoragePolicy("imgs", store, "", None, ["image/*"])
    assert p.put(b"x", content_type="image/webp; q=1").content_type == "image/webp; q=1"
    with pytest.raises(ContentTypeNotAllowedError):
        p.put(b"x", content_type="text/plain")


def test_explicit_key_is_relative_to_prefix_and_overwrites(policy: StoragePolicy, store: MemoryObjectStorage) -> None:
    ref = policy.put(b"1", key="users/7.png")
    assert ref.key == "avatars/users/7.png"
    policy.put(b"2", key="users/7.png")
    assert store.read("avatars/users/7.png") == b"2"
    with pytest.raises(InvalidKeyError):
        policy.put(b"1", key="../escape.png")


def test_prefix_must_end_with_slash(store: MemoryObjectStorage) -> None:
    with pytest.raises(InvalidKeyError, match="must end with '/'"):
        StoragePolicy("bad", store, "avatars")


def test_unsafe_extension_dropped(policy: StoragePolicy) -> None:
    ref = policy.put(b"x", filename="evil.png/../../x", content_type="image/png")
    assert ref.key.count("/") == 3  # avatars/yyyy/mm/<uuid>
    assert ".." not in ref.key


@pytest.mark.asyncio
async def test_aput_streams_async_source(policy: StoragePolicy, store: MemoryObjectStorage) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"ab"
        yield b"cd"

    ref = await policy.aput(chunks(), filename="a.jpg")
    assert ref.size == 4 and store.read(ref.key) == b"abcd"

    async def big() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 300

    with pytest.raises(ContentTooLargeError):
        await policy.aput(big(), filename="b.jpg")
    assert store.list_keys() == [ref.key]
