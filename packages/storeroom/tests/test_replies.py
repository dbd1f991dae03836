"""The I/O-free checks every backend runs on what its service answered."""

from __future__ import annotations

import traceback

import pytest

from storeroom.errors import InconsistentResponseError, ObjectExistsError, StorageError
from storeroom.replies import ListingOrder, RangeReply, note_leftover


class TestListingOrder:
    def test_increasing_utf8_keys_pass(self) -> None:
        order = ListingOrder("S3")
        keys = ["A", "a", "a-c", "a.b", "a/b", "a0", "\ue000", "\U0001f600"]  # UTF-8 byte order
        assert [order.check(k) for k in keys] == keys

    @pytest.mark.parametrize(
        ("first", "second", "how"),
        [
            ("a/b", "a-c", "after 'a/b'"),  # a directory walk's order
            ("b", "b", "twice"),
            ("\U0001f600", "\ue000", "after"),  # UTF-16 order puts the emoji first
        ],
    )
    def test_a_key_out_of_order_raises(self, first: str, second: str, how: str) -> None:
        order = ListingOrder("S3 at http://127.0.0.1:9")
        order.check(first)
        with pytest.raises(InconsistentResponseError, match=how) as info:
            order.check(second)
        assert isinstance(info.value, StorageError)
        assert info.value.key == second
        assert "S3 at http://127.0.0.1:9" in str(info.value)


class TestRangeReply:
    def test_header_is_inclusive(self) -> None:
        assert RangeReply("k", 0, 1, "S3").header == "bytes=0-0"
        assert RangeReply("k", 5, 10, "S3").header == "bytes=5-9"

    def test_exact_reply(self) -> None:
        reply = RangeReply("k", 2, 5, "S3")
        reply.check("bytes 2-4/10", 3)
        assert reply.total == 10
        assert reply.check_data(b"234") == b"234"

    def test_reply_clipped_at_the_end_of_the_object(self) -> None:
        reply = RangeReply("k", 7, 100, "S3")
        reply.check("bytes 7-9/10", 3)
        assert reply.check_data(b"789") == b"789"

    def test_an_object_ending_before_the_range_has_nothing_to_read(self) -> None:
        reply = RangeReply("k", 0, 10, "S3")
        assert reply.check("bytes 0-0/0", 1) == 0  # s3rver's answer for a zero-byte object: nothing to read
        assert reply.due == 0
        assert reply.check_data(b"") == b""

    def test_bytes_to_read(self) -> None:
        assert RangeReply("k", 2, 5, "S3").check("bytes 2-4/10", 3) == 3
        assert RangeReply("k", 0, 100, "S3").check(None, 10) == 10

    def test_whole_object_asked_for_may_come_as_a_plain_reply(self) -> None:
        reply = RangeReply("k", 0, 100, "S3")
        reply.check(None, 10)
        assert reply.check_data(b"0123456789") == b"0123456789"

    @pytest.mark.parametrize(
        ("start", "end", "content_range", "length", "fragment"),
        [
            (0, 1, "bytes 0-9/10", 10, "bytes 0-9"),  # s3rver's answer to bytes=0-0
            (3, 5, None, 10, "the whole object"),  # the Range header ignored
            (0, 5, None, 10, "the whole object"),
            (3, 5, "bytes 0-1/10", 2, "bytes 0-1"),
            (3, 5, "bytes 3-4/10", 5, "5 bytes"),
            (3, 5, "items 3-4/10", 2, "malformed"),
        ],
    )
    def test_wrong_replies_raise(
        self, start: int, end: int, content_range: str | None, length: int, fragment: str
    ) -> None:
        with pytest.raises(InconsistentResponseError, match=fragment) as info:
            RangeReply("k", start, end, "S3").check(content_range, length)
        assert info.value.key == "k"

    def test_short_data_raises(self) -> None:
        reply = RangeReply("k", 0, 4, "Azure")
        reply.check("bytes 0-3/10", None)
        with pytest.raises(InconsistentResponseError, match="3 bytes where 4 were due"):
            reply.check_data(b"012")

    def test_replies_checked_against_the_range_header_sent(self) -> None:
        reply = RangeReply("k", 3, 9, "Azure")
        assert reply.check_for("bytes=3-5", "bytes 3-5/10", 3) == 3
        assert reply.check_for("bytes=6-", "bytes 6-9/10", 4) == 4
        with pytest.raises(InconsistentResponseError, match="bytes 0-4"):
            reply.check_for("bytes=3-4", "bytes 0-4/10", 5)  # the SDK alone would return b"01234" for [3, 5)

    def test_sub_requests_are_checked_against_their_own_ranges(self) -> None:
        reply = RangeReply("k", 0, 10, "Azure")
        reply.check("bytes 0-3/10", 4, first=0, last=3)
        reply.check("bytes 4-9/10", 6, first=4, last=9)
        with pytest.raises(InconsistentResponseError):
            reply.check("bytes 0-9/10", 10, first=4, last=9)


class TestNoteLeftover:
    def test_a_storeroom_error_lists_it_and_its_traceback_says_it(self) -> None:
        error = StorageError("the connection failed")
        note_leftover(error, "the multipart upload 'u-1' of 'big.bin'")
        assert error.leftovers == ("the multipart upload 'u-1' of 'big.bin'",)
        text = "".join(traceback.format_exception(error))
        assert "left behind: the multipart upload 'u-1' of 'big.bin'" in text

    def test_the_callers_own_exception_keeps_its_identity(self) -> None:
        class SourceFailure(Exception):
            pass

        error = SourceFailure("boom")
        note_leftover(error, "3 uncommitted blocks of 'k'")
        assert type(error) is SourceFailure and error.args == ("boom",)
        assert error.__notes__ == ["left behind: 3 uncommitted blocks of 'k'"]

    def test_other_errors_do_not_share_the_list(self) -> None:
        first, second = ObjectExistsError("x"), ObjectExistsError("y")
        note_leftover(first, "a")
        assert first.leftovers == ("a",) and second.leftovers == ()
