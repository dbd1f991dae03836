"""Live on this machine, no SQL Server needed: real pyodbc/aioodbc against a missing ODBC
driver and a closed port. Every call must fail cleanly, health must say UNHEALTHY, and
the password must never show.
"""

from __future__ import annotations

import contextlib

import pytest

from _mssql_support import PASSWORD, UNREACHABLE_URL, require_pyodbc
from storeroom.errors import ConnectionFailedError
from storeroom.health import HealthStatus
from storeroom_mssql import AsyncMSSQLDatabase, MSSQLDatabase

#: skips this module (fails it with CI=true) where pyodbc cannot load unixODBC
pyodbc = require_pyodbc()

#: this machine has no SQL Server ODBC driver; where one is installed the port is still closed
DRIVER_MISSING = "ODBC Driver 18 for SQL Server" not in pyodbc.drivers()


def _chain(error: BaseException) -> str:
    parts = []
    current: BaseException | None = error
    while current is not None:
        parts.append(f"{current!s} {current!r}")
        current = current.__cause__
    return " ".join(parts)


def _assert_unreachable(error: ConnectionFailedError) -> None:
    text = str(error)
    if DRIVER_MISSING:
        assert "ODBC driver is missing" in text and "msodbcsql18" in text
        assert "Can't open lib 'ODBC Driver 18 for SQL Server'" in text
    assert "127.0.0.1" in text  # the connect phase names the server (password masked)
    assert PASSWORD not in _chain(error)
    assert isinstance(error.__cause__, Exception)
    assert isinstance(error.__cause__.orig, pyodbc.Error)  # type: ignore[attr-defined]


def test_every_call_raises_connection_failed() -> None:
    with MSSQLDatabase(UNREACHABLE_URL, name="main", connect_timeout=1) as db:
        calls = [
            lambda: db.fetch_value("SELECT 1"),
            lambda: db.execute("DELETE FROM t WHERE id = :id", {"id": 1}),
            lambda: db.execute_many("DELETE FROM t WHERE id = :id", [{"id": 1}]),
            lambda: db.bulk_insert("t", [{"id": 1}]),
            lambda: list(db.stream("SELECT 1")),
            db.server_version,
        ]
        for call in calls:
            with pytest.raises(ConnectionFailedError) as caught:
                call()
            _assert_unreachable(caught.value)
        with pytest.raises(ConnectionFailedError) as caught, db.transaction():
            pass
        _assert_unreachable(caught.value)
        assert db.pool_info().checked_out == 0  # nothing leaked by the failures


def test_health_is_unhealthy_never_an_exception() -> None:
    with MSSQLDatabase(UNREACHABLE_URL, name="main", connect_timeout=1) as db:
        result = db.health_check(timeout=5)
        assert result.status is HealthStatus.UNHEALTHY
        assert result.component == "databases.main"
        assert result.message.startswith("ConnectionFailedError:")
        assert "msodbcsql18" in result.message or not DRIVER_MISSING
        assert result.details["driver"] == "mssql+pyodbc" and result.details["server_version"] is None
        shown = f"{result.to_dict()} {db!r} {db!s}"
        assert PASSWORD not in shown
        assert "product_version" not in result.details  # facts come only from a server that answered


def test_stream_is_lazy_even_when_the_server_is_unreachable() -> None:
    with MSSQLDatabase(UNREACHABLE_URL, name="main") as db:
        rows = db.stream("SELECT 1")  # nothing happens before iteration
        with pytest.raises(ConnectionFailedError):
            next(rows)


def test_other_missing_driver_name_is_named_in_the_hint() -> None:
    with MSSQLDatabase(UNREACHABLE_URL, name="main", driver="No Such Driver 99") as db:
        with pytest.raises(ConnectionFailedError, match="No Such Driver 99") as caught:
            db.fetch_value("SELECT 1")
        assert "'driver'" in str(caught.value)


def test_odbc_connect_password_never_leaks_through_a_failure() -> None:
    raw = "DRIVER={ODBC Driver 18 for SQL Server};Server=127.0.0.1,1;UID=app;PWD={Odbc;Secret-42}"
    with MSSQLDatabase.from_settings("main", {"backend": "mssql", "odbc_connect": raw}) as db:
        with pytest.raises(ConnectionFailedError) as caught:
            db.fetch_value("SELECT 1")
        result = db.health_check(timeout=5)
    for text in (_chain(caught.value), str(result.to_dict()), repr(db)):
        assert "Secret-42" not in text and "Odbc;" not in text


@pytest.mark.asyncio
async def test_async_side_fails_the_same_way() -> None:
    adb = AsyncMSSQLDatabase(UNREACHABLE_URL, name="main", connect_timeout=1)
    try:
        with pytest.raises(ConnectionFailedError) as caught:
            await adb.fetch_value("SELECT 1")
        _assert_unreachable(caught.value)
        with pytest.raises(ConnectionFailedError):
            async with adb.transaction():
                pass
        with pytest.raises(ConnectionFailedError):
            await adb.server_version()
        rows = adb.stream("SELECT 1")
        with pytest.raises(ConnectionFailedError):
            async with contextlib.aclosing(rows):  # type: ignore[type-var]
                await rows.__anext__()
        result = await adb.health_check(timeout=5)
        assert result.status is HealthStatus.UNHEALTHY
        assert "msodbcsql18" in result.message or not DRIVER_MISSING
        assert PASSWORD not in f"{result.to_dict()} {adb!r}"
        assert adb.pool_info().checked_out == 0
    finally:
        await adb.close()
    assert adb.closed
