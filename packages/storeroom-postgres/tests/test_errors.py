"""SQLSTATE-based translation, with psycopg's own exception classes (no server needed)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc

from storeroom.errors import ConnectionFailedError, IntegrityError, PoolTimeoutError, QueryError, TransactionError
from storeroom_postgres._errors import PostgresErrorTranslator

translator = PostgresErrorTranslator()


def _wrapped(orig: Exception, params: object = None) -> sa_exc.DBAPIError:
    error = sa_exc.DBAPIError.instance("UPDATE t SET n = :n", params, orig, psycopg.Error, hide_parameters=True)
    assert isinstance(error, sa_exc.DBAPIError)
    return error


@pytest.mark.parametrize(
    ("orig", "state"),
    [
        (pg_errors.DeadlockDetected("deadlock detected"), "40P01"),
        (pg_errors.SerializationFailure("could not serialize access due to concurrent update"), "40001"),
        (pg_errors.LockNotAvailable("could not obtain lock on row"), "55P03"),
    ],
)
def test_retryable_conflicts(orig: Exception, state: str) -> None:
    error = translator.translate(_wrapped(orig), database="main", statement="UPDATE t SET n = :n")
    assert isinstance(error, TransactionError) and error.retryable
    assert error.sqlstate == state  # type: ignore[attr-defined]
    assert "'main'" in str(error) and "again" in str(error)


@pytest.mark.parametrize(
    "orig",
    [
        pg_errors.InvalidPassword('password authentication failed for user "app"'),
        pg_errors.InvalidCatalogName('database "nope" does not exist'),
        pg_errors.AdminShutdown("terminating connection due to administrator command"),
        pg_errors.TooManyConnections("sorry, too many clients already"),
    ],
)
def test_connection_failures(orig: Exception) -> None:
    error = translator.translate(_wrapped(orig), database="main", url="postgresql://app:***@h/db")
    assert isinstance(error, ConnectionFailedError)


def test_statement_timeout_and_cancel() -> None:
    timeout = translator.translate(
        _wrapped(pg_errors.QueryCanceled("canceling statement due to statement timeout")),
        database="main",
        statement="SELECT pg_sleep(9)",
    )
    assert isinstance(timeout, QueryError) and not isinstance(timeout, IntegrityError)
    assert timeout.timeout is True and "timed out" in str(timeout)  # type: ignore[attr-defined]
    assert timeout.statement == "SELECT pg_sleep(9)"
    cancelled = translator.translate(
        _wrapped(pg_errors.QueryCanceled("canceling statement due to user request")), database="main"
    )
    assert isinstance(cancelled, QueryError) and cancelled.timeout is False  # type: ignore[attr-defined]


def test_integrity_errors_keep_the_generic_shape_plus_sqlstate() -> None:
    error = translator.translate(
        _wrapped(pg_errors.UniqueViolation('duplicate key value violates unique constraint "t_pkey"')),
        database="main",
        statement="INSERT ...",
    )
    assert isinstance(error, IntegrityError) and error.sqlstate == "23505"  # type: ignore[attr-defined]


def test_quoted_parameter_values_are_masked() -> None:
    orig = pg_errors.InvalidTextRepresentation('invalid input syntax for type integer: "Top-Secret-1"')
    error = translator.translate(_wrapped(orig, {"n": "Top-Secret-1"}), database="main", statement="UPDATE t")
    assert isinstance(error, QueryError) and "Top-Secret-1" not in f"{error} {error!r}"


def test_pool_timeout_and_foreign_exceptions() -> None:
    assert isinstance(translator.translate(sa_exc.TimeoutError("QueuePool limit"), database="d"), PoolTimeoutError)
    assert translator.translate(KeyError("x"), database="d") is None
