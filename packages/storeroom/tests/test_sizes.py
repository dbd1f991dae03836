import pytest

from storeroom.errors import ConfigurationError
from storeroom.sizes import format_size, parse_size


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1024, 1024),
        ("2 MiB", 2 * 1024**2),
        ("2MiB", 2 * 1024**2),
        ("500kb", 500_000),
        ("1.5 KiB", 1536),
        ("1 GB", 10**9),
        ("7", 7),
        ("3 b", 3),
    ],
)
def test_parse(value: int | str, expected: int) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["two MiB", "2 XB", "-1", -5, True, ""])
def test_parse_rejects(value: object) -> None:
    with pytest.raises(ConfigurationError, match=r"policies.x.max_size"):
        parse_size(value, key="policies.x.max_size")  # type: ignore[arg-type]


def test_format() -> None:
    assert format_size(2 * 1024**2) == "2 MiB"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(12) == "12 B"
