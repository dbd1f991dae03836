"""Generic error translation, exercised with real sqlite errors through a plain SqlaDatabase."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from storeroom.errors import ConnectionFailedError, IntegrityError, PoolTimeoutError, QueryError
from storeroom.sqla import ErrorTranslator, SqlaDatabase, translating


class PlainSQLite(SqlaDatabase):
    PLUGIN_NAME = "plain-sqlite"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[PlainSQLite]:
    with PlainSQLite(f"sqlite:///{tmp_path}/e.db", name="e") as database:
        database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(10) NOT NULL)")
        yield database


def test_query_error_carries_statement_and_cause(db: PlainSQLite) -> None:
    with pytest.raises(QueryError) as caught:
        db.fetch_all("SELECT nope FROM t")
    error = caught.value
    assert error.statement == "SELECT nope FROM t"
    assert isinstance(error.__cause__, sa_exc.OperationalError)
    assert "no such column" in str(error) and "'e'" in str(error)
    assert "[parameters" not in str(error) and "sqlalche.me" not in str(error)


def test_integrity_error(db: PlainSQLite) -> None:
    db.execute("INSERT INTO t (id, name) VALUES (1, 'a')")
    with pytest.raises(IntegrityError) as caught:
        db.execute("INSERT INTO t (id, name) VALUES (:id, :name)", {"id": 1, "name": "Param-Secret"})
    assert "Param-Secret" not in str(caught.value)
    assert "Param-Secret" not in str(caught.value.__cause__)  # engines hide parameters


def test_statement_without_rows(db: PlainSQLite) -> None:
    with pytest.raises(QueryError, match="use execute"):
        db.fetch_all("DELETE FROM t")


def test_translator_maps_pool_timeouts_and_connect_failures() -> None:
    translator = ErrorTranslator()
    pool_error = translator.translate(sa_exc.TimeoutError("QueuePool limit reached"), database="d")
    assert isinstance(pool_error, PoolTimeoutError) and "'d'" in str(pool_error)
    dbapi = sa_exc.OperationalError("connect", {}, Exception("could not connect: password=Hidden-123"))
    failed = translator.translate(dbapi, database="d", phase="connect", url="postgresql://u:***@h/db")
    assert isinstance(failed, ConnectionFailedError)
    assert "Hidden-123" not in str(failed) and "postgresql://u:***@h/db" in str(failed)
    assert translator.translate(ValueError("not ours"), database="d") is None


def test_translating_leaves_foreign_exceptions_alone() -> None:
    with pytest.raises(KeyError), translating(ErrorTranslator(), "d"):
        raise KeyError("x")
    with pytest.raises(QueryError), translating(ErrorTranslator(), "d", "SELECT"):
        raise sa_exc.InvalidRequestError("bad request")


def test_bound_values_quoted_by_the_server_are_masked() -> None:
    translator = ErrorTranslator()
    orig = Exception('invalid input syntax for type integer: "Secret-Value-9"\nLINE 1: ...')
    error = sa_exc.DataError("INSERT ...", {"id": "Secret-Value-9", "n": 12}, orig, hide_parameters=True)
    translated = translator.translate(error, database="d")
    assert isinstance(translated, QueryError)
    assert "Secret-Value-9" not in str(translated) and 'integer: "***"' in str(translated)
    many = sa_exc.DataError("INSERT ...", [{"v": "aa"}, {"v": "Other-Secret"}], Exception("bad Other-Secret"))
    assert "Other-Secret" not in str(translator.translate(many, database="d"))
