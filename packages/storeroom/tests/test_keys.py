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
        ("a\x80b", r"control character .*U\+0080"),
        ("a\x9fb", r"control character .*U\+009F"),
        ("a\ufdd0", r"noncharacter U\+FDD0"),
        ("a\ufdef", r"noncharacter U\+FDEF"),
        ("a\ufffe", r"noncharacter U\+FFFE"),
        ("a\uffff", r"noncharacter U\+FFFF"),
        ("a\U0001fffe", r"noncharacter U\+1FFFE"),
        ("a\U0010ffff", r"noncharacter U\+10FFFF"),
        ("invoice\u202egpj.exe", r"bidirectional formatting character U\+202E"),
        ("a\u202ab", r"bidirectional formatting character U\+202A"),
        ("a\u2066b", r"bidirectional formatting character U\+2066"),
        ("a\u2069b", r"bidirectional formatting character U\+2069"),
    ],
)
def test_invalid_keys(key: str, fragment: str) -> None:
    with pytest.raises(InvalidKeyError, match=fragment) as info:
        validate_key(key)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "key",
    [
        "a\xa0b",  # NO-BREAK SPACE: just past the C1 controls
        "a\ufdcf\ufdf0",  # either side of the noncharacter block
        "a\ufffd",  # REPLACEMENT CHARACTER, just before U+FFFE
        "\ue000\uf8ff",  # private use
        "a\U0001fffd\U00020000",  # either side of U+1FFFE
        "a\u2029\u202f\u2065\u206a",  # either side of the bidi controls
        "\u200f\u200e",  # RLM/LRM marks are ordinary text in names
    ],
)
def test_characters_next_to_the_excluded_ranges_are_valid(key: str) -> None:
    assert validate_key(key) == key


def test_non_string_key() -> None:
    with pytest.raises(InvalidKeyError, match="must be a str"):
        validate_key(b"abc")  # type: ignore[arg-type]


def test_prefix_rules() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("docs/") == "docs/"
    assert validate_prefix("docs") == "docs"
    for bad in ("../", "/a", "a//", "a\\", "a\ufffe/", "\u202e/", "\x85"):
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
