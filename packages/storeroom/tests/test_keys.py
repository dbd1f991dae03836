import pytest

from storeroom.errors import InvalidKeyError, InvalidMetadataError
from storeroom.keys import MAX_KEY_BYTES, validate_key, validate_metadata, validate_prefix


@pytest.mark.parametrize(
    "key",
    ["a", "a/b/c.txt", "ünïcødé/文件.pdf", "a b/c", "x" * MAX_KEY_BYTES, "a..b", ".hidden", "a/.b", "é" * 512],
)
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("", "empty"),
        ("../x", "'..' segment"),
        ("a/../../x", "'..' segment"),
        ("a/./b", "'.' segment"),
        ("/abs", "starts with '/'"),
        ("a\\b", "backslash"),
        ("a\x00b", "control character"),
        ("a\nb", "control character"),
        ("a\x7fb", "control character"),
        ("x" * (MAX_KEY_BYTES + 1), "longer than 1024"),
        ("é" * 513, "longer than 1024"),
        ("a//b", "empty segment"),
        ("a/", "empty segment"),
        ("\udc80", "surrogate"),
    ],
)
def test_invalid_keys(key: str, fragment: str) -> None:
    with pytest.raises(InvalidKeyError, match=fragment) as info:
        validate_key(key)
    assert isinstance(info.value, ValueError)


def test_non_string_key() -> None:
    with pytest.raises(InvalidKeyError, match="must be a str"):
        validate_key(b"abc")  # type: ignore[arg-type]


def test_prefix_rules() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("docs/") == "docs/"
    assert validate_prefix("docs") == "docs"
    for bad in ("../", "/a", "a//", "a\\"):
        with pytest.raises(InvalidKeyError):
            validate_prefix(bad)


def test_metadata_normalised_lowercase_unicode_values() -> None:
    assert validate_metadata({"Author": "Zoë 🙂", "x_y": "1", "content-kind": "a"}) == {
        "author": "Zoë 🙂",
        "x_y": "1",
        "content-kind": "a",
    }
    assert validate_metadata(None) == {}


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ({"naïve": "x"}, "ASCII token"),
        ({"has space": "x"}, "ASCII token"),
        ({"": "x"}, "ASCII token"),
        ({"-lead": "x"}, "ASCII token"),
        ({"a": "x", "A": "y"}, "given twice"),
        ({"a": 1}, "must be str"),
        ({"big": "x" * 2048}, "limit is 2048"),
        ({"k" * 129: "x"}, "longer than 128"),
    ],
)
def test_invalid_metadata(metadata: dict, fragment: str) -> None:
    with pytest.raises(InvalidMetadataError, match=fragment):
        validate_metadata(metadata)


def test_metadata_limit_counts_utf8_bytes() -> None:
    # 1000 two-byte characters = 2000 bytes + name: under; 1100 = 2200: over.
    validate_metadata({"n": "é" * 1000})
    with pytest.raises(InvalidMetadataError):
        validate_metadata({"n": "é" * 1100})
