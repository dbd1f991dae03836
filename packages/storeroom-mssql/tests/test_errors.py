"""Error translation from real pyodbc exceptions, wrapped exactly as SQLAlchemy wraps them.

Messages follow pyodbc's format for driver errors, ``(sqlstate, "[sqlstate] [vendor]
[driver][SQL Server]text (native) (SQLFunction)")``, with the texts SQL Server sends.
"""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from _mssql_support import PASSWORD, require_pyodbc
from storeroom.errors import (
    ConnectionFailedError,
    DatabaseError,
    IntegrityError,
    PoolTimeoutError,
    QueryError,
    StoreroomError,
    TransactionError,
)
from storeroom.sqla.errors import Phase
from storeroom_mssql import MSSQLDatabase
from storeroom_mssql._errors import parse_diagnostic

#: skips this module (fails it with CI=true) where pyodbc cannot load unixODBC
pyodbc = require_pyodbc()

DRIVER = "[Microsoft][ODBC Driver 18 for SQL Server]"
SERVER = DRIVER + "[SQL Server]"
INSERT = "INSERT INTO t (id, name) VALUES (:id, :name)"


def driver_error(
    cls: type[pyodbc.Error], state: str, text: str, native: int, func: str = "SQLExecDirectW"
) -> Exception:
    """A pyodbc error as pyodbc builds it from the first ODBC diagnostic record."""
    return cls(state, f"[{state}] {text} ({native}) ({func})")


def translate(
    db: MSSQLDatabase, orig: Exception, statement: str | None = INSERT, phase: Phase = "query"
) -> StoreroomError:
    """Raise ``orig`` the way SQLAlchemy does (DBAPIError.instance, real dialect's
    disconnect check) inside the database's own translation scope."""
    dialect = db.engine.dialect
    wrapped = sa_exc.DBAPIError.instance(
        statement,
        {"id": 1, "name": "param-secret"},
        orig,
        pyodbc.Error,
        hide_parameters=True,
        connection_invalidated=dialect.is_disconnect(orig, None, None),
        dialect=dialect,
    )
    with pytest.raises(StoreroomError) as caught, db._errors(statement, phase):
        raise wrapped
    error = caught.value
    assert error.__cause__ is wrapped
    assert "param-secret" not in str(error) and "param-secret" not in str(wrapped)
    return error


# -- constraint violations ---------------------------------------------------------------------


def test_unique_key_violation(db: MSSQLDatabase) -> None:
    orig = driver_error(
        pyodbc.IntegrityError,
        "23000",
        f"{SERVER}Violation of UNIQUE KEY constraint 'uq_x'. Cannot insert duplicate key in object 'dbo.t'. "
        "The duplicate key value is (alice@example.com).",
        2627,
    )
    error = translate(db, orig)
    assert type(error) is IntegrityError
    assert error.constraint == "uq_x"
    assert error.statement == INSERT
    assert error.native_error == 2627
    assert "Violation of UNIQUE KEY constraint 'uq_x'" in str(error)
    assert "SQLSTATE 23000, error 2627" in str(error)
    assert "alice@example.com" not in str(error)  # data values never reach our message
    assert "[Microsoft]" not in str(error)


def test_primary_key_violation_with_the_statement_terminated_record(db: MSSQLDatabase) -> None:
    # Windows pyodbc reads every diagnostic record and joins them with "; "
    orig = pyodbc.IntegrityError(
        "23000",
        f"[23000] {SERVER}Violation of PRIMARY KEY constraint 'PK__t__3213E83F4B1A2C3D'. Cannot insert duplicate "
        "key in object 'dbo.t'. The duplicate key value is (1). (2627) (SQLExecDirectW); "
        f"[23000] {SERVER}The statement has been terminated. (3621)",
    )
    error = translate(db, orig)
    assert isinstance(error, IntegrityError)
    assert error.constraint == "PK__t__3213E83F4B1A2C3D"
    assert "terminated" not in str(error)


def test_unique_index_violation(db: MSSQLDatabase) -> None:
    orig = driver_error(
        pyodbc.IntegrityError,
        "23000",
        f"{SERVER}Cannot insert duplicate key row in object 'dbo.t' with unique index 'ix_t_name'. "
        "The duplicate key value is (bob).",
        2601,
    )
    error = translate(db, orig)
    assert isinstance(error, IntegrityError)
    assert error.constraint == "ix_t_name"
    assert "(bob)" not in str(error)


@pytest.mark.parametrize(
    ("text", "constraint"),
    [
        (
            'The INSERT statement conflicted with the FOREIGN KEY constraint "fk_child_parent". The conflict '
            'occurred in database "app", table "dbo.parent", column \'id\'.',
            "fk_child_parent",
        ),
        (
            'The DELETE statement conflicted with the REFERENCE constraint "fk_child_parent". The conflict '
            'occurred in database "app", table "dbo.child", column \'parent_id\'.',
            "fk_child_parent",
        ),
        (
            'The INSERT statement conflicted with the CHECK constraint "ck_t_score". The conflict occurred in '
            'database "app", table "dbo.t", column \'score\'.',
            "ck_t_score",
        ),
        (
            'The UPDATE statement conflicted with the FOREIGN KEY SAME TABLE constraint "fk_t_manager". The '
            'conflict occurred in database "app", table "dbo.t", column \'id\'.',
            "fk_t_manager",
        ),
    ],
)
def test_foreign_key_and_check_violations(db: MSSQLDatabase, text: str, constraint: str) -> None:
    error = translate(db, driver_error(pyodbc.IntegrityError, "23000", SERVER + text, 547))
    assert isinstance(error, IntegrityError)
    assert error.constraint == constraint


def test_not_null_violation_names_the_column(db: MSSQLDatabase) -> None:
    orig = driver_error(
        pyodbc.IntegrityError,
        "23000",
        f"{SERVER}Cannot insert the value NULL into column 'name', table 'app.dbo.t'; column does not allow "
        "nulls. INSERT fails.",
        515,
    )
    error = translate(db, orig)
    assert isinstance(error, IntegrityError)
    assert error.constraint is None  # SQL Server's NOT NULL has no name
    assert error.column == "name"


# -- retryable transaction failures --------------------------------------------------------------


def test_deadlock_victim_is_retryable(db: MSSQLDatabase) -> None:
    orig = driver_error(
        pyodbc.Error,  # pyodbc has no class for SQLSTATE 40001
        "40001",
        f"{SERVER}Transaction (Process ID 57) was deadlocked on lock resources with another process and has "
        "been chosen as the deadlock victim. Rerun the transaction.",
        1205,
    )
    error = translate(db, orig)
    assert type(error) is TransactionError
    assert error.retryable is True
    assert "deadlock victim" in str(error)


def test_snapshot_update_conflict_is_retryable(db: MSSQLDatabase) -> None:
    orig = driver_error(
        pyodbc.ProgrammingError,
        "42000",
        f"{SERVER}Snapshot isolation transaction aborted due to update conflict. You cannot use snapshot "
        "isolation to access table 'dbo.t' directly or indirectly in database 'app' to update, delete, or insert "
        "the row that has been modified or deleted by another transaction. Retry the transaction or change the "
        "isolation level for the update/delete statement.",
        3960,
    )
    error = translate(db, orig)
    assert type(error) is TransactionError and error.retryable


def test_lock_timeout_is_retryable_even_with_a_timeout_sqlstate(db: MSSQLDatabase) -> None:
    orig = driver_error(pyodbc.OperationalError, "HYT00", f"{SERVER}Lock request time out period exceeded.", 1222)
    error = translate(db, orig)
    assert type(error) is TransactionError and error.retryable


def test_snapshot_not_enabled_says_how_to_enable_it(db: MSSQLDatabase) -> None:
    orig = driver_error(
        pyodbc.ProgrammingError,
        "42000",
        f"{SERVER}Snapshot isolation transaction failed accessing database 'app' because snapshot isolation is "
        "not allowed in this database. Use ALTER DATABASE to allow snapshot isolation.",
        3952,
    )
    error = translate(db, orig)
    assert type(error) is TransactionError and not error.retryable
    assert "ALLOW_SNAPSHOT_ISOLATION ON" in str(error)


# -- connections -----------------------------------------------------------------------------------


def test_login_failed_is_a_connection_failure_without_the_password(db: MSSQLDatabase) -> None:
    orig = driver_error(
        pyodbc.InterfaceError, "28000", f"{SERVER}Login failed for user 'app'.", 18456, "SQLDriverConnect"
    )
    error = translate(db, orig, None, "connect")
    assert type(error) is ConnectionFailedError
    assert "Login failed for user 'app'" in str(error)
    assert "127.0.0.1" in str(error)  # the connect phase names the (masked) URL
    assert PASSWORD not in str(error) and PASSWORD not in repr(error)


@pytest.mark.parametrize(
    ("cls", "state", "text", "native"),
    [
        (pyodbc.OperationalError, "08001", f"{DRIVER}TCP Provider: Error code 0x2749", 10057),
        (
            pyodbc.OperationalError,
            "08001",
            f"{DRIVER}Named Pipes Provider: Could not open a connection to SQL Server [53]. ",
            53,
        ),
        (pyodbc.OperationalError, "HYT00", f"{DRIVER}Login timeout expired", 0),
    ],
)
def test_unreachable_server_is_a_connection_failure(
    db: MSSQLDatabase, cls: type[pyodbc.Error], state: str, text: str, native: int
) -> None:
    error = translate(db, driver_error(cls, state, text, native, "SQLDriverConnect"), None, "connect")
    assert type(error) is ConnectionFailedError
    assert PASSWORD not in str(error)


def test_login_timeout_outside_the_connect_phase_is_still_a_connection_failure(db: MSSQLDatabase) -> None:
    # pre_ping reconnects inside a query call
    orig = driver_error(pyodbc.OperationalError, "HYT00", f"{DRIVER}Login timeout expired", 0, "SQLDriverConnect")
    error = translate(db, orig, "SELECT 1")
    assert type(error) is ConnectionFailedError and "login timeout" in str(error)


def test_connection_killed_mid_query_is_a_connection_failure(db: MSSQLDatabase) -> None:
    orig = driver_error(pyodbc.OperationalError, "08S01", f"{DRIVER}Communication link failure", 0)
    error = translate(db, orig, "SELECT 1")
    assert type(error) is ConnectionFailedError


def test_closed_connection_from_pyodbc_itself(db: MSSQLDatabase) -> None:
    orig = pyodbc.ProgrammingError("Attempt to use a closed connection.", "HY000")  # pyodbc's own argument order
    diag = parse_diagnostic(orig)
    assert diag is not None and diag.sqlstate == "HY000" and diag.native is None
    error = translate(db, orig, "SELECT 1")
    assert type(error) is ConnectionFailedError  # SQLAlchemy flags it as a disconnect


# -- query failures --------------------------------------------------------------------------------


def test_query_timeout_is_a_query_error_saying_timeout(db: MSSQLDatabase) -> None:
    orig = driver_error(pyodbc.OperationalError, "HYT00", f"{DRIVER}Query timeout expired", 0)
    assert db.engine.dialect.is_disconnect(orig, None, None)  # SQLAlchemy discards the connection ...
    error = translate(db, orig, "WAITFOR DELAY '00:00:10'")
    assert type(error) is QueryError  # ... but the caller learns what happened
    assert error.timeout is True
    assert "query timeout" in str(error) and "statement_timeout" in str(error)
    assert error.statement == "WAITFOR DELAY '00:00:10'"


def test_syntax_error_is_a_query_error_with_the_statement(db: MSSQLDatabase) -> None:
    orig = driver_error(pyodbc.ProgrammingError, "42000", f"{SERVER}Incorrect syntax near 'SELEC'.", 102)
    error = translate(db, orig, "SELEC nonsense FROM nowhere")
    assert type(error) is QueryError
    assert "Incorrect syntax near 'SELEC'. (SQLSTATE 42000, error 102)" in str(error)
    assert "[statement: SELEC nonsense FROM nowhere]" in str(error)


def test_truncated_value_is_not_repeated(db: MSSQLDatabase) -> None:
    orig = driver_error(
        pyodbc.DataError,
        "22001",
        f"{SERVER}String or binary data would be truncated in table 'app.dbo.t', column 'name'. "
        "Truncated value: 'my-private-value'.",
        2628,
    )
    error = translate(db, orig)
    assert type(error) is QueryError
    assert "column 'name'" in str(error) and "my-private-value" not in str(error)


def test_missing_object_is_a_query_error(db: MSSQLDatabase) -> None:
    orig = driver_error(pyodbc.ProgrammingError, "42S02", f"{SERVER}Invalid object name 'missing_t'.", 208)
    error = translate(db, orig, "DELETE FROM missing_t")
    assert type(error) is QueryError and not isinstance(error, IntegrityError)


# -- driver and pool -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "orig",
    [
        # exactly what unixODBC says on this machine (see test_live_here.py)
        pyodbc.Error(
            "01000",
            "[01000] [unixODBC][Driver Manager]Can't open lib 'ODBC Driver 18 for SQL Server' : file not found "
            "(0) (SQLDriverConnect)",
        ),
        pyodbc.InterfaceError(
            "IM002",
            "[IM002] [unixODBC][Driver Manager]Data source name not found and no default driver specified "
            "(0) (SQLDriverConnect)",
        ),
    ],
)
def test_missing_driver_says_what_to_install(db: MSSQLDatabase, orig: Exception) -> None:
    error = translate(db, orig, None, "connect")
    assert type(error) is ConnectionFailedError
    assert "msodbcsql18" in str(error) and "odbcinst -q -d" in str(error)
    assert "[unixODBC]" not in str(error)


def test_pool_exhaustion_is_a_pool_timeout(db: MSSQLDatabase) -> None:
    exhausted = sa_exc.TimeoutError("QueuePool limit of size 1 overflow 0 reached, connection timed out, timeout 1.00")
    with pytest.raises(PoolTimeoutError) as caught, db._errors(None, "connect"):
        raise exhausted
    assert caught.value.__cause__ is exhausted
    assert "pool.size" in str(caught.value)


def test_other_exceptions_pass_through_unchanged(db: MSSQLDatabase) -> None:
    boom = KeyError("x")
    with pytest.raises(KeyError) as caught, db._errors("SELECT 1"):
        raise boom
    assert caught.value is boom


def test_parse_diagnostic_ignores_foreign_exceptions() -> None:
    assert parse_diagnostic(ValueError("[x] y (1)")) is None
    assert parse_diagnostic(None) is None
    diag = parse_diagnostic(driver_error(pyodbc.IntegrityError, "23000", f"{SERVER}oops (1).", 50000))
    assert diag is not None and (diag.sqlstate, diag.native, diag.text) == ("23000", 50000, "oops (1).")


def test_all_translations_are_database_errors(db: MSSQLDatabase) -> None:
    orig = driver_error(pyodbc.Error, "HY000", f"{SERVER}Something unexpected.", 50000)
    assert isinstance(translate(db, orig, "SELECT 1"), DatabaseError)
