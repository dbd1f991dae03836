"""Driver errors become storeroom errors: constraint names, retryable conflicts, timeouts, bad input."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from storeroom.errors import ConfigurationError, IntegrityError, QueryError, TransactionError
from storeroom.room import Storeroom
from storeroom_postgres import AsyncPostgresDatabase, PostgresDatabase


def test_constraint_names(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    parent = make_table("(id int CONSTRAINT parent_pk PRIMARY KEY)")
    child = make_table(
        f"(id int PRIMARY KEY, parent int CONSTRAINT child_parent_fk REFERENCES {parent}(id),"
        " code text NOT NULL CONSTRAINT child_code_uq UNIQUE, n int CONSTRAINT child_n_ck CHECK (n >= 0),"
        " span int4range, CONSTRAINT child_span_ex EXCLUDE USING gist (span WITH &&))"
    )
    db.execute(f"INSERT INTO {parent} (id) VALUES (1)")
    insert = f"INSERT INTO {child} (id, parent, code, n, span) VALUES (:id, :parent, :code, :n, int4range(:lo, :hi))"
    db.execute(insert, {"id": 1, "parent": 1, "code": "a", "n": 0, "lo": 0, "hi": 10})
    cases = {
        "child_parent_fk": {"id": 2, "parent": 99, "code": "b", "n": 0, "lo": 20, "hi": 30},
        "child_code_uq": {"id": 2, "parent": 1, "code": "a", "n": 0, "lo": 20, "hi": 30},
        "child_n_ck": {"id": 2, "parent": 1, "code": "b", "n": -1, "lo": 20, "hi": 30},
        "child_span_ex": {"id": 2, "parent": 1, "code": "b", "n": 0, "lo": 5, "hi": 30},
        f"{child}_pkey": {"id": 1, "parent": 1, "code": "b", "n": 0, "lo": 20, "hi": 30},
    }
    for constraint, params in cases.items():
        with pytest.raises(IntegrityError) as caught:
            db.execute(insert, params)
        assert caught.value.constraint == constraint, str(caught.value)
        assert caught.value.sqlstate.startswith("23")  # type: ignore[attr-defined]
        assert caught.value.statement == insert
        assert caught.value.__cause__ is not None
    with pytest.raises(IntegrityError) as caught:
        db.execute(insert, {"id": 3, "parent": 1, "code": None, "n": 0, "lo": 40, "hi": 50})
    assert "null value" in str(caught.value)


def test_secret_parameter_never_appears_in_errors(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY, n int)")
    secret = "Secret-" + uuid.uuid4().hex
    for call in (db.execute, db.fetch_all, db.fetch_one):
        with pytest.raises(QueryError) as caught:
            call(f"SELECT * FROM {table} WHERE n = CAST(:n AS int)", {"n": secret})
        shown = f"{caught.value} {caught.value!r}"  # the chained driver error is the server's own text
        assert secret not in shown, shown
        assert caught.value.statement == f"SELECT * FROM {table} WHERE n = CAST(:n AS int)"
    with pytest.raises(QueryError) as caught:
        db.execute_many(f"INSERT INTO {table} (id, n) VALUES (:id, :n)", [{"id": 1, "n": 1}, {"id": 2, "n": secret}])
    assert secret not in f"{caught.value} {caught.value!r}"
    assert db.fetch_value(f"SELECT count(*) FROM {table}") == 0


def test_wrong_parameter_names(db: PostgresDatabase) -> None:
    with pytest.raises(QueryError, match="missing parameter ':wanted'"):
        db.fetch_value("SELECT CAST(:wanted AS int)", {"wantd": 1})
    with pytest.raises(QueryError, match="unknown parameter 'extra'"):
        db.fetch_value("SELECT 1", {"extra": 1})


def test_statement_timeout_is_a_query_error_saying_so(postgres_url: str) -> None:
    with PostgresDatabase(postgres_url, statement_timeout=0.2) as db:
        with pytest.raises(QueryError, match="timed out") as caught:
            db.fetch_value("SELECT pg_sleep(5)")
        assert caught.value.timeout is True  # type: ignore[attr-defined]
        assert caught.value.statement == "SELECT pg_sleep(5)"
        assert db.fetch_value("SHOW statement_timeout") == "200ms"  # applied to every connection
        assert db.fetch_value("SELECT 1") == 1


@pytest.mark.asyncio
async def test_async_statement_timeout(postgres_url: str) -> None:
    async with AsyncPostgresDatabase(postgres_url, statement_timeout=0.2) as adb:
        with pytest.raises(QueryError, match="timed out"):
            await adb.execute("SELECT pg_sleep(5)")
        assert await adb.fetch_value("SHOW statement_timeout") == "200ms"
        assert await adb.fetch_value("SHOW application_name") == "storeroom"


def test_deadlock_is_a_retryable_transaction_error(postgres_url: str, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY, n int)")
    with PostgresDatabase(postgres_url, name="dl") as db:
        db.execute_many(f"INSERT INTO {table} (id, n) VALUES (:id, 0)", [{"id": 1}, {"id": 2}])
        both_locked = threading.Barrier(2, timeout=30)
        outcomes: list[BaseException | None] = []

        def worker(first: int, second: int) -> None:
            try:
                with db.transaction() as tx:
                    tx.execute(f"UPDATE {table} SET n = n + 1 WHERE id = :id", {"id": first})
                    both_locked.wait()
                    tx.execute(f"UPDATE {table} SET n = n + 1 WHERE id = :id", {"id": second})
                outcomes.append(None)
            except BaseException as exc:  # noqa: BLE001 - inspected below
                outcomes.append(exc)

        threads = [threading.Thread(target=worker, args=(1, 2)), threading.Thread(target=worker, args=(2, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        errors = [e for e in outcomes if e is not None]
        assert len(outcomes) == 2 and len(errors) == 1, outcomes
        error = errors[0]
        assert isinstance(error, TransactionError) and error.retryable, repr(error)
        assert "deadlock" in str(error) and error.sqlstate == "40P01"  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_serialization_failure_is_retryable(postgres_url: str, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY, n int)")
    async with (
        AsyncPostgresDatabase(postgres_url, name="a") as first,
        AsyncPostgresDatabase(postgres_url, name="b") as second,
    ):
        await first.execute(f"INSERT INTO {table} (id, n) VALUES (1, 0)")
        read = asyncio.Event()
        written = asyncio.Event()

        async def reader() -> None:
            async with first.transaction(isolation_level="repeatable read") as tx:
                assert await tx.fetch_value(f"SELECT n FROM {table} WHERE id = 1") == 0
                read.set()
                await written.wait()
                await tx.execute(f"UPDATE {table} SET n = n + 10 WHERE id = 1")

        async def writer() -> None:
            await read.wait()
            await second.execute(f"UPDATE {table} SET n = n + 1 WHERE id = 1")
            written.set()

        results = await asyncio.gather(reader(), writer(), return_exceptions=True)
        error = results[0]
        assert isinstance(error, TransactionError) and error.retryable, repr(error)
        assert error.sqlstate == "40001"  # type: ignore[attr-defined]
        assert results[1] is None
        assert await first.fetch_value(f"SELECT n FROM {table} WHERE id = 1") == 1


def test_isolation_levels_and_read_only(db: PostgresDatabase, make_table: Callable[..., str]) -> None:
    table = make_table("(id int PRIMARY KEY)")
    for level, shown in [
        ("read committed", "read committed"),
        ("REPEATABLE_READ", "repeatable read"),
        ("serializable", "serializable"),
    ]:
        with db.transaction(isolation_level=level) as tx:
            assert tx.fetch_value("SHOW transaction_isolation") == shown
    with db.transaction(read_only=True) as tx:
        assert tx.fetch_value("SHOW transaction_read_only") == "on"
        with pytest.raises(QueryError, match="read-only"), tx.savepoint() as sp:
            sp.execute(f"INSERT INTO {table} (id) VALUES (1)")
    assert db.fetch_value("SHOW transaction_read_only") == "off"
    assert db.fetch_value("SHOW transaction_isolation") == "read committed"  # reset on return


def test_unknown_named_connection(postgres_url: str) -> None:
    settings: dict[str, Any] = {
        "databases": {
            "app": {"backend": "postgres", "url": postgres_url, "default": True},
            "reports": {"backend": "postgres", "url": postgres_url},
        }
    }
    with Storeroom.from_settings(settings, embedded_default=False) as room:
        with pytest.raises(ConfigurationError, match="no database named 'replica'") as caught:
            room.database("replica")
        assert "app, reports" in str(caught.value)
        assert room.database().fetch_value("SELECT 1") == 1
        with room.database("app").transaction(), pytest.raises(TransactionError):
            room.database("reports").fetch_value("SELECT 1")
