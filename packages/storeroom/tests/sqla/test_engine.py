"""URL and engine-option handling shared by every dialect plugin."""

from __future__ import annotations

import pytest
from sqlalchemy.pool import NullPool, QueuePool, StaticPool

from storeroom.config.models import PoolSettings, ServerDatabaseSettings
from storeroom.errors import ConfigurationError
from storeroom.sqla.engine import _options, display_url, parse_url, pool_options, resolve_url, settings_url


def test_plain_scheme_gets_the_sides_driver() -> None:
    assert resolve_url("postgresql://h/db", backend="postgresql", driver="psycopg").drivername == "postgresql+psycopg"


def test_explicit_driver_is_kept_unless_it_is_the_other_sides() -> None:
    url = resolve_url("postgresql+pg8000://h/db", backend="postgresql", driver="psycopg", other_drivers=["asyncpg"])
    assert url.drivername == "postgresql+pg8000"
    url = resolve_url("postgresql+asyncpg://h/db", backend="postgresql", driver="psycopg", other_drivers=["asyncpg"])
    assert url.drivername == "postgresql+psycopg"


def test_wrong_scheme_and_garbage_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="expected sqlite://"):
        resolve_url("mysql://u:TopSecret1@h/db", backend="sqlite", driver="pysqlite")
    with pytest.raises(ConfigurationError) as caught:
        parse_url("not a url :// at all")
    assert caught.value.key == "url"


def test_display_url_hides_the_password() -> None:
    url = parse_url("postgresql://app:Hunter2-Secret@db.example:5432/app")
    shown = display_url(url)
    assert "Hunter2-Secret" not in shown and "***" in shown and "db.example" in shown


def test_settings_url_from_parts_keeps_the_password_out_of_strings() -> None:
    settings = ServerDatabaseSettings(
        backend="postgres",
        host="db.example",
        port=5433,
        user="app",
        password="Parts-Secret-9",
        database="app",
        options={"sslmode": "require"},
    )
    url = settings_url(settings, "postgresql")
    assert not isinstance(url, str)
    assert url.password == "Parts-Secret-9"
    assert (url.host, url.port, url.database, dict(url.query)) == ("db.example", 5433, "app", {"sslmode": "require"})
    assert "Parts-Secret-9" not in str(url) and "Parts-Secret-9" not in display_url(url)
    assert (
        settings_url(ServerDatabaseSettings(backend="x", url="postgresql://h/db"), "postgresql") == "postgresql://h/db"
    )


def test_pool_options_map_every_setting() -> None:
    options = pool_options(PoolSettings(size=3, max_overflow=1, timeout=2.5, recycle=-1, pre_ping=False, lifo=False))
    assert options == {
        "pool_size": 3,
        "max_overflow": 1,
        "pool_timeout": 2.5,
        "pool_recycle": -1,
        "pool_pre_ping": False,
        "pool_use_lifo": False,
    }


def test_queue_pool_arguments_are_dropped_for_other_pools() -> None:
    base = {**pool_options(PoolSettings()), "poolclass": NullPool}
    assert set(_options(base)) == {"poolclass", "pool_recycle", "pool_pre_ping", "hide_parameters"}
    kept = _options({**pool_options(PoolSettings()), "poolclass": QueuePool})
    assert kept["pool_size"] == 5 and kept["hide_parameters"] is True
    assert "pool_size" not in _options({"pool_size": 5, "poolclass": StaticPool})
