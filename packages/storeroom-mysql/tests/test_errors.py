"""Constraint names, masked values and classification from real server messages."""

from __future__ import annotations

import pymysql
import pytest
from sqlalchemy import exc as sa_exc

from storeroom.errors import ConnectionFailedError, IntegrityError, QueryError, TransactionError
from storeroom_mysql._errors import MySQLErrorTranslator, constraint_from_message, error_code, mask_values

MESSAGES = [
    # (code, server message, constraint)
    (1062, "Duplicate entry 'alice@example.com' for key 'users_email_uq'", "users_email_uq"),
    (1062, "Duplicate entry '7-x' for key 'orders.orders_ref_uq'", "orders_ref_uq"),  # MySQL 8 prefixes the table
    (1062, "Duplicate entry 'it's ' for key ' odd' for key 'PRIMARY'", "PRIMARY"),
    (
        1452,
        "Cannot add or update a child row: a foreign key constraint fails (`test`.`child`, CONSTRAINT "
        "`child_parent_fk` FOREIGN KEY (`pid`) REFERENCES `parent` (`id`))",
        "child_parent_fk",
    ),
    (
        1451,
        "Cannot delete or update a parent row: a foreign key constraint fails (`test`.`child`, CONSTRAINT "
        "`we``ird` FOREIGN KEY (`pid`) REFERENCES `parent` (`id`))",
        "we`ird",
    ),
    (3819, "Check constraint 'child_qty_ck' is violated.", "child_qty_ck"),
    (4025, "CONSTRAINT `child_qty_ck` failed for `test`.`child`", "child_qty_ck"),
    (1048, "Column 'name' cannot be null", None),
]


@pytest.mark.parametrize(("code", "message", "constraint"), MESSAGES)
def test_constraint_names(code: int, message: str, constraint: str | None) -> None:
    assert constraint_from_message(code, message) == constraint


def test_values_are_masked() -> None:
    assert mask_values("Duplicate entry 'x' y' for key 'k'") == "Duplicate entry '***' for key 'k'"
    assert (
        mask_values("Incorrect integer value: 'secret' for column `t`.`n` at row 1")
        == "Incorrect integer value: '***' for column `t`.`n` at row 1"
    )
    assert mask_values("Truncated incorrect DOUBLE value: 'abc'") == "Truncated incorrect DOUBLE value: '***'"
    assert mask_values("Table 'test.nope' doesn't exist") == "Table 'test.nope' doesn't exist"


def _wrapped(orig: Exception, statement: str = "INSERT INTO t (a) VALUES (%(a)s)") -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError.instance(statement, {"a": "hidden"}, orig, pymysql.err.Error, hide_parameters=True)


def _translate(orig: Exception, phase: str = "query") -> Exception | None:
    return MySQLErrorTranslator().translate(_wrapped(orig), database="main", phase=phase)  # type: ignore[arg-type]


def test_duplicate_becomes_integrity_error_with_masked_value_everywhere() -> None:
    orig = pymysql.err.IntegrityError(1062, "Duplicate entry 'top-secret-value' for key 'users_email_uq'")
    wrapped = _wrapped(orig)
    error = MySQLErrorTranslator().translate(wrapped, database="main")
    assert isinstance(error, IntegrityError)
    assert error.constraint == "users_email_uq"
    assert error.code == 1062  # type: ignore[attr-defined]
    for item in (error, wrapped, orig):
        assert "top-secret-value" not in str(item) and "top-secret-value" not in repr(item)


def test_mariadb_check_failure_is_integrity_although_pymysql_says_operational() -> None:
    error = _translate(pymysql.err.OperationalError(4025, "CONSTRAINT `qty_ck` failed for `test`.`t`"))
    assert isinstance(error, IntegrityError) and error.constraint == "qty_ck"


def test_not_null_names_the_column() -> None:
    error = _translate(pymysql.err.IntegrityError(1048, "Column 'email' cannot be null"))
    assert isinstance(error, IntegrityError)
    assert error.column == "email"  # type: ignore[attr-defined]


@pytest.mark.parametrize("code", [1213, 1205])
def test_deadlock_and_lock_wait_are_retryable(code: int) -> None:
    error = _translate(pymysql.err.OperationalError(code, "Deadlock found when trying to get lock"))
    assert isinstance(error, TransactionError) and error.retryable is True


@pytest.mark.parametrize("code", [1969, 3024])
def test_statement_timeouts(code: int) -> None:
    error = _translate(pymysql.err.OperationalError(code, "Query execution was interrupted"))
    assert type(error) is QueryError
    assert "timeout" in str(error) and error.timeout is True  # type: ignore[attr-defined]


@pytest.mark.parametrize("code", [2003, 1045, 1044, 1049, 2006, 2013, 1040])
def test_connection_failures(code: int) -> None:
    error = _translate(pymysql.err.OperationalError(code, "Access denied for user 'app'@'h' (using password: YES)"))
    assert isinstance(error, ConnectionFailedError)


def test_other_errors_use_the_generic_mapping() -> None:
    error = _translate(pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax"))
    assert type(error) is QueryError
    assert error_code(pymysql.err.ProgrammingError("no code")) is None
