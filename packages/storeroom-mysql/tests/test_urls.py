"""URL and driver resolution: no server needed (engines connect lazily)."""

from __future__ import annotations

import asyncio

import pytest

from storeroom.errors import ConfigurationError
from storeroom_mysql import AsyncMySQLDatabase, MySQLDatabase
from storeroom_mysql._urls import resolve_mysql_url


@pytest.mark.parametrize(
    ("given", "sync", "asyn"),
    [
        ("mysql://u@h/db", "mysql+pymysql", "mysql+asyncmy"),
        ("mariadb://u@h/db", "mariadb+pymysql", "mariadb+asyncmy"),
        ("mysql+pymysql://u@h/db", "mysql+pymysql", "mysql+asyncmy"),
        ("mysql+asyncmy://u@h/db", "mysql+pymysql", "mysql+asyncmy"),
        ("mysql+aiomysql://u@h/db", "mysql+pymysql", "mysql+aiomysql"),
        ("mysql+mysqldb://u@h/db", "mysql+mysqldb", "mysql+asyncmy"),
        ("mariadb+asyncmy://u@h/db", "mariadb+pymysql", "mariadb+asyncmy"),
    ],
)
def test_each_side_gets_its_driver(given: str, sync: str, asyn: str) -> None:
    assert resolve_mysql_url(given, is_async=False).drivername == sync
    assert resolve_mysql_url(given, is_async=True).drivername == asyn


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "sqlite:///x.db", "mssql://u@h/db", "not a url"])
def test_other_schemes_are_refused_naming_the_key(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_mysql_url(url, is_async=False)
    assert caught.value.key == "url"  # type: ignore[attr-defined]


def test_databases_resolve_lazily_and_keep_the_rest_of_the_url() -> None:
    with MySQLDatabase("mysql://app:Pa55-w0rd-x@db.example:3307/shop?charset=latin1", name="shop") as db:
        assert db.url.drivername == "mysql+pymysql"
        assert (db.url.host, db.url.port, db.url.database) == ("db.example", 3307, "shop")
        assert db.url.query["charset"] == "latin1"
        assert db.engine.dialect.name == "mysql" and db.engine.dialect.driver == "pymysql"
        assert type(db).transactional_ddl is False
        assert db.flavour is None  # nothing connected yet
    adb = AsyncMySQLDatabase("mariadb://app@db.example/shop", name="shop")
    assert adb.engine.dialect.driver == "asyncmy"
    assert adb.engine.dialect.is_mariadb
    asyncio.run(adb.close())


def test_missing_driver_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="driver installed"):
        MySQLDatabase("mysql+nosuchdriver://u@h/db")
