"""Multi-row INSERT rendering (pure logic) and per-server session statements."""

from __future__ import annotations

import pymysql.converters
import pytest

from storeroom.errors import QueryError
from storeroom_mysql._bulk import PACKET_HEADROOM, MultiRowInsert
from storeroom_mysql._server import ServerFacts, statement_timeout_sql

HEAD = "INSERT INTO `t` (`a`, `b`) VALUES "


def literal(value: object) -> str:
    return str(pymysql.converters.escape_item(value, "utf8mb4"))


def _renderer(**kwargs: object) -> MultiRowInsert:
    options: dict[str, object] = {"encoding": "utf-8", "max_bytes": 1000, "max_rows": 100, **kwargs}
    return MultiRowInsert(HEAD, literal, **options)  # type: ignore[arg-type]


def test_rows_are_joined_into_one_statement() -> None:
    out = list(_renderer().statements([(1, "x"), (2, None), (3, "it's")]))
    assert out == [(HEAD + "(1,'x'),(2,NULL),(3,'it\\'s')", 3)]


def test_split_by_rows() -> None:
    out = list(_renderer(max_rows=2).statements([(i, "v") for i in range(5)]))
    assert [count for _, count in out] == [2, 2, 1]


def test_split_by_bytes_counts_encoded_bytes() -> None:
    rows = [(i, "\u00e9" * 100) for i in range(20)]  # 200 bytes of value each, 100 characters
    out = list(_renderer(max_bytes=1000).statements(rows))
    assert sum(count for _, count in out) == 20
    assert all(len(sql.encode()) <= 1000 for sql, _ in out)
    assert len(out) >= 20 * 200 // 1000


def test_a_row_above_the_cap_goes_alone() -> None:
    out = list(_renderer(max_bytes=200).statements([(1, "a"), (2, "b" * 500), (3, "c")]))
    assert [count for _, count in out] == [1, 1, 1]


def test_the_packet_caps_the_budget_and_refuses_an_impossible_row() -> None:
    renderer = _renderer(max_bytes=1_000_000, max_packet=PACKET_HEADROOM + 2000)
    assert renderer.max_bytes == (PACKET_HEADROOM + 2000) // 2
    with pytest.raises(QueryError, match=r"row #1 .*max_allowed_packet"):
        list(renderer.statements([(1, "ok"), (2, "x" * 5000)]))


def test_statement_timeout_per_server() -> None:
    maria = ServerFacts("10.11.19-MariaDB-0+deb12u1", 16 << 20, 28800)
    mysql = ServerFacts("8.0.36", 64 << 20, 28800)
    assert maria.flavour == "MariaDB" and mysql.flavour == "MySQL"
    assert statement_timeout_sql(maria, 2.5) == "SET SESSION max_statement_time = 2.500000"
    assert statement_timeout_sql(mysql, 2.5) == "SET SESSION max_execution_time = 2500"
    assert statement_timeout_sql(mysql, 0.0001) == "SET SESSION max_execution_time = 1"
