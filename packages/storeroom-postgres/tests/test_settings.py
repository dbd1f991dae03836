"""PostgresSettings and construction from settings, through the real Storeroom and plugin (no server)."""

from __future__ import annotations

from typing import Any

import pytest

import storeroom_postgres.plugin
from storeroom.errors import ConfigurationError
from storeroom.plugins import PluginManager
from storeroom.room import Storeroom
from storeroom_postgres import AsyncPostgresDatabase, PostgresDatabase, PostgresSettings


@pytest.fixture
def plugins() -> PluginManager:
    manager = PluginManager(load_entry_points=False)
    manager.register(storeroom_postgres.plugin, name="postgres")
    return manager


def _room(plugins: PluginManager, **databases: dict[str, Any]) -> Storeroom:
    return Storeroom.from_settings({"databases": databases}, plugins=plugins, embedded_default=False)


def test_defaults() -> None:
    settings = PostgresSettings(backend="postgres", url="postgresql://u@h/db")
    assert settings.connect_timeout == 10.0 and settings.statement_timeout is None
    assert settings.application_name == "storeroom"
    assert settings.pool.pre_ping is True and settings.pool.lifo is True
    assert settings.tls() == {}


def test_plugin_registers_both_sides(plugins: PluginManager) -> None:
    assert plugins.databases.get("postgres") is PostgresDatabase
    assert plugins.databases.get_async("postgres") is AsyncPostgresDatabase


def test_from_settings_with_url(plugins: PluginManager) -> None:
    with _room(
        plugins,
        main={
            "backend": "postgres",
            "url": "postgresql://app:s3cret-pw@db.internal:6432/shop",
            "pool": {"size": 3, "max_overflow": 2, "timeout": 4, "recycle": 60},
            "statement_timeout": 2.5,
            "connect_timeout": 3,
            "application_name": "shop-api",
            "sslmode": "verify-full",
            "sslrootcert": "/etc/ssl/root.crt",
        },
    ) as room:
        db = room.database()
        assert isinstance(db, PostgresDatabase) and db.native
        assert db.url.drivername == "postgresql+psycopg"
        assert db.pool_info().size == 3 and db.pool_info().available == 5
        assert db.statement_timeout == 2.5 and db.connect_timeout == 3.0
        args = db._connect_args(db.url)
        assert args == {
            "connect_timeout": 3,
            "application_name": "shop-api",
            "options": "-c statement_timeout=2500",
            "sslmode": "verify-full",
            "sslrootcert": "/etc/ssl/root.crt",
        }
        adb = room.async_database()
        assert isinstance(adb, AsyncPostgresDatabase)
        assert adb.url.drivername == "postgresql+psycopg"
        assert "s3cret-pw" not in f"{db!r} {adb!r} {db!s}"


def test_from_settings_with_parts(plugins: PluginManager) -> None:
    with _room(
        plugins,
        main={
            "backend": "postgres",
            "host": "db.internal",
            "port": 5433,
            "user": "app",
            "password": "p@ss/word:with#chars",
            "database": "shop",
            "options": {"target_session_attrs": "read-write"},
            "sslpassword": "key-passphrase",
        },
    ) as room:
        db = room.database()
        url = db.url
        assert (url.host, url.port, url.username, url.database) == ("db.internal", 5433, "app", "shop")
        assert url.password == "p@ss/word:with#chars"
        assert url.query["target_session_attrs"] == "read-write"
        assert "p@ss/word" not in repr(db)
        assert db._connect_args(url)["sslpassword"] == "key-passphrase"


def test_url_options_merge_with_statement_timeout() -> None:
    db = PostgresDatabase(
        "postgresql://u@h/db?options=-c%20search_path%3Dshop&application_name=given", statement_timeout=0.0004
    )
    args = db._connect_args(db.url)
    assert args["options"] == "-c search_path=shop -c statement_timeout=1"
    assert "application_name" not in args  # the URL's own value is kept


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
    ],
)
def test_driver_resolution(given: str, expected: str) -> None:
    assert PostgresDatabase(given).url.drivername == expected
    assert AsyncPostgresDatabase(given).url.drivername == expected


def test_each_side_swaps_the_other_sides_drivers() -> None:
    assert AsyncPostgresDatabase("postgresql+psycopg2://u@h/db").url.drivername == "postgresql+psycopg"
    assert PostgresDatabase("postgresql+asyncpg://u@h/db").url.drivername == "postgresql+psycopg"


def test_explicit_driver_that_is_not_installed() -> None:
    with pytest.raises(ConfigurationError, match="is the driver installed") as caught:
        PostgresDatabase("postgresql+psycopg2://u:pw-123456@h/db")
    assert "pw-123456" not in str(caught.value)


def test_other_dialect_url_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="postgresql://") as caught:
        PostgresDatabase("mysql://u@h/db")
    assert caught.value.key == "url"


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"url": "mysql://u:pw@h/db"}, "databases.main.url"),
        ({"url": "postgresql://u@h/db", "statement_timeout": 0}, "databases.main.statement_timeout"),
        ({"url": "postgresql://u@h/db", "connect_timeout": -1}, "databases.main.connect_timeout"),
        ({"url": "postgresql://u@h/db", "sslmode": "sometimes"}, "databases.main.sslmode"),
        ({"url": "postgresql://u@h/db", "pool": {"size": 0}}, "databases.main.pool.size"),
        ({"url": "postgresql://u@h/db", "port": 70000}, "databases.main.port"),
        ({"url": "postgresql://u@h/db", "statment_timeout": 3}, "databases.main.statment_timeout"),
        ({"url": "postgresql://u@h/db", "application_name": ""}, "databases.main.application_name"),
    ],
)
def test_validation_errors_name_the_key(plugins: PluginManager, entry: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _room(plugins, main={"backend": "postgres", **entry})
    assert caught.value.key == key
    assert key in str(caught.value)


def test_url_and_host_together_is_an_error(plugins: PluginManager) -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        _room(plugins, main={"backend": "postgres", "url": "postgresql://u@h/db", "host": "h"})


def test_password_never_shown_in_validation_errors(plugins: PluginManager) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _room(plugins, main={"backend": "postgres", "url": "postgresql://u:Very-Secret-1@h/db", "port": "x"})
    assert "Very-Secret-1" not in str(caught.value) and "Very-Secret-1" not in repr(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"statement_timeout": 0}, "statement_timeout"),
        ({"connect_timeout": -2}, "connect_timeout"),
        ({"application_name": ""}, "application_name"),
        ({"tls": {"sslmod": "require"}}, "sslmod"),
    ],
)
def test_constructor_validation(kwargs: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        PostgresDatabase("postgresql://u@h/db", **kwargs)
    assert caught.value.key == key


def test_facts() -> None:
    db = PostgresDatabase("postgresql://u:pw-123456@h/db", name="main")
    assert db.PLUGIN_NAME == "postgres" and PostgresDatabase.transactional_ddl is True
    assert repr(db) == "<PostgresDatabase name='main' url='postgresql+psycopg://u:***@h/db'>"
    assert not PostgresDatabase("postgresql://u@h/db", native=False).native
