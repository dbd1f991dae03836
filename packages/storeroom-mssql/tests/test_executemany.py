"""executemany with a true row count and batched fetching, on a real engine (sqlite stands in for the wiring only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storeroom_mssql._executemany import install_executemany, is_single_row_insert
from storeroom_mssql._fetch import install_fetch_batches


@pytest.mark.parametrize(
    ("sql", "single"),
    [
        ("INSERT INTO t (id, name) VALUES (?, ?)", True),
        ("insert into [dbo].[t] ([id], [order]) values (?, ?);", True),
        ("INSERT t VALUES (?)", True),
        ("INSERT INTO t (id) VALUES (?), (?)", False),  # two rows per parameter set
        ("INSERT INTO t (id, at) VALUES (?, GETDATE())", False),  # nested parentheses: not guessed
        ("INSERT INTO t (id) OUTPUT inserted.id VALUES (?)", False),
        ("INSERT INTO t (id) SELECT id FROM s WHERE id > ?", False),
        ("UPDATE t SET name = ? WHERE id = ?", False),
        ("DELETE FROM t WHERE id = ?", False),
    ],
)
def test_single_row_insert_detection(sql: str, single: bool) -> None:
    assert is_single_row_insert(sql) is single


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = sa.create_engine("sqlite://")
    # sqlite3 cursors have no fast_executemany switch; the counting is what is under test
    install_executemany(engine, fast=False)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, score INTEGER)")
    yield engine
    engine.dispose()


def test_counts_are_true_for_inserts_updates_and_deletes(engine: Engine) -> None:
    later: list[str] = []
    # listeners after ours never run: the handler executed the statement and said so
    sa.event.listen(engine, "do_executemany", lambda cursor, statement, *_: later.append(statement))
    with engine.begin() as conn:
        inserted = conn.execute(
            sa.text("INSERT INTO t (id, score) VALUES (:id, :s)"), [{"id": i, "s": 0} for i in range(1, 11)]
        )
        assert inserted.rowcount == 10
        updated = conn.execute(
            sa.text("UPDATE t SET score = :s WHERE id = :id"),
            [{"id": 1, "s": 5}, {"id": 2, "s": 5}, {"id": 42, "s": 5}],
        )
        assert updated.rowcount == 2
        deleted = conn.execute(sa.text("DELETE FROM t WHERE id <= :id"), [{"id": 3}, {"id": 5}])
        assert deleted.rowcount == 5
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 5
    assert later == []


def test_failure_propagates_and_rolls_back(engine: Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t (id, score) VALUES (:id, 0)"), [{"id": 1}, {"id": 1}])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0


def test_stream_batches_follow_yield_per() -> None:
    engine = sa.create_engine("sqlite://")  # like pyodbc: no server-side cursors
    install_fetch_batches(engine)
    sql = sa.text("WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x WHERE n < 10) SELECT n FROM x")
    try:
        with engine.connect() as conn:
            result = conn.execute(sql, execution_options={"stream_results": True, "yield_per": 3})
            assert [len(part) for part in result.partitions()] == [3, 3, 3, 1]
            plain = conn.execute(sql)  # other statements keep the driver's default
            assert plain.cursor.arraysize == 1
            plain.close()
    finally:
        engine.dispose()
