"""Filters, orderings and page cursors: pure values, checked before any SQL."""

from __future__ import annotations

import pytest

from storeroom.errors import QueryError
from storeroom_orm import F, OrderBy
from storeroom_orm.cursor import decode_cursor, encode_cursor
from storeroom_orm.filters import Condition, parse_order, where_dict


def test_filters_combine_and_know_their_shape() -> None:
    node = (F.price > 10) & ((F.status == "draft") | ~F.title.icontains("q"))
    assert node.shape() == ("and", ("price", "gt"), ("or", ("status", "eq"), ("not", ("title", "icontains"))))
    assert list(node.values()) == [("price", "gt", 10), ("status", "eq", "draft"), ("title", "icontains", "q")]
    assert sorted(node.fields()) == ["price", "status", "title"]
    assert F.tags.in_(["a", "b"]).shape() == ("tags", "in", 2)
    assert F["order"].between(1, 2).shape() == ("order", "between")
    with pytest.raises(TypeError, match="truth value"):
        bool(F.a == 1)
    with pytest.raises(QueryError, match="list of values"):
        F.a.in_("abc")
    assert isinstance(F.note == None, Condition) and (F.note == None).op == "is_null"  # noqa: E711


def test_orderings_and_where() -> None:
    assert parse_order("-created_at") == (OrderBy("created_at", True),)
    assert parse_order(["title", F.price.desc(), F.qty]) == (OrderBy("title"), OrderBy("price", True), OrderBy("qty"))
    with pytest.raises(QueryError):
        parse_order("-")
    assert [c.shape() for c in where_dict({"a": 1, "b": None})] == [("a", "eq"), ("b", "is_null", True)]
    with pytest.raises(QueryError, match="mapping"):
        where_dict([("a", 1)])  # type: ignore[arg-type]


def test_cursors_round_trip_and_refuse_tampering() -> None:
    order = (OrderBy("title"), OrderBy("qty", True))
    cursor = encode_cursor(order, ["größe", 3], "0190a6b2-0000-7000-8000-000000000000")
    assert decode_cursor(cursor, order) == (["größe", 3], "0190a6b2-0000-7000-8000-000000000000")
    with pytest.raises(QueryError, match="another order_by"):
        decode_cursor(cursor, (OrderBy("title"),))
    for bad in ("", "!!!", cursor[:-4], "e30", "x" * 9000):
        with pytest.raises(QueryError, match="cursor"):
            decode_cursor(bad, order)
