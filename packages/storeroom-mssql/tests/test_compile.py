"""Every statement the plugin emits, compiled on the real ``mssql+pyodbc`` dialect.

There is no SQL Server here, so the T-SQL is asserted exactly as the engine would
send it to pyodbc (qmark parameters, bracket quoting).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.sql.elements import RollbackToSavepointClause, SavepointClause

from _mssql_support import UNREACHABLE_URL, require_pyodbc
from storeroom.sqla import normalise_isolation_level
from storeroom.sqla.statements import BulkInsert, prepare
from storeroom_mssql import AsyncMSSQLDatabase, MSSQLDatabase
from storeroom_mssql._executemany import is_single_row_insert
from storeroom_mssql._read_only import first_write
from storeroom_mssql.database import HEALTH_QUERY, pyodbc_connection

#: skips this module (fails it with CI=true) where pyodbc cannot load unixODBC
pyodbc = require_pyodbc()


def _sql(engine: Engine, statement: sa.ClauseElement) -> tuple[str, list[str]]:
    compiled = statement.compile(dialect=engine.dialect)
    return str(compiled), list(compiled.positiontup or [])


def test_dialect_is_pyodbc_with_qmark(db: MSSQLDatabase) -> None:
    dialect = db.engine.dialect
    assert (dialect.name, dialect.driver, dialect.paramstyle) == ("mssql", "pyodbc", "qmark")
    assert dialect.fast_executemany is True
    assert MSSQLDatabase.transactional_ddl is True


def test_named_parameters_become_qmarks_in_order(db: MSSQLDatabase) -> None:
    sql = "SELECT id FROM t WHERE score >= :low AND score <= :high AND name = :low_name"
    clause, params = prepare(sql, {"low": 1, "high": 2, "low_name": "x"})
    text, order = _sql(db.engine, clause)
    assert text == "SELECT id FROM t WHERE score >= ? AND score <= ? AND name = ?"
    assert order == ["low", "high", "low_name"]
    compiled = clause.compile(dialect=db.engine.dialect)
    assert compiled.construct_params(params) == {"low": 1, "high": 2, "low_name": "x"}


def test_parameter_used_twice_is_sent_twice(db: MSSQLDatabase) -> None:
    clause, _ = prepare("SELECT id FROM t WHERE id = :v OR score = :v", {"v": 3})
    assert _sql(db.engine, clause) == ("SELECT id FROM t WHERE id = ? OR score = ?", ["v", "v"])


def test_bulk_insert_statement(db: MSSQLDatabase) -> None:
    plan = BulkInsert("dbo.orders", ["id", "order", "note"])
    text, order = _sql(db.engine, plan.statement())
    assert text == "INSERT INTO dbo.orders (id, [order], note) VALUES (?, ?, ?)"
    assert order == ["id", "order", "note"]
    assert is_single_row_insert(text)  # so executemany sends it as one fast parameter array


def test_bulk_insert_quotes_mixed_case_names(db: MSSQLDatabase) -> None:
    plan = BulkInsert("Sr_Mixed", ["id", "Name"])
    assert _sql(db.engine, plan.statement())[0] == "INSERT INTO [Sr_Mixed] (id, [Name]) VALUES (?, ?)"


def test_bulk_batches_stay_bounded(db: MSSQLDatabase) -> None:
    plan = BulkInsert("t", None, db.bulk_batch_size)
    rows = ({"id": i} for i in range(db.bulk_batch_size * 2 + 1))
    sizes = [len(batch) for batch in plan.batches(rows)]
    assert sizes == [db.bulk_batch_size, db.bulk_batch_size, 1]


def test_executemany_row_count_hook_exists() -> None:
    # the executemany handler reports its count through this SQLAlchemy attribute
    assert "_rowcount" in vars(DefaultExecutionContext)
    assert DefaultExecutionContext._rowcount is None


def test_insertmanyvalues_respects_the_parameter_limit(db: MSSQLDatabase) -> None:
    # multi-row VALUES is only built by SQLAlchemy (INSERT ... OUTPUT), and under 2100 parameters
    assert db.engine.dialect.insertmanyvalues_max_parameters < 2100
    assert db.engine.dialect.use_insertmanyvalues_wo_returning is False


def test_health_probe(db: MSSQLDatabase) -> None:
    assert db.health_query == HEALTH_QUERY
    text, order = _sql(db.engine, sa.text(HEALTH_QUERY))
    assert text == (
        "SELECT 1 AS ok, CAST(SERVERPROPERTY('ProductVersion') AS NVARCHAR(128)) AS product_version, "
        "CAST(SERVERPROPERTY('Edition') AS NVARCHAR(128)) AS edition, @@VERSION AS version_banner"
    )
    assert order == []
    assert first_write(text) is None  # allowed inside read-only transactions


def test_savepoint_statements(db: MSSQLDatabase) -> None:
    dialect = db.engine.dialect
    assert str(SavepointClause("sa_savepoint_1").compile(dialect=dialect)) == "SAVE TRANSACTION sa_savepoint_1"
    rollback = RollbackToSavepointClause("sa_savepoint_1").compile(dialect=dialect)
    assert str(rollback) == "ROLLBACK TRANSACTION sa_savepoint_1"
    # SQL Server has no RELEASE SAVEPOINT; the dialect skips it
    assert type(dialect).do_release_savepoint.__qualname__.startswith("MSDialect")
    # what the dialect sends around savepoints passes the read-only guard
    for statement in ("IF @@TRANCOUNT = 0 BEGIN TRANSACTION", str(rollback), "SAVE TRANSACTION sa_savepoint_1"):
        assert first_write(statement) is None, statement


@pytest.mark.parametrize(
    ("given", "level"),
    [
        ("snapshot", "SNAPSHOT"),
        ("read_committed", "READ COMMITTED"),
        ("Repeatable Read", "REPEATABLE READ"),
        ("SERIALIZABLE", "SERIALIZABLE"),
        ("read uncommitted", "READ UNCOMMITTED"),
    ],
)
def test_isolation_levels_include_snapshot(db: MSSQLDatabase, given: str, level: str) -> None:
    normalised = normalise_isolation_level(given)
    assert normalised == level
    assert level in db.engine.dialect.get_isolation_level_values(None)
    # the dialect sends exactly this on the connection before BEGIN
    assert first_write(f"SET TRANSACTION ISOLATION LEVEL {level}") is None


def _connected_dialect(db: MSSQLDatabase, version: tuple[int, ...] = (16, 0, 4135, 4)) -> Any:
    """The plugin's dialect class as it is after connecting to SQL Server 2022."""
    dialect = type(db.engine.dialect)(paramstyle="qmark", fast_executemany=True)
    dialect.server_version_info = version
    dialect._setup_version_attributes()
    return dialect


def test_paging_uses_offset_fetch_and_needs_order_by(db: MSSQLDatabase) -> None:
    dialect = _connected_dialect(db)
    t = sa.table("items", sa.column("id"), sa.column("name"))
    paged = sa.select(t.c.id).order_by(t.c.id).limit(10).offset(20).compile(dialect=dialect)
    assert str(paged) == "SELECT items.id \nFROM items ORDER BY items.id\n OFFSET ? ROWS\n FETCH FIRST ? ROWS ONLY"
    top = sa.select(t.c.id).limit(5).compile(dialect=dialect)
    assert str(top) == "SELECT TOP __[POSTCOMPILE_param_1] items.id \nFROM items"
    with pytest.raises(sa_exc.CompileError, match="requires an order_by"):
        sa.select(t.c.id).offset(20).compile(dialect=dialect)


def test_returning_compiles_to_output_inserted(db: MSSQLDatabase) -> None:
    t = sa.table("items", sa.column("id"), sa.column("name"))
    text, order = _sql(db.engine, sa.insert(t).values(name=sa.bindparam("name")).returning(t.c.id))
    assert text == "INSERT INTO items (name) OUTPUT inserted.id VALUES (?)"
    assert order == ["name"]
    assert not is_single_row_insert(text)  # OUTPUT rows: never counted blindly


@pytest.mark.asyncio
async def test_async_side_uses_aioodbc_on_the_same_dialect() -> None:
    adb = AsyncMSSQLDatabase(UNREACHABLE_URL, name="main")
    try:
        dialect = adb.engine.dialect
        assert (dialect.name, dialect.driver, dialect.paramstyle) == ("mssql", "aioodbc", "qmark")
        assert dialect.supports_server_side_cursors  # stream() fetches in batches, never all rows at once
        plan = BulkInsert("t", ["a", "b"])
        assert str(plan.statement().compile(dialect=dialect)) == "INSERT INTO t (a, b) VALUES (?, ?)"
    finally:
        await adb.close()


@pytest.mark.asyncio
async def test_statement_timeout_reaches_pyodbc_through_the_async_adapter() -> None:
    # the pool hands the "connect" event SQLAlchemy's adapter around an aioodbc connection
    # around pyodbc's; the timeout attribute must land on pyodbc's (None until connected)
    import aioodbc
    from sqlalchemy.connectors.aioodbc import AsyncAdapt_aioodbc_connection, AsyncAdapt_aioodbc_dbapi

    aio = aioodbc.Connection(dsn="DRIVER={x}")
    adapter = AsyncAdapt_aioodbc_connection(AsyncAdapt_aioodbc_dbapi(aioodbc, pyodbc), aio)
    sentinel = object()
    aio._conn = sentinel
    try:
        assert pyodbc_connection(adapter) is sentinel
    finally:
        aio._conn = None  # nothing to close: it never connected
    assert pyodbc_connection(sentinel) is sentinel  # a sync pool's connection is pyodbc's already
