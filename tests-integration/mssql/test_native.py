"""What only SQL Server does, live: constraint names, the read-only guard, health facts,
isolation levels, fast executemany counts, batched streaming, paging and OUTPUT."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from storeroom.config.models import PoolSettings
from storeroom.errors import IntegrityError, QueryError, TransactionError
from storeroom.health import HealthStatus
from storeroom_mssql import AsyncMSSQLDatabase, MSSQLDatabase


def _insert(table: str) -> str:
    return f"INSERT INTO {table} (id, name, score, note) VALUES (:id, :name, :score, :note)"


def _row(i: int, **overrides: object) -> dict[str, object]:
    return {"id": i, "name": f"n{i}", "score": i, "note": None, **overrides}


# -- constraint violations carry names ---------------------------------------------------------------


def test_constraint_names_are_reported(db: MSSQLDatabase, table: str) -> None:
    db.execute(_insert(table), _row(1))
    with pytest.raises(IntegrityError) as unique_name:
        db.execute(_insert(table), _row(2, name="n1"))
    assert unique_name.value.constraint == f"{table}_name_uq"
    assert "n1" not in str(unique_name.value)  # the duplicate value is not repeated
    with pytest.raises(IntegrityError) as primary:
        db.execute(_insert(table), _row(1, name="other"))
    assert primary.value.constraint == f"{table}_pk"
    with pytest.raises(IntegrityError) as check:
        db.execute(_insert(table), _row(3, score=-1))
    assert check.value.constraint == f"{table}_score_ck"
    with pytest.raises(IntegrityError) as not_null:
        db.execute(_insert(table), _row(4, name=None))
    assert not_null.value.constraint is None and not_null.value.column == "name"


def test_foreign_key_name_is_reported(db: MSSQLDatabase, table: str) -> None:
    child = f"{table}_child"
    db.execute(
        f"CREATE TABLE {child} (id INT PRIMARY KEY, parent_id INT NOT NULL "
        f"CONSTRAINT {child}_fk REFERENCES {table} (id))"
    )
    try:
        with pytest.raises(IntegrityError) as caught:
            db.execute(f"INSERT INTO {child} (id, parent_id) VALUES (1, 99)")
        assert caught.value.constraint == f"{child}_fk"
    finally:
        db.execute(f"DROP TABLE {child}")


# -- read-only transactions ---------------------------------------------------------------------------


def test_read_only_refuses_writes_before_sending_them(db: MSSQLDatabase, table: str) -> None:
    db.execute(_insert(table), _row(1))
    with db.transaction(read_only=True, isolation_level="snapshot") as tx:
        assert tx.fetch_value(f"SELECT count(*) FROM {table}") == 1
        with tx.savepoint() as sp:  # savepoints pass the guard
            assert sp.fetch_all(f"SELECT id FROM {table} ORDER BY id OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY") == [
                {"id": 1}
            ]
        for write in (
            f"UPDATE {table} SET score = 2",
            f"SELECT * INTO {table}_copy FROM {table}",
            f"EXEC sp_rename '{table}', '{table}_renamed'",
        ):
            with pytest.raises(TransactionError, match="read-only"):
                tx.execute(write)
        with db.session() as session, pytest.raises(TransactionError, match="read-only"):
            session.execute(sa.text(f"DELETE FROM {table}"))
        assert tx.fetch_value(f"SELECT count(*) FROM {table}") == 1  # still usable
    assert db.execute(f"UPDATE {table} SET score = 5") == 1  # the connection went back writable
    assert db.fetch_value(f"SELECT score FROM {table}") == 5


@pytest.mark.asyncio
async def test_async_read_only_guard(mssql_test_url: str, db: MSSQLDatabase, table: str) -> None:
    db.execute(_insert(table), _row(1))
    async with AsyncMSSQLDatabase(mssql_test_url, name="main") as adb:
        with pytest.raises(TransactionError, match="read-only"):  # noqa: PT012 - raised inside the transaction
            async with adb.transaction(read_only=True) as tx:
                assert await tx.fetch_value(f"SELECT count(*) FROM {table}") == 1
                await tx.execute(f"DELETE FROM {table}")
        assert await adb.execute(f"DELETE FROM {table}") == 1


# -- isolation ------------------------------------------------------------------------------------------


def test_isolation_level_is_applied_and_reset(mssql_test_url: str) -> None:
    level_sql = "SELECT transaction_isolation_level FROM sys.dm_exec_sessions WHERE session_id = @@SPID"
    with MSSQLDatabase(mssql_test_url, name="main", pool=PoolSettings(size=1, max_overflow=0)) as db:
        with db.transaction(isolation_level="snapshot") as tx:
            assert tx.fetch_value(level_sql) == 5  # SNAPSHOT
        with db.transaction(isolation_level="serializable") as tx:
            assert tx.fetch_value(level_sql) == 4
        assert db.fetch_value(level_sql) == 2  # READ COMMITTED again on the same pooled connection


# -- health and versions ----------------------------------------------------------------------------------


def test_health_reports_server_facts(db: MSSQLDatabase) -> None:
    result = db.health_check()
    assert result.status is HealthStatus.HEALTHY
    details = result.details
    assert details["product_version"] == db.server_version()
    assert details["server_version"] == details["product_version"]
    assert details["version_banner"].startswith("Microsoft SQL Server")
    assert details["edition"]
    assert db.server_facts["product_version"] == details["product_version"]


@pytest.mark.asyncio
async def test_async_health_reports_server_facts(mssql_test_url: str) -> None:
    async with AsyncMSSQLDatabase(mssql_test_url, name="main") as adb:
        result = await adb.health_check()
        assert result.status is HealthStatus.HEALTHY
        assert result.details["version_banner"].startswith("Microsoft SQL Server")
        assert result.details["product_version"] == await adb.server_version()


# -- native paths ------------------------------------------------------------------------------------------


def test_execute_many_counts_with_fast_executemany(db: MSSQLDatabase, table: str) -> None:
    assert db.execute_many(_insert(table), [_row(i) for i in range(1, 1001)]) == 1000
    assert (
        db.execute_many(
            f"UPDATE {table} SET note = :note WHERE id >= :low AND id < :high",
            [
                {"note": "a", "low": 1, "high": 11},
                {"note": "b", "low": 5000, "high": 6000},
                {"note": "c", "low": 11, "high": 13},
            ],
        )
        == 12
    )
    assert db.execute_many(f"DELETE FROM {table} WHERE id = :id", [{"id": 1}, {"id": 1}, {"id": 2}]) == 2


def test_bulk_insert_from_a_generator_in_batches(db: MSSQLDatabase, table: str) -> None:
    count = db.bulk_batch_size * 2 + 7
    generated = ({"id": i, "name": f"g{i}", "score": None, "note": "x" * 200} for i in range(count))
    assert db.bulk_insert(table, generated) == count
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == count
    assert db.fetch_value(f"SELECT max(len(note)) FROM {table}") == 200


def test_stream_reads_batches_of_a_large_result(db: MSSQLDatabase, table: str) -> None:
    db.bulk_insert(table, ({"id": i, "name": f"s{i}"} for i in range(20_000)), columns=["id", "name"])
    seen = 0
    for row in db.stream(f"SELECT id, name FROM {table} ORDER BY id", batch_size=500):
        assert row["id"] == seen
        seen += 1
    assert seen == 20_000
    assert db.pool_info().checked_out == 0


@pytest.mark.asyncio
async def test_async_stream_and_bulk_insert(mssql_test_url: str, table: str) -> None:
    async with AsyncMSSQLDatabase(mssql_test_url, name="main") as adb:
        assert await adb.bulk_insert(table, ({"id": i, "name": f"a{i}"} for i in range(3000)), ["id", "name"]) == 3000
        ids = [row["id"] async for row in adb.stream(f"SELECT id FROM {table} ORDER BY id", batch_size=250)]
        assert ids == list(range(3000))
        assert await adb.execute_many(f"DELETE FROM {table} WHERE id = :id", [{"id": 1}, {"id": 2}, {"id": 1}]) == 2


def test_paging_and_output_inserted(db: MSSQLDatabase, table: str) -> None:
    db.bulk_insert(table, [_row(i) for i in range(1, 21)])
    page = db.fetch_all(
        f"SELECT id FROM {table} ORDER BY id OFFSET :skip ROWS FETCH NEXT :take ROWS ONLY", {"skip": 10, "take": 3}
    )
    assert page == [{"id": 11}, {"id": 12}, {"id": 13}]
    with db.transaction() as tx:
        created = tx.fetch_all(
            f"INSERT INTO {table} (id, name) OUTPUT inserted.id, inserted.name VALUES (:id, :name)",
            {"id": 99, "name": "out"},
        )
    assert created == [{"id": 99, "name": "out"}]
    with pytest.raises(QueryError):
        db.fetch_all(f"SELECT id FROM {table} OFFSET 1 ROWS")  # SQL Server wants ORDER BY for OFFSET


def test_transactional_ddl_rolls_back(db: MSSQLDatabase) -> None:
    assert MSSQLDatabase.transactional_ddl is True
    name = f"ddl_{uuid.uuid4().hex[:12]}"
    with pytest.raises(RuntimeError), db.transaction() as tx:  # noqa: PT012
        tx.execute(f"CREATE TABLE {name}_x (id INT)")
        raise RuntimeError
    assert db.fetch_value(f"SELECT OBJECT_ID(N'{name}_x')") is None
