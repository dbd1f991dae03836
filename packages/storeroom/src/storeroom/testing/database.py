"""Conformance suites every database backend must pass, sync and async.

Subclass a suite in your plugin's tests, name the subclass ``Test...`` so pytest
collects it, and override its one fixture with a fresh, connected database::

    class TestMyDatabase(DatabaseConformance):
        @pytest.fixture
        def database(self, tmp_path):
            with MyDatabase(...) as db:
                yield db


    class TestMyAsyncDatabase(AsyncDatabaseConformance):
        @pytest_asyncio.fixture
        async def async_database(self, tmp_path):
            async with MyAsyncDatabase(...) as db:
                yield db

The tests use portable SQL only (INTEGER / VARCHAR columns, no LIMIT, explicit
keys). Each test that needs a table gets its own, with a unique name, dropped
afterwards, so the suite also runs against a shared server database.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from storeroom.database import (
    AmbientTransaction,
    AsyncDatabaseInterface,
    AsyncTransaction,
    DatabaseInterface,
    Transaction,
    current_owner,
    reset_ambient,
    set_ambient,
)
from storeroom.errors import (
    ConfigurationError,
    DatabaseError,
    IntegrityError,
    QueryError,
    StoreroomError,
    TransactionError,
)
from storeroom.health import HealthStatus
from storeroom.pool import PoolInfo

__all__ = ["AsyncDatabaseConformance", "DatabaseConformance", "create_table_sql", "unique_table_name"]

#: rows used by the bulk-insert test: more than one generic batch (5000)
BULK_ROWS = 5_500


class Boom(Exception):
    """Raised by tests to abort a transaction; must come out unchanged."""


def unique_table_name(prefix: str = "sr") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def create_table_sql(table: str) -> str:
    """Portable DDL: an explicit integer key, a unique NOT NULL name, two nullable columns."""
    return (
        f"CREATE TABLE {table} ("
        "id INTEGER NOT NULL PRIMARY KEY, "
        "name VARCHAR(100) NOT NULL, "
        "score INTEGER, "
        "note VARCHAR(200), "
        f"CONSTRAINT {table}_name_uq UNIQUE (name))"
    )


def _rows(n: int, start: int = 1) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"name-{i}", "score": i * 10, "note": None} for i in range(start, start + n)]


def _insert_sql(table: str) -> str:
    return f"INSERT INTO {table} (id, name, score, note) VALUES (:id, :name, :score, :note)"


def _password(db: Any) -> str | None:
    url = getattr(getattr(db, "engine", None), "url", None)
    password = getattr(url, "password", None)
    return str(password) if password else None


def _join_or_error(worker: threading.Thread, timeout: float) -> None:
    worker.join(timeout)
    assert not worker.is_alive(), "the worker thread never finished"


# =========================================================================================
# sync
# =========================================================================================


class DatabaseConformance:
    """The contract of :class:`storeroom.DatabaseInterface`; override the ``database`` fixture."""

    @pytest.fixture
    def database(self) -> DatabaseInterface:
        """A fresh, connected database (closed afterwards). Subclasses must override this fixture."""
        raise NotImplementedError(f"{type(self).__name__} must override the 'database' fixture")

    @pytest.fixture
    def table(self, database: DatabaseInterface) -> Iterator[str]:
        name = unique_table_name()
        database.execute(create_table_sql(name))
        yield name
        if not getattr(database, "closed", False):
            with contextlib.suppress(StoreroomError):
                database.execute(f"DROP TABLE {name}")

    def _fill(self, db: DatabaseInterface, table: str, n: int = 3) -> list[dict[str, Any]]:
        rows = _rows(n)
        assert db.execute_many(_insert_sql(table), rows) == n
        return rows

    def _ids(self, db: DatabaseInterface, table: str) -> list[int]:
        return [r["id"] for r in db.fetch_all(f"SELECT id FROM {table} ORDER BY id")]

    # -- identity ------------------------------------------------------------------------

    def test_declares_plugin_name(self, database: DatabaseInterface) -> None:
        assert isinstance(database.PLUGIN_NAME, str) and database.PLUGIN_NAME
        assert isinstance(type(database).transactional_ddl, bool)

    def test_exposes_engine_and_server_version(self, database: DatabaseInterface) -> None:
        assert database.engine is not None
        version = database.server_version()
        assert isinstance(version, str) and version

    def test_context_manager_returns_database(self, database: DatabaseInterface) -> None:
        with database as db:
            assert db is database

    # -- fetch ---------------------------------------------------------------------------

    def test_fetch_all_returns_plain_dicts(self, database: DatabaseInterface, table: str) -> None:
        rows = self._fill(database, table)
        got = database.fetch_all(f"SELECT id, name, score, note FROM {table} ORDER BY id")
        assert got == rows
        assert all(type(row) is dict for row in got)
        assert list(got[0]) == ["id", "name", "score", "note"]

    def test_fetch_all_with_parameters(self, database: DatabaseInterface, table: str) -> None:
        self._fill(database, table, 5)
        got = database.fetch_all(
            f"SELECT id FROM {table} WHERE score >= :low AND score <= :high ORDER BY id", {"low": 20, "high": 40}
        )
        assert got == [{"id": 2}, {"id": 3}, {"id": 4}]

    def test_parameter_used_twice(self, database: DatabaseInterface, table: str) -> None:
        self._fill(database, table, 5)
        got = database.fetch_all(f"SELECT id FROM {table} WHERE id = :v OR score = :v ORDER BY id", {"v": 3})
        assert got == [{"id": 3}]

    def test_fetch_on_empty_results(self, database: DatabaseInterface, table: str) -> None:
        assert database.fetch_all(f"SELECT id FROM {table}") == []
        assert database.fetch_one(f"SELECT id FROM {table} WHERE id = :id", {"id": 1}) is None
        assert database.fetch_value(f"SELECT id FROM {table} WHERE id = :id", {"id": 1}) is None
        assert database.fetch_value(f"SELECT count(*) FROM {table}") == 0

    def test_fetch_one_and_value(self, database: DatabaseInterface, table: str) -> None:
        rows = self._fill(database, table)
        assert database.fetch_one(f"SELECT id, name, score, note FROM {table} WHERE id = :id", {"id": 2}) == rows[1]
        assert database.fetch_one(f"SELECT id FROM {table} ORDER BY id DESC") == {"id": 3}
        assert database.fetch_value(f"SELECT name FROM {table} WHERE id = :id", {"id": 3}) == "name-3"
        assert database.fetch_value(f"SELECT count(*) FROM {table}") == 3

    def test_values_round_trip(self, database: DatabaseInterface, table: str) -> None:
        row = {"id": 7, "name": "Zoë \u2013 東京 ✓ 'quoted' \"double\"", "score": -2_147_483_648, "note": None}
        database.execute(_insert_sql(table), row)
        assert database.fetch_one(f"SELECT id, name, score, note FROM {table}") == row

    def test_fetch_all_of_statement_without_rows_raises(self, database: DatabaseInterface, table: str) -> None:
        with pytest.raises(QueryError):
            database.fetch_all(f"UPDATE {table} SET score = 1 WHERE id = :id", {"id": 1})

    # -- execute -------------------------------------------------------------------------

    def test_execute_rowcounts(self, database: DatabaseInterface, table: str) -> None:
        assert database.execute(_insert_sql(table), _rows(1)[0]) == 1
        self._fill_more(database, table)
        assert database.execute(f"UPDATE {table} SET note = :note WHERE score >= :s", {"note": "x", "s": 20}) == 2
        assert database.execute(f"UPDATE {table} SET note = :note WHERE id = :id", {"note": "x", "id": 99}) == 0
        assert database.execute(f"DELETE FROM {table} WHERE id <= :id", {"id": 2}) == 2
        assert self._ids(database, table) == [3]

    def _fill_more(self, db: DatabaseInterface, table: str) -> None:
        assert db.execute_many(_insert_sql(table), _rows(2, start=2)) == 2

    def test_execute_many(self, database: DatabaseInterface, table: str) -> None:
        assert database.execute_many(_insert_sql(table), _rows(10)) == 10
        assert database.fetch_value(f"SELECT count(*) FROM {table}") == 10
        assert database.execute_many(_insert_sql(table), []) == 0
        assert (
            database.execute_many(
                f"UPDATE {table} SET score = :score WHERE id = :id",
                [{"id": 1, "score": 0}, {"id": 2, "score": 0}, {"id": 42, "score": 0}],
            )
            == 2
        )

    def test_execute_many_is_atomic(self, database: DatabaseInterface, table: str) -> None:
        rows = _rows(3)
        rows[2]["name"] = rows[0]["name"]  # unique violation on the last row
        with pytest.raises(IntegrityError):
            database.execute_many(_insert_sql(table), rows)
        assert self._ids(database, table) == []

    # -- stream --------------------------------------------------------------------------

    def test_stream_yields_every_row_in_batches(self, database: DatabaseInterface, table: str) -> None:
        rows = self._fill(database, table, 25)
        got = list(database.stream(f"SELECT id, name, score, note FROM {table} ORDER BY id", batch_size=4))
        assert got == rows
        assert all(type(row) is dict for row in got)

    def test_stream_with_parameters_and_no_rows(self, database: DatabaseInterface, table: str) -> None:
        self._fill(database, table, 5)
        assert list(database.stream(f"SELECT id FROM {table} WHERE id > :id ORDER BY id", {"id": 3}, 2)) == [
            {"id": 4},
            {"id": 5},
        ]
        assert list(database.stream(f"SELECT id FROM {table} WHERE id > :id", {"id": 99})) == []

    def test_stream_is_lazy(self, database: DatabaseInterface, table: str) -> None:
        idle = database.pool_info().checked_out
        rows = database.stream(f"SELECT id FROM {table} ORDER BY id", batch_size=5)
        assert database.pool_info().checked_out == idle  # nothing is taken before iterating
        rows.close()  # type: ignore[attr-defined]
        assert database.pool_info().checked_out == idle

    def test_stream_gives_the_connection_back_on_break(self, database: DatabaseInterface, table: str) -> None:
        self._fill(database, table, 30)
        idle = database.pool_info().checked_out
        seen = []
        for row in database.stream(f"SELECT id FROM {table} ORDER BY id", batch_size=5):
            seen.append(row["id"])
            assert database.pool_info().checked_out == idle + 1
            if len(seen) == 7:
                break
        assert seen == list(range(1, 8))
        assert database.pool_info().checked_out == idle
        assert database.fetch_value(f"SELECT count(*) FROM {table}") == 30  # the pool still works

    def test_stream_gives_the_connection_back_when_exhausted(self, database: DatabaseInterface, table: str) -> None:
        self._fill(database, table, 10)
        idle = database.pool_info().checked_out
        assert len(list(database.stream(f"SELECT id FROM {table}", batch_size=3))) == 10
        assert database.pool_info().checked_out == idle

    def test_stream_rejects_bad_batch_size(self, database: DatabaseInterface, table: str) -> None:
        with pytest.raises(QueryError):
            list(database.stream(f"SELECT id FROM {table}", batch_size=0))

    # -- bulk insert ---------------------------------------------------------------------

    def test_bulk_insert_without_columns(self, database: DatabaseInterface, table: str) -> None:
        rows = _rows(BULK_ROWS)
        assert database.bulk_insert(table, rows) == BULK_ROWS
        assert database.fetch_value(f"SELECT count(*) FROM {table}") == BULK_ROWS
        assert (
            database.fetch_one(f"SELECT id, name, score, note FROM {table} WHERE id = :id", {"id": 4321}) == rows[4320]
        )

    def test_bulk_insert_with_columns_and_generator(self, database: DatabaseInterface, table: str) -> None:
        rows = ({"id": i, "name": f"g{i}", "score": i, "note": "ignored"} for i in range(1, 51))
        assert database.bulk_insert(table, rows, columns=["id", "name"]) == 50
        assert database.fetch_one(f"SELECT id, name, score, note FROM {table} WHERE id = :id", {"id": 50}) == {
            "id": 50,
            "name": "g50",
            "score": None,
            "note": None,
        }

    def test_bulk_insert_empty(self, database: DatabaseInterface, table: str) -> None:
        assert database.bulk_insert(table, []) == 0
        assert database.bulk_insert(table, iter(()), columns=["id", "name"]) == 0
        assert database.fetch_value(f"SELECT count(*) FROM {table}") == 0

    def test_bulk_insert_rejects_inconsistent_rows(self, database: DatabaseInterface, table: str) -> None:
        with pytest.raises(QueryError):
            database.bulk_insert(table, [{"id": 1, "name": "a"}, {"id": 2}])
        with pytest.raises(QueryError):
            database.bulk_insert(table, [{"id": 1}], columns=["id", "name"])
        assert database.fetch_value(f"SELECT count(*) FROM {table}") == 0

    def test_bulk_insert_is_atomic(self, database: DatabaseInterface, table: str) -> None:
        rows = _rows(10)
        rows[-1]["name"] = rows[0]["name"]
        with pytest.raises(IntegrityError):
            database.bulk_insert(table, rows)
        assert database.fetch_value(f"SELECT count(*) FROM {table}") == 0

    def test_bulk_insert_quotes_identifiers(self, database: DatabaseInterface) -> None:
        quote = database.engine.dialect.identifier_preparer.quote
        table = unique_table_name("Sr_Mixed")
        database.execute(f"CREATE TABLE {quote(table)} (id INTEGER NOT NULL PRIMARY KEY, {quote('order')} VARCHAR(20))")
        try:
            assert database.bulk_insert(table, [{"id": 1, "order": "first"}, {"id": 2, "order": "second"}]) == 2
            got = database.fetch_all(f"SELECT id, {quote('order')} FROM {quote(table)} ORDER BY id")
            assert got == [{"id": 1, "order": "first"}, {"id": 2, "order": "second"}]
        finally:
            database.execute(f"DROP TABLE {quote(table)}")

    def test_bulk_insert_never_formats_names_into_sql(self, database: DatabaseInterface, table: str) -> None:
        self._fill(database, table)
        with pytest.raises(QueryError):
            database.bulk_insert(f"{table}; DROP TABLE {table}", [{"id": 9, "name": "x"}])
        with pytest.raises(QueryError):
            database.bulk_insert(table, [{"id": 9, "name) VALUES (1, 2); --": "x"}])
        assert database.fetch_value(f"SELECT count(*) FROM {table}") == 3

    # -- transactions --------------------------------------------------------------------

    def test_transaction_commits(self, database: DatabaseInterface, table: str) -> None:
        with database.transaction() as tx:
            assert isinstance(tx, Transaction)
            tx.execute(_insert_sql(table), _rows(1)[0])
            tx.execute_many(_insert_sql(table), _rows(2, start=2))
            assert tx.fetch_value(f"SELECT count(*) FROM {table}") == 3
        assert self._ids(database, table) == [1, 2, 3]

    def test_transaction_rolls_back_and_reraises_unchanged(self, database: DatabaseInterface, table: str) -> None:
        error = Boom("stop")
        with pytest.raises(Boom) as caught, database.transaction() as tx:  # noqa: PT012 - the body must raise inside the transaction
            tx.execute(_insert_sql(table), _rows(1)[0])
            tx.bulk_insert(table, _rows(3, start=2))
            raise error
        assert caught.value is error
        assert self._ids(database, table) == []

    def test_transaction_query_methods(self, database: DatabaseInterface, table: str) -> None:
        with database.transaction() as tx:
            assert tx.bulk_insert(table, _rows(6)) == 6
            assert tx.fetch_one(f"SELECT id FROM {table} WHERE id = :id", {"id": 2}) == {"id": 2}
            assert [r["id"] for r in tx.stream(f"SELECT id FROM {table} ORDER BY id", batch_size=2)] == [
                1,
                2,
                3,
                4,
                5,
                6,
            ]
            assert tx.fetch_all(f"SELECT id FROM {table} WHERE id > :id ORDER BY id", {"id": 4}) == [
                {"id": 5},
                {"id": 6},
            ]
            assert tx.execute(f"DELETE FROM {table} WHERE id > :id", {"id": 3}) == 3
        assert self._ids(database, table) == [1, 2, 3]

    def test_savepoint_rollback_inside_committed_transaction(self, database: DatabaseInterface, table: str) -> None:
        with database.transaction() as tx:
            tx.execute(_insert_sql(table), _rows(1)[0])
            with pytest.raises(Boom), tx.savepoint() as sp:  # noqa: PT012 - the body must raise inside the transaction
                assert isinstance(sp, Transaction)
                sp.execute(_insert_sql(table), _rows(1, start=2)[0])
                assert sp.fetch_value(f"SELECT count(*) FROM {table}") == 2
                raise Boom
            assert tx.fetch_value(f"SELECT count(*) FROM {table}") == 1
            with tx.savepoint() as sp:
                sp.execute(_insert_sql(table), _rows(1, start=3)[0])
        assert self._ids(database, table) == [1, 3]

    def test_nested_savepoints(self, database: DatabaseInterface, table: str) -> None:
        with database.transaction() as tx:
            tx.execute(_insert_sql(table), _rows(1)[0])
            with tx.savepoint() as outer:
                outer.execute(_insert_sql(table), _rows(1, start=2)[0])
                with pytest.raises(Boom), outer.savepoint() as inner:  # noqa: PT012 - the body must raise inside the transaction
                    inner.execute(_insert_sql(table), _rows(1, start=3)[0])
                    raise Boom
                with outer.savepoint() as inner:
                    inner.execute(_insert_sql(table), _rows(1, start=4)[0])
            with pytest.raises(Boom), tx.savepoint() as outer:  # noqa: PT012 - the body must raise inside the transaction
                outer.execute(_insert_sql(table), _rows(1, start=5)[0])
                with outer.savepoint() as inner:
                    inner.execute(_insert_sql(table), _rows(1, start=6)[0])
                raise Boom  # releasing the inner savepoint does not save it from the outer rollback
        assert self._ids(database, table) == [1, 2, 4]

    def test_savepoint_recovers_after_integrity_error(self, database: DatabaseInterface, table: str) -> None:
        with database.transaction() as tx:
            tx.execute(_insert_sql(table), _rows(1)[0])
            with pytest.raises(IntegrityError), tx.savepoint() as sp:
                sp.execute(_insert_sql(table), {**_rows(1, start=2)[0], "name": "name-1"})
            tx.execute(_insert_sql(table), _rows(1, start=3)[0])
        assert self._ids(database, table) == [1, 3]

    def test_nested_transaction_is_a_savepoint(self, database: DatabaseInterface, table: str) -> None:
        with database.transaction():
            database.execute(_insert_sql(table), _rows(1)[0])
            with pytest.raises(Boom), database.transaction() as inner:  # noqa: PT012 - the body must raise inside the transaction
                assert isinstance(inner, Transaction)
                database.execute(_insert_sql(table), _rows(1, start=2)[0])
                raise Boom
            with database.transaction():
                database.execute(_insert_sql(table), _rows(1, start=3)[0])
            assert self._ids(database, table) == [1, 3]
        assert self._ids(database, table) == [1, 3]

    def test_calls_on_the_database_join_the_open_transaction(self, database: DatabaseInterface, table: str) -> None:
        with database.transaction() as tx:
            tx.execute(_insert_sql(table), _rows(1)[0])
            assert database.fetch_value(f"SELECT count(*) FROM {table}") == 1  # sees uncommitted row
            database.execute(_insert_sql(table), _rows(1, start=2)[0])
            database.bulk_insert(table, _rows(1, start=3))
            assert [r["id"] for r in database.stream(f"SELECT id FROM {table} ORDER BY id")] == [1, 2, 3]
        assert self._ids(database, table) == [1, 2, 3]

    def test_joined_calls_roll_back_with_the_transaction(self, database: DatabaseInterface, table: str) -> None:
        with pytest.raises(Boom), database.transaction():  # noqa: PT012 - the body must raise inside the transaction
            database.execute(_insert_sql(table), _rows(1)[0])
            database.bulk_insert(table, _rows(2, start=2))
            raise Boom
        assert self._ids(database, table) == []

    def test_another_thread_does_not_join(self, database: DatabaseInterface, table: str) -> None:
        outcome: list[object] = []

        def count() -> None:
            try:
                outcome.append(database.fetch_value(f"SELECT count(*) FROM {table}"))
            except DatabaseError as exc:  # locked / pool busy: isolation by waiting is fine
                outcome.append(exc)

        worker = threading.Thread(target=count)
        with pytest.raises(Boom), database.transaction() as tx:  # noqa: PT012 - the body must raise inside the transaction
            tx.execute(_insert_sql(table), _rows(1)[0])
            worker.start()
            worker.join(1.0)  # a backend may make the reader wait for the writer
            raise Boom
        _join_or_error(worker, 60)
        assert outcome and (outcome[0] == 0 or isinstance(outcome[0], DatabaseError)), outcome

    def test_transaction_in_another_thread_is_independent(self, database: DatabaseInterface, table: str) -> None:
        errors: list[BaseException] = []

        def write() -> None:
            try:
                with database.transaction() as tx:
                    tx.execute(_insert_sql(table), _rows(1, start=2)[0])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        with database.transaction() as tx:
            tx.execute(_insert_sql(table), _rows(1)[0])
        worker = threading.Thread(target=write)
        worker.start()
        _join_or_error(worker, 60)
        assert not errors
        assert self._ids(database, table) == [1, 2]

    def test_transaction_cannot_be_used_after_it_ends(self, database: DatabaseInterface, table: str) -> None:
        with database.transaction() as tx:
            pass
        with pytest.raises(TransactionError):
            tx.fetch_value("SELECT 1")

    def test_other_named_database_inside_transaction_raises(self, database: DatabaseInterface) -> None:
        token = set_ambient(AmbientTransaction(f"{database.name}-other", current_owner(), object()))
        try:
            with pytest.raises(TransactionError):
                database.fetch_value("SELECT 1")
            with pytest.raises(TransactionError), database.transaction():
                pass
        finally:
            reset_ambient(token)
        assert database.fetch_value("SELECT 1") == 1

    def test_read_only_transaction_rejects_writes(self, database: DatabaseInterface, table: str) -> None:
        self._fill(database, table, 2)
        with database.transaction(read_only=True) as tx:
            assert tx.fetch_value(f"SELECT count(*) FROM {table}") == 2
        with pytest.raises(DatabaseError), database.transaction(read_only=True) as tx:
            tx.execute(_insert_sql(table), _rows(1, start=3)[0])
        # the connection went back to the pool writable
        for _ in range(3):
            database.execute(f"UPDATE {table} SET score = :s", {"s": 1})
        assert self._ids(database, table) == [1, 2]

    def test_isolation_levels(self, database: DatabaseInterface, table: str) -> None:
        with database.transaction(isolation_level="SERIALIZABLE") as tx:
            tx.execute(_insert_sql(table), _rows(1)[0])
        with database.transaction(isolation_level="serializable") as tx:
            assert tx.fetch_value(f"SELECT count(*) FROM {table}") == 1
        with (
            pytest.raises((TransactionError, ConfigurationError), match="SERIALIZABLE"),
            database.transaction(isolation_level="NO SUCH LEVEL"),
        ):
            pass
        assert database.fetch_value("SELECT 1") == 1

    def test_transactional_ddl(self, database: DatabaseInterface) -> None:
        if not type(database).transactional_ddl:
            pytest.skip("this dialect commits DDL implicitly")
        name = unique_table_name()
        with pytest.raises(Boom), database.transaction() as tx:  # noqa: PT012 - the body must raise inside the transaction
            tx.execute(create_table_sql(name))
            tx.execute(_insert_sql(name), _rows(1)[0])
            raise Boom
        with pytest.raises(QueryError):
            database.fetch_value(f"SELECT count(*) FROM {name}")

    # -- errors --------------------------------------------------------------------------

    def test_bad_sql_raises_query_error_with_statement(self, database: DatabaseInterface) -> None:
        sql = "SELEC nonsense FROM nowhere"
        with pytest.raises(QueryError) as caught:
            database.fetch_all(sql)
        assert caught.value.statement == sql
        assert caught.value.__cause__ is not None
        assert not isinstance(caught.value, IntegrityError)

    def test_missing_table_raises_query_error(self, database: DatabaseInterface) -> None:
        with pytest.raises(QueryError):
            database.execute(f"DELETE FROM {unique_table_name('missing')}")

    def test_unique_violation_raises_integrity_error(self, database: DatabaseInterface, table: str) -> None:
        self._fill(database, table, 1)
        sql = _insert_sql(table)
        with pytest.raises(IntegrityError) as caught:
            database.execute(sql, {**_rows(1, start=2)[0], "name": "name-1"})
        assert isinstance(caught.value, QueryError)
        assert caught.value.statement == sql
        assert caught.value.__cause__ is not None
        assert "name-1" not in str(caught.value.statement)

    def test_not_null_violation_raises_integrity_error(self, database: DatabaseInterface, table: str) -> None:
        with pytest.raises(IntegrityError):
            database.execute(_insert_sql(table), {"id": 1, "name": None, "score": 1, "note": None})

    def test_parameter_mistakes_name_the_parameter(self, database: DatabaseInterface, table: str) -> None:
        with pytest.raises(QueryError, match="wanted"):
            database.fetch_all(f"SELECT id FROM {table} WHERE id = :wanted")
        with pytest.raises(QueryError, match="wanted"):
            database.fetch_all(f"SELECT id FROM {table} WHERE id = :wanted", {"wantd": 1})
        with pytest.raises(QueryError, match="extra"):
            database.execute(f"DELETE FROM {table} WHERE id = :id", {"id": 1, "extra": 2})
        with pytest.raises(QueryError, match="wanted"):
            database.execute_many(f"DELETE FROM {table} WHERE id = :wanted", [{"wanted": 1}, {"other": 2}])

    def test_parameters_never_appear_in_errors(self, database: DatabaseInterface, table: str) -> None:
        secret = "s3cr3t-" + uuid.uuid4().hex
        self._fill(database, table, 1)
        with pytest.raises(IntegrityError) as caught:
            database.execute(_insert_sql(table), {"id": 1, "name": secret, "score": 1, "note": secret})
        chain: list[BaseException] = []
        err: BaseException | None = caught.value
        while err is not None and len(chain) < 5:
            chain.append(err)
            err = err.__cause__
        assert not any(secret in str(e) for e in chain[:2])  # ours and the SQLAlchemy error it chains
        assert secret not in str(caught.value.statement)

    def test_password_is_never_shown(self, database: DatabaseInterface) -> None:
        password = _password(database)
        shown = f"{database!r} {database!s} {database.health_check().to_dict()}"
        if password:
            assert password not in shown

    # -- health, pool, session, close ------------------------------------------------------

    def test_health_check_is_healthy(self, database: DatabaseInterface) -> None:
        result = database.health_check()
        assert result.status is HealthStatus.HEALTHY, result.message
        assert result.ok
        assert result.component == f"databases.{database.name}"
        assert result.latency_ms is not None and result.latency_ms >= 0
        assert "pool" in result.details

    def test_pool_info_is_consistent(self, database: DatabaseInterface) -> None:
        database.fetch_value("SELECT 1")
        info = database.pool_info()
        assert isinstance(info, PoolInfo)
        assert info.checked_out == 0
        assert info.available >= 1
        assert info.size >= 0 and info.overflow >= 0
        assert info.capacity == info.checked_out + info.available
        with database.transaction():
            assert database.pool_info().checked_out == 1
        assert database.pool_info().checked_out == 0

    def test_session_works(self, database: DatabaseInterface) -> None:
        import sqlalchemy as sa

        with database.session() as session:
            assert session.execute(sa.text("SELECT 1")).scalar() == 1

    def test_session_joins_the_open_transaction(self, database: DatabaseInterface, table: str) -> None:
        import sqlalchemy as sa

        with pytest.raises(Boom), database.transaction() as tx:  # noqa: PT012 - the body must raise inside the transaction
            tx.execute(_insert_sql(table), _rows(1)[0])
            with database.session() as session:
                assert session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 1
            raise Boom
        assert self._ids(database, table) == []

    def test_close_is_idempotent(self, database: DatabaseInterface) -> None:
        database.fetch_value("SELECT 1")
        database.close()
        database.close()


# =========================================================================================
# async
# =========================================================================================


class AsyncDatabaseConformance:
    """The contract of :class:`storeroom.AsyncDatabaseInterface`; override ``async_database``."""

    @pytest_asyncio.fixture
    async def async_database(self) -> AsyncDatabaseInterface:
        """A fresh, connected async database (closed afterwards). Subclasses must override this fixture."""
        raise NotImplementedError(f"{type(self).__name__} must override the 'async_database' fixture")

    @pytest_asyncio.fixture
    async def table(self, async_database: AsyncDatabaseInterface) -> AsyncIterator[str]:
        name = unique_table_name()
        await async_database.execute(create_table_sql(name))
        yield name
        if not getattr(async_database, "closed", False):
            with contextlib.suppress(StoreroomError):
                await async_database.execute(f"DROP TABLE {name}")

    async def _fill(self, db: AsyncDatabaseInterface, table: str, n: int = 3) -> list[dict[str, Any]]:
        rows = _rows(n)
        assert await db.execute_many(_insert_sql(table), rows) == n
        return rows

    async def _ids(self, db: AsyncDatabaseInterface, table: str) -> list[int]:
        return [r["id"] for r in await db.fetch_all(f"SELECT id FROM {table} ORDER BY id")]

    # -- identity ------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_declares_plugin_name(self, async_database: AsyncDatabaseInterface) -> None:
        assert isinstance(async_database.PLUGIN_NAME, str) and async_database.PLUGIN_NAME
        assert isinstance(type(async_database).transactional_ddl, bool)

    @pytest.mark.asyncio
    async def test_exposes_engine_and_server_version(self, async_database: AsyncDatabaseInterface) -> None:
        assert async_database.engine is not None
        version = await async_database.server_version()
        assert isinstance(version, str) and version

    @pytest.mark.asyncio
    async def test_context_manager_returns_database(self, async_database: AsyncDatabaseInterface) -> None:
        async with async_database as db:
            assert db is async_database

    # -- fetch / execute -----------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_fetch_all_returns_plain_dicts(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        rows = await self._fill(async_database, table)
        got = await async_database.fetch_all(f"SELECT id, name, score, note FROM {table} ORDER BY id")
        assert got == rows
        assert all(type(row) is dict for row in got)

    @pytest.mark.asyncio
    async def test_fetch_on_empty_results(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        assert await async_database.fetch_all(f"SELECT id FROM {table}") == []
        assert await async_database.fetch_one(f"SELECT id FROM {table} WHERE id = :id", {"id": 1}) is None
        assert await async_database.fetch_value(f"SELECT id FROM {table} WHERE id = :id", {"id": 1}) is None

    @pytest.mark.asyncio
    async def test_fetch_one_and_value(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        rows = await self._fill(async_database, table)
        assert (
            await async_database.fetch_one(f"SELECT id, name, score, note FROM {table} WHERE id = :id", {"id": 2})
            == rows[1]
        )
        assert await async_database.fetch_value(f"SELECT count(*) FROM {table}") == 3

    @pytest.mark.asyncio
    async def test_values_round_trip(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        row = {"id": 7, "name": "Zoë \u2013 東京 ✓ 'quoted'", "score": -5, "note": None}
        await async_database.execute(_insert_sql(table), row)
        assert await async_database.fetch_one(f"SELECT id, name, score, note FROM {table}") == row

    @pytest.mark.asyncio
    async def test_execute_rowcounts(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        assert await async_database.execute(_insert_sql(table), _rows(1)[0]) == 1
        assert await async_database.execute_many(_insert_sql(table), _rows(2, start=2)) == 2
        assert await async_database.execute_many(_insert_sql(table), []) == 0
        assert await async_database.execute(f"UPDATE {table} SET note = :n WHERE score >= :s", {"n": "x", "s": 20}) == 2
        assert await async_database.execute(f"DELETE FROM {table} WHERE id = :id", {"id": 99}) == 0
        assert await async_database.execute(f"DELETE FROM {table} WHERE id <= :id", {"id": 2}) == 2

    @pytest.mark.asyncio
    async def test_concurrent_queries(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        await self._fill(async_database, table, 5)
        counts = await asyncio.gather(
            *(
                async_database.fetch_value(f"SELECT count(*) FROM {table} WHERE id <= :id", {"id": i})
                for i in range(1, 6)
            )
        )
        assert counts == [1, 2, 3, 4, 5]
        assert async_database.pool_info().checked_out == 0

    # -- stream --------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_stream_yields_every_row_in_batches(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        rows = await self._fill(async_database, table, 25)
        got = [
            row
            async for row in async_database.stream(
                f"SELECT id, name, score, note FROM {table} ORDER BY id", batch_size=4
            )
        ]
        assert got == rows
        assert async_database.pool_info().checked_out == 0

    @pytest.mark.asyncio
    async def test_stream_is_lazy_and_gives_the_connection_back_when_closed(
        self, async_database: AsyncDatabaseInterface, table: str
    ) -> None:
        await self._fill(async_database, table, 30)
        idle = async_database.pool_info().checked_out
        stream = async_database.stream(f"SELECT id FROM {table} ORDER BY id", batch_size=5)
        assert async_database.pool_info().checked_out == idle
        seen = []
        async with contextlib.aclosing(stream) as rows:  # type: ignore[type-var]
            async for row in rows:
                seen.append(row["id"])
                assert async_database.pool_info().checked_out == idle + 1
                if len(seen) == 7:
                    break
        assert seen == list(range(1, 8))
        assert async_database.pool_info().checked_out == idle
        assert await async_database.fetch_value(f"SELECT count(*) FROM {table}") == 30

    @pytest.mark.asyncio
    async def test_stream_rejects_bad_batch_size(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        with pytest.raises(QueryError):
            async for _ in async_database.stream(f"SELECT id FROM {table}", batch_size=0):
                pass

    # -- bulk insert ---------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_bulk_insert(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        rows = _rows(BULK_ROWS)
        assert await async_database.bulk_insert(table, rows) == BULK_ROWS
        assert await async_database.fetch_value(f"SELECT count(*) FROM {table}") == BULK_ROWS
        assert (
            await async_database.fetch_one(f"SELECT id, name, score, note FROM {table} WHERE id = :id", {"id": 777})
            == rows[776]
        )

    @pytest.mark.asyncio
    async def test_bulk_insert_with_columns_and_empty(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        assert await async_database.bulk_insert(table, []) == 0
        rows = ({"id": i, "name": f"g{i}", "score": i} for i in range(1, 11))
        assert await async_database.bulk_insert(table, rows, columns=["name", "id"]) == 10
        assert await async_database.fetch_one(f"SELECT id, name, score FROM {table} WHERE id = :id", {"id": 10}) == {
            "id": 10,
            "name": "g10",
            "score": None,
        }
        with pytest.raises(QueryError):
            await async_database.bulk_insert(table, [{"id": 11, "name": "a"}, {"id": 12}])

    # -- transactions --------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_transaction_commits(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        async with async_database.transaction() as tx:
            assert isinstance(tx, AsyncTransaction)
            await tx.execute(_insert_sql(table), _rows(1)[0])
            await tx.bulk_insert(table, _rows(2, start=2))
            assert [r async for r in tx.stream(f"SELECT id FROM {table} ORDER BY id", batch_size=1)] == [
                {"id": 1},
                {"id": 2},
                {"id": 3},
            ]
        assert await self._ids(async_database, table) == [1, 2, 3]

    @pytest.mark.asyncio
    async def test_transaction_rolls_back_and_reraises_unchanged(
        self, async_database: AsyncDatabaseInterface, table: str
    ) -> None:
        error = Boom("stop")
        with pytest.raises(Boom) as caught:  # noqa: PT012 - the body must raise inside the transaction
            async with async_database.transaction() as tx:
                await tx.execute(_insert_sql(table), _rows(1)[0])
                raise error
        assert caught.value is error
        assert await self._ids(async_database, table) == []

    @pytest.mark.asyncio
    async def test_savepoints(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        async with async_database.transaction() as tx:
            await tx.execute(_insert_sql(table), _rows(1)[0])
            with pytest.raises(Boom):  # noqa: PT012 - the body must raise inside the transaction
                async with tx.savepoint() as sp:
                    await sp.execute(_insert_sql(table), _rows(1, start=2)[0])
                    raise Boom
            async with tx.savepoint() as outer:
                await outer.execute(_insert_sql(table), _rows(1, start=3)[0])
                with pytest.raises(Boom):  # noqa: PT012 - the body must raise inside the transaction
                    async with outer.savepoint() as inner:
                        await inner.execute(_insert_sql(table), _rows(1, start=4)[0])
                        raise Boom
            with pytest.raises(IntegrityError):
                async with tx.savepoint() as sp:
                    await sp.execute(_insert_sql(table), {**_rows(1, start=5)[0], "name": "name-1"})
            await tx.execute(_insert_sql(table), _rows(1, start=6)[0])
        assert await self._ids(async_database, table) == [1, 3, 6]

    @pytest.mark.asyncio
    async def test_nested_transaction_is_a_savepoint(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        async with async_database.transaction():
            await async_database.execute(_insert_sql(table), _rows(1)[0])
            with pytest.raises(Boom):  # noqa: PT012 - the body must raise inside the transaction
                async with async_database.transaction() as inner:
                    assert isinstance(inner, AsyncTransaction)
                    await async_database.execute(_insert_sql(table), _rows(1, start=2)[0])
                    raise Boom
        assert await self._ids(async_database, table) == [1]

    @pytest.mark.asyncio
    async def test_calls_in_the_same_task_join(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        with pytest.raises(Boom):  # noqa: PT012 - the body must raise inside the transaction
            async with async_database.transaction() as tx:
                await tx.execute(_insert_sql(table), _rows(1)[0])
                assert await async_database.fetch_value(f"SELECT count(*) FROM {table}") == 1
                await async_database.bulk_insert(table, _rows(1, start=2))
                assert async_database.pool_info().checked_out == 1
                raise Boom
        assert await self._ids(async_database, table) == []

    @pytest.mark.asyncio
    async def test_child_task_does_not_join(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        async def count() -> object:
            try:
                return await async_database.fetch_value(f"SELECT count(*) FROM {table}")
            except DatabaseError as exc:  # locked / pool busy: isolation by waiting is fine
                return exc

        with pytest.raises(Boom):  # noqa: PT012 - the body must raise inside the transaction
            async with async_database.transaction() as tx:
                await tx.execute(_insert_sql(table), _rows(1)[0])
                child = asyncio.create_task(count())
                await asyncio.wait({child}, timeout=1.0)
                raise Boom
        outcome = await asyncio.wait_for(child, 60)
        assert outcome == 0 or isinstance(outcome, DatabaseError), outcome

    @pytest.mark.asyncio
    async def test_transaction_cannot_be_used_after_it_ends(self, async_database: AsyncDatabaseInterface) -> None:
        async with async_database.transaction() as tx:
            pass
        with pytest.raises(TransactionError):
            await tx.fetch_value("SELECT 1")

    @pytest.mark.asyncio
    async def test_other_named_database_inside_transaction_raises(self, async_database: AsyncDatabaseInterface) -> None:
        token = set_ambient(AmbientTransaction(f"{async_database.name}-other", current_owner(), object()))
        try:
            with pytest.raises(TransactionError):
                await async_database.fetch_value("SELECT 1")
            with pytest.raises(TransactionError):
                async with async_database.transaction():
                    pass
        finally:
            reset_ambient(token)
        assert await async_database.fetch_value("SELECT 1") == 1

    @pytest.mark.asyncio
    async def test_read_only_transaction_rejects_writes(
        self, async_database: AsyncDatabaseInterface, table: str
    ) -> None:
        await self._fill(async_database, table, 2)
        async with async_database.transaction(read_only=True) as tx:
            assert await tx.fetch_value(f"SELECT count(*) FROM {table}") == 2
        with pytest.raises(DatabaseError):
            async with async_database.transaction(read_only=True) as tx:
                await tx.execute(_insert_sql(table), _rows(1, start=3)[0])
        for _ in range(3):
            await async_database.execute(f"UPDATE {table} SET score = :s", {"s": 1})
        assert await self._ids(async_database, table) == [1, 2]

    @pytest.mark.asyncio
    async def test_isolation_levels(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        async with async_database.transaction(isolation_level="serializable") as tx:
            await tx.execute(_insert_sql(table), _rows(1)[0])
        with pytest.raises((TransactionError, ConfigurationError), match="SERIALIZABLE"):
            async with async_database.transaction(isolation_level="NO SUCH LEVEL"):
                pass
        assert await self._ids(async_database, table) == [1]

    @pytest.mark.asyncio
    async def test_transactional_ddl(self, async_database: AsyncDatabaseInterface) -> None:
        if not type(async_database).transactional_ddl:
            pytest.skip("this dialect commits DDL implicitly")
        name = unique_table_name()
        with pytest.raises(Boom):  # noqa: PT012 - the body must raise inside the transaction
            async with async_database.transaction() as tx:
                await tx.execute(create_table_sql(name))
                raise Boom
        with pytest.raises(QueryError):
            await async_database.fetch_value(f"SELECT count(*) FROM {name}")

    # -- errors --------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_errors_are_translated(self, async_database: AsyncDatabaseInterface, table: str) -> None:
        sql = "SELEC nonsense FROM nowhere"
        with pytest.raises(QueryError) as caught:
            await async_database.fetch_all(sql)
        assert caught.value.statement == sql and caught.value.__cause__ is not None
        await self._fill(async_database, table, 1)
        with pytest.raises(IntegrityError):
            await async_database.execute(_insert_sql(table), {**_rows(1, start=2)[0], "name": "name-1"})
        with pytest.raises(QueryError, match="wanted"):
            await async_database.fetch_all(f"SELECT id FROM {table} WHERE id = :wanted")
        with pytest.raises(QueryError, match="extra"):
            await async_database.execute(f"DELETE FROM {table} WHERE id = :id", {"id": 1, "extra": 2})

    @pytest.mark.asyncio
    async def test_password_is_never_shown(self, async_database: AsyncDatabaseInterface) -> None:
        password = _password(async_database)
        shown = f"{async_database!r} {async_database!s} {(await async_database.health_check()).to_dict()}"
        if password:
            assert password not in shown

    # -- health, pool, session, close ------------------------------------------------------

    @pytest.mark.asyncio
    async def test_health_check_is_healthy(self, async_database: AsyncDatabaseInterface) -> None:
        started = time.perf_counter()
        result = await async_database.health_check()
        assert time.perf_counter() - started < 5
        assert result.status is HealthStatus.HEALTHY, result.message
        assert result.component == f"databases.{async_database.name}"
        assert result.latency_ms is not None and result.latency_ms >= 0
        info = async_database.pool_info()
        assert info.checked_out == 0 and info.capacity == info.checked_out + info.available

    @pytest.mark.asyncio
    async def test_session_works(self, async_database: AsyncDatabaseInterface) -> None:
        import sqlalchemy as sa

        async with async_database.session() as session:
            assert (await session.execute(sa.text("SELECT 1"))).scalar() == 1

    @pytest.mark.asyncio
    async def test_close_is_idempotent(self, async_database: AsyncDatabaseInterface) -> None:
        await async_database.fetch_value("SELECT 1")
        await async_database.close()
        await async_database.close()
