"""Range and validator parsing (RFC 9110), without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storeroom.errors import InvalidRangeError
from storeroom_fastapi.ranges import (
    MAX_RANGES,
    ByteRange,
    if_range_holds,
    matches_if_none_match,
    modified_since,
    multipart_plan,
    parse_range,
    quoted_etag,
)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-499", 1000, [(0, 500)]),
        ("bytes=500-999", 1000, [(500, 1000)]),
        ("bytes=500-", 1000, [(500, 1000)]),
        ("bytes=-200", 1000, [(800, 1000)]),
        ("bytes=-5000", 1000, [(0, 1000)]),  # a suffix longer than the object: all of it
        ("bytes=0-99999", 1000, [(0, 1000)]),  # clipped to the end
        ("bytes=0-0", 1, [(0, 1)]),
        ("Bytes = 1-2", 10, [(1, 3)]),  # the unit is case-insensitive
        ("bytes=0-1, 5-6", 10, [(0, 2), (5, 7)]),
        ("bytes=5-6,0-1", 10, [(0, 2), (5, 7)]),  # ascending after coalescing
        ("bytes=0-4,3-8", 10, [(0, 9)]),  # overlapping: merged
        ("bytes=0-4,5-8", 10, [(0, 9)]),  # touching: merged
        ("bytes=0-1,,4-5", 10, [(0, 2), (4, 6)]),  # empty list elements are allowed
        ("bytes=0-1,100-200", 10, [(0, 2)]),  # the unsatisfiable one is dropped
        ("bytes=0-99999999999999999999999", 10, [(0, 10)]),
    ],
)
def test_satisfiable_ranges(header: str, size: int, expected: list[tuple[int, int]]) -> None:
    assert parse_range(header, size) == [ByteRange(a, b) for a, b in expected]


@pytest.mark.parametrize("header", [None, "items=0-5", "0-5", "none"])
def test_no_range_or_another_unit_sends_everything(header: str | None) -> None:
    assert parse_range(header, 100) is None


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", 100),  # starts at the end
        ("bytes=200-300", 100),
        ("bytes=-0", 100),
        ("bytes=0-", 0),  # an empty object has no satisfiable byte range
        ("bytes=-5", 0),
        ("bytes=abc", 100),
        ("bytes=5-2", 100),  # ends before it starts
        ("bytes=-", 100),
        ("bytes=1-2-3", 100),
        ("bytes=", 100),
        ("bytes=+1-2", 100),
    ],
)
def test_bad_or_unsatisfiable_ranges_are_416_with_the_size(header: str, size: int) -> None:
    with pytest.raises(InvalidRangeError) as caught:
        parse_range(header, size)
    assert caught.value.size == size  # type: ignore[attr-defined]


def test_too_many_separate_ranges_are_refused() -> None:
    header = "bytes=" + ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(MAX_RANGES + 1))
    with pytest.raises(InvalidRangeError):
        parse_range(header, 10_000)
    header = "bytes=" + ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(MAX_RANGES))
    assert len(parse_range(header, 10_000) or []) == MAX_RANGES


def test_multipart_plan_counts_every_byte() -> None:
    ranges = [ByteRange(0, 2), ByteRange(5, 7)]
    plan = multipart_plan(ranges, 10, "text/plain", "XYZ")
    body = b"".join(head + b"d" * r.length for head, r in plan.parts) + plan.tail
    assert len(body) == plan.length
    assert plan.content_type == "multipart/byteranges; boundary=XYZ"
    assert b"Content-Range: bytes 5-6/10" in body
    assert body.endswith(b"\r\n--XYZ--\r\n")


@pytest.mark.parametrize(
    ("etag", "expected"),
    [
        ("abc-1", '"abc-1"'),
        ('"0x8D9"', '"0x8D9"'),  # already quoted (Azure)
        ('W/"x"', '"x"'),
        (None, None),
        ("", None),
    ],
)
def test_storage_etags_become_strong_entity_tags(etag: str | None, expected: str | None) -> None:
    assert quoted_etag(etag) == expected


def test_an_etag_an_entity_tag_cannot_hold_is_digested() -> None:
    tag = quoted_etag("has space")
    assert tag is not None and tag.startswith('"') and " " not in tag
    assert tag == quoted_etag("has space") != quoted_etag("has  space")


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),  # If-None-Match compares weakly
        ('"x", "abc"', True),
        ('"x","y"', False),
        ("*", True),
        ('"a,bc"', False),
        ("garbage", False),
    ],
)
def test_if_none_match(header: str, matches: bool) -> None:
    assert matches_if_none_match(header, '"abc"') is matches


def test_if_range_needs_a_strong_exact_validator() -> None:
    when = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert if_range_holds('"abc"', '"abc"', when)
    assert not if_range_holds('W/"abc"', '"abc"', when)
    assert not if_range_holds('"abd"', '"abc"', when)
    assert if_range_holds("Fri, 01 May 2026 12:00:00 GMT", '"abc"', when)
    assert not if_range_holds("Fri, 01 May 2026 11:59:59 GMT", '"abc"', when)
    assert not if_range_holds("not a date", '"abc"', when)


def test_if_modified_since() -> None:
    when = datetime(2026, 5, 1, 12, 0, 0, 500_000, tzinfo=UTC)
    assert not modified_since("Fri, 01 May 2026 12:00:00 GMT", when)  # second precision
    assert modified_since("Fri, 01 May 2026 11:00:00 GMT", when)
    assert modified_since("garbage", when)
    assert modified_since("Fri, 01 May 2026 12:00:00 GMT", None)


def test_http_dates_are_gmt_whatever_the_time_zone() -> None:
    from datetime import timedelta, timezone

    from storeroom_fastapi.ranges import http_date

    when = datetime(2026, 5, 1, 14, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=2)))
    assert http_date(when) == "Fri, 01 May 2026 12:00:00 GMT"
    assert http_date(datetime(2026, 5, 1, 12, 0, 0)) == "Fri, 01 May 2026 12:00:00 GMT"  # naive: UTC
    assert not modified_since("Fri, 01 May 2026 12:00:00 GMT", when)
