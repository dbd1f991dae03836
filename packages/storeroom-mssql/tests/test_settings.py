"""Settings, URL and connection-string building, plugin registration, redaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

import storeroom_mssql.plugin
from storeroom.errors import ConfigurationError
from storeroom.plugins import PluginManager
from storeroom.redaction import redact
from storeroom.room import Storeroom
from storeroom_mssql import DEFAULT_DRIVER, AsyncMSSQLDatabase, MSSQLDatabase, MSSQLSettings
from storeroom_mssql._odbc import format_odbc, mask_odbc, parse_odbc
from storeroom_mssql.connection import settings_to_url


@pytest.fixture
def plugins() -> PluginManager:
    manager = PluginManager(load_entry_points=False)
    manager.register(storeroom_mssql.plugin, name="mssql")
    return manager


def _room(plugins: PluginManager, **databases: dict[str, Any]) -> Storeroom:
    return Storeroom.from_settings({"databases": databases}, plugins=plugins, embedded_default=False)


def _connect_string(db: MSSQLDatabase) -> str:
    args, _ = db.engine.dialect.create_connect_args(db.url)
    return str(args[0])


def _settings(**entry: Any) -> MSSQLSettings:
    return MSSQLSettings.model_validate({"backend": "mssql", **entry})


# -- URLs ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("pyodbc_loads")  # builds an engine: pyodbc must load
def test_plain_url_picks_each_sides_driver_and_the_odbc_driver() -> None:
    with MSSQLDatabase("mssql://app:pw-1234@db.example:1433/appdb") as db:
        assert db.url.drivername == "mssql+pyodbc"
        assert db.url.query["driver"] == DEFAULT_DRIVER
        assert _connect_string(db) == (
            "DRIVER={ODBC Driver 18 for SQL Server};Server=db.example,1433;Database=appdb;UID=app;PWD=pw-1234"
        )
    adb = AsyncMSSQLDatabase("mssql+pyodbc://app:pw-1234@db.example:1433/appdb")
    assert adb.url.drivername == "mssql+aioodbc"  # the sync twin's driver is swapped
    args, kwargs = adb.engine.sync_engine.dialect.create_connect_args(adb.url)
    assert args == () and kwargs["dsn"].startswith("DRIVER={ODBC Driver 18 for SQL Server};Server=db.example,1433")


@pytest.mark.usefixtures("pyodbc_loads")  # builds an engine: pyodbc must load
def test_explicit_driver_in_url_is_kept() -> None:
    with MSSQLDatabase("mssql://app:pw-1234@db/appdb?driver=ODBC+Driver+17+for+SQL+Server") as db:
        assert _connect_string(db).startswith("DRIVER={ODBC Driver 17 for SQL Server};")
    with MSSQLDatabase("mssql://app:pw-1234@db/appdb", driver="FreeTDS") as db:
        assert _connect_string(db).startswith("DRIVER={FreeTDS};")


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("postgresql://app@db/appdb", "expected mssql://"),
        ("mssql+pymssql://app@db/appdb", "pyodbc"),
        ("mssql://app@db:1433", "names no database"),
    ],
)
def test_bad_urls_are_configuration_errors(url: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as caught:
        MSSQLDatabase(url)
    assert caught.value.key == "url"


@pytest.mark.usefixtures("pyodbc_loads")  # builds an engine: pyodbc must load
def test_password_with_odbc_specials_is_braced_and_never_shown() -> None:
    password = "p;a}ss=w{rd"
    url = f"mssql://app:{password.replace(';', '%3B').replace('}', '%7D').replace('{', '%7B')}@db/appdb"
    with MSSQLDatabase(url, name="main") as db:
        assert "PWD={p;a}}ss=w{rd}" in _connect_string(db)
        shown = f"{db!r} {db!s} {db.health_check(timeout=3).to_dict()}"
        assert password not in shown


@pytest.mark.usefixtures("pyodbc_loads")  # builds an engine: pyodbc must load
def test_dsn_urls_are_passed_through() -> None:
    with MSSQLDatabase("mssql://app:pw-1234@/?dsn=warehouse") as db:
        assert "driver" not in db.url.query
        assert _connect_string(db) == "dsn=warehouse;UID=app;PWD=pw-1234"


@pytest.mark.usefixtures("pyodbc_loads")  # builds an engine: pyodbc must load
def test_timeouts_and_pool_reach_the_engine() -> None:
    settings = _settings(
        url="mssql://app:pw-1234@db/appdb",
        connect_timeout=2.5,
        statement_timeout=0.2,
        pool={"size": 3, "max_overflow": 2, "timeout": 4, "recycle": 60},
    )
    with MSSQLDatabase.from_settings("main", settings) as db:
        assert db.login_timeout == 3 and db.query_timeout == 1  # whole seconds, rounded up, never 0
        pool = db.engine.pool
        assert pool.size() == 3 and pool._max_overflow == 2 and pool._timeout == 4  # type: ignore[attr-defined]
        assert pool._recycle == 60 and pool._pre_ping is True  # type: ignore[attr-defined]
        assert pool._pool.use_lifo is True  # type: ignore[attr-defined]
        assert db._engine_options(db.url)["connect_args"] == {"timeout": 3}  # pyodbc's login timeout
        assert db.pool_info().available == 5


@pytest.mark.parametrize(("key", "value"), [("connect_timeout", 0), ("statement_timeout", -1), ("driver", "{x}")])
def test_bad_constructor_arguments_name_the_key(key: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        MSSQLDatabase("mssql://app@db/appdb", **{key: value})
    assert caught.value.key == key


# -- settings --------------------------------------------------------------------------------------


@pytest.mark.usefixtures("pyodbc_loads")  # builds an engine: pyodbc must load
def test_parts_with_tls_switches_build_the_url() -> None:
    settings = _settings(
        host="sql.internal",
        port=14330,
        user="app",
        password="S3cret;pw",
        database="appdb",
        encrypt=True,
        trust_server_certificate=False,
        application_intent="ReadOnly",
        options={"MultiSubnetFailover": "yes"},
    )
    url = settings_to_url(settings)
    assert url.drivername == "mssql"
    assert url.password == "S3cret;pw"
    assert dict(url.query) == {
        "MultiSubnetFailover": "yes",
        "Encrypt": "yes",
        "TrustServerCertificate": "no",
        "ApplicationIntent": "ReadOnly",
        "driver": DEFAULT_DRIVER,
    }
    with MSSQLDatabase.from_settings("main", settings) as db:
        assert _connect_string(db) == (
            "DRIVER={ODBC Driver 18 for SQL Server};Server=sql.internal,14330;Database=appdb;UID=app;"
            "PWD={S3cret;pw};MultiSubnetFailover=yes;Encrypt=yes;TrustServerCertificate=no;ApplicationIntent=ReadOnly"
        )


def test_tls_setting_conflicting_with_the_url_is_refused() -> None:
    settings = _settings(url="mssql://app@db/appdb?Encrypt=no", encrypt=True)
    with pytest.raises(ConfigurationError, match="Encrypt"):
        settings_to_url(settings)
    same = _settings(url="mssql://app@db/appdb?encrypt=yes", encrypt=True)
    assert dict(settings_to_url(same).query)["encrypt"] == "yes"


def test_driver_given_twice_differently_is_refused() -> None:
    url = "mssql://app@db/appdb?driver=ODBC+Driver+17+for+SQL+Server"
    with pytest.raises(ConfigurationError, match="driver") as caught:
        settings_to_url(_settings(url=url, driver="ODBC Driver 18 for SQL Server"))
    assert caught.value.key == "driver"
    assert settings_to_url(_settings(url=url)).query["driver"] == "ODBC Driver 17 for SQL Server"


@pytest.mark.usefixtures("pyodbc_loads")  # builds an engine: pyodbc must load
def test_odbc_connect_is_passed_through_and_masked() -> None:
    raw = "DRIVER={ODBC Driver 18 for SQL Server};Server=tcp:db,1433;Database=appdb;UID=app;PWD={x;y}}z-secret}"
    settings = _settings(odbc_connect=raw)
    assert "x;y}z-secret" not in repr(settings)
    with MSSQLDatabase.from_settings("main", settings) as db:
        assert db.url.query["odbc_connect"] == raw
        assert _connect_string(db) == raw
        shown = f"{db!r} {db.health_check(timeout=3).to_dict()}"
        assert "x;y}z-secret" not in shown and "z-secret" not in shown
        assert "PWD=***" in repr(db)


def test_url_and_host_together_are_refused() -> None:
    with pytest.raises(ValueError, match="either 'url' or 'host'"):
        _settings(url="mssql://app@db/appdb", host="db")
    with pytest.raises(ValueError, match="missing 'url'"):
        _settings()


def test_odbc_connect_excludes_url_and_parts() -> None:
    with pytest.raises(ValueError, match="odbc_connect"):
        _settings(odbc_connect="DSN=x;PWD=abcd", host="db")
    with pytest.raises(ValueError, match="odbc_connect"):
        _settings(odbc_connect="DSN=x;PWD=abcd", url="mssql://db/x")


def test_defaults() -> None:
    settings = _settings(url="mssql://app@db/appdb")
    assert settings.driver == DEFAULT_DRIVER
    assert settings.encrypt is None and settings.trust_server_certificate is None
    assert settings.connect_timeout == 10.0 and settings.statement_timeout is None
    assert settings.fast_executemany is True and settings.pool.pre_ping and settings.pool.lifo


# -- through Storeroom and the plugin manager ---------------------------------------------------------


def test_entry_point_registers_both_sides() -> None:
    manager = PluginManager()  # the installed distribution's entry point
    assert manager.databases.get("mssql") is MSSQLDatabase
    assert manager.databases.get_async("mssql") is AsyncMSSQLDatabase
    assert any(p.name == "mssql" and p.error is None for p in manager.plugins)


@pytest.mark.usefixtures("pyodbc_loads")  # builds an engine: pyodbc must load
def test_from_settings_through_storeroom(plugins: PluginManager) -> None:
    with _room(
        plugins,
        main={
            "backend": "mssql",
            "host": "127.0.0.1",
            "port": 1,
            "user": "app",
            "password": "Room-pw-9876",
            "database": "appdb",
            "trust_server_certificate": True,
            "statement_timeout": 30,
            "pool": {"size": 2, "max_overflow": 0},
        },
    ) as room:
        db = room.database()
        assert isinstance(db, MSSQLDatabase)
        assert db.name == "main" and db.query_timeout == 30
        assert db.pool_info().available == 2
        assert isinstance(room.async_database(), AsyncMSSQLDatabase)
        assert "Room-pw-9876" not in repr(db)


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"pool": {"size": 0}}, "databases.main.pool.size"),
        ({"colour": "red"}, "databases.main.colour"),
        ({"port": 70000}, "databases.main.port"),
        ({"encrypt": "perhaps"}, "databases.main.encrypt"),
        ({"application_intent": "Sideways"}, "databases.main.application_intent"),
        ({"statement_timeout": 0}, "databases.main.statement_timeout"),
        ({"driver": "{ODBC Driver 18 for SQL Server}"}, "databases.main.driver"),
        ({"url": "postgresql://app:Pa55-secret@db/app", "host": None}, "databases.main.url"),
    ],
)
def test_bad_settings_name_the_key(plugins: PluginManager, entry: dict[str, Any], key: str) -> None:
    raw = {"backend": "mssql", "host": "db", "database": "appdb", **entry}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(ConfigurationError) as caught:
        _room(plugins, main=raw)
    assert caught.value.key == key
    assert key in str(caught.value)
    assert "Pa55-secret" not in str(caught.value)


def test_bad_odbc_connect_names_the_key_without_showing_it(plugins: PluginManager) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _room(plugins, main={"backend": "mssql", "odbc_connect": "DRIVER={x;PWD={Unclosed-secret"})
    assert caught.value.key == "databases.main.odbc_connect"
    assert "Unclosed-secret" not in str(caught.value)


def test_an_attribute_without_equals_is_counted_not_quoted(plugins: PluginManager) -> None:
    # a password with an unbraced ';' splits into an "attribute" that is a piece of the password
    with pytest.raises(ConfigurationError) as caught:
        _room(plugins, main={"backend": "mssql", "odbc_connect": "DSN=x;PWD=ab;Split-secret"})
    assert caught.value.key == "databases.main.odbc_connect"
    assert "attribute 3 has no '='" in str(caught.value)
    assert "Split-secret" not in str(caught.value)


# -- ODBC strings and redaction -----------------------------------------------------------------------


def test_parse_and_format_round_trip() -> None:
    raw = "Driver={ODBC Driver 18 for SQL Server}; Server=db,1433;PWD={a;b}}c};Encrypt=yes;"
    pairs = parse_odbc(raw)
    assert pairs == [
        ("Driver", "ODBC Driver 18 for SQL Server"),
        ("Server", "db,1433"),
        ("PWD", "a;b}c"),
        ("Encrypt", "yes"),
    ]
    assert parse_odbc(format_odbc(pairs)) == pairs
    assert mask_odbc(raw) == "Driver=ODBC Driver 18 for SQL Server;Server=db,1433;PWD=***;Encrypt=yes"


def test_core_redaction_masks_plain_pwd_values() -> None:
    assert redact("DRIVER={ODBC Driver 18 for SQL Server};UID=sa;PWD=Plain-0ne;Encrypt=yes") == (
        "DRIVER={ODBC Driver 18 for SQL Server};UID=sa;PWD=***;Encrypt=yes"
    )
    assert "Plain-Two" not in redact("Server=x;Password=Plain-Two")


def test_braced_pwd_values_are_masked_once_registered() -> None:
    # core's pattern alone stops at the first ';' inside the braces; loading the settings
    # registers the whole value, so the tail cannot leak
    text = "DRIVER={ODBC Driver 18 for SQL Server};UID=sa;PWD={Br4ced;pass word};Encrypt=yes"
    _settings(odbc_connect=text)
    shown = redact(f"failed: {text}")
    assert "Br4ced" not in shown and "pass word" not in shown


@pytest.mark.usefixtures("pyodbc_loads")  # builds an engine: pyodbc must load
def test_url_encoded_odbc_connect_password_is_masked() -> None:
    raw = "DRIVER={ODBC Driver 18 for SQL Server};Server=db;UID=sa;PWD={Enc0ded secret;1}"
    with MSSQLDatabase(make_url("mssql://").set(query={"odbc_connect": raw})) as db:
        rendered = db.url.render_as_string(hide_password=True)  # what SQLAlchemy itself would print
        assert "Enc0ded" in rendered  # SQLAlchemy does not know it is a password ...
        assert "Enc0ded" not in redact(rendered)  # ... storeroom masks it anyway
        assert "Enc0ded" not in repr(db)
