"""MySQLSettings, TLS contexts and construction from settings; no server needed."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

import storeroom_mysql.plugin
from storeroom.config.models import PoolSettings
from storeroom.errors import ConfigurationError
from storeroom.plugins import PluginManager
from storeroom.room import Storeroom
from storeroom_mysql import AsyncMySQLDatabase, MySQLDatabase, MySQLSettings, MySQLSslSettings
from storeroom_mysql._ssl import build_ssl_context

SECRET = "Pa55-w0rd-secret"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture
def plugins() -> PluginManager:
    manager = PluginManager(load_entry_points=False)
    manager.register(storeroom_mysql.plugin, name="mysql")
    return manager


def _room(plugins: PluginManager, **databases: dict[str, Any]) -> Storeroom:
    return Storeroom.from_settings({"databases": databases}, plugins=plugins, embedded_default=False)


def test_defaults() -> None:
    settings = MySQLSettings(backend="mysql", url="mysql://app@db/app")
    assert settings.charset == "utf8mb4"
    assert settings.connect_timeout == 10.0 and settings.statement_timeout is None
    assert settings.ssl is None and settings.bulk_max_bytes == 1024 * 1024
    pool = settings.pool
    assert pool.pre_ping is True and pool.lifo is True
    assert 0 < pool.recycle < 28800  # below MySQL's default wait_timeout


def test_entry_point_registers_both_sides() -> None:
    manager = PluginManager()
    assert manager.databases.get("mysql") is MySQLDatabase
    assert manager.databases.get_async("mysql") is AsyncMySQLDatabase


def test_from_parts_through_storeroom(plugins: PluginManager) -> None:
    entry = {
        "backend": "mysql",
        "host": "db.example",
        "port": 3307,
        "user": "app",
        "password": SECRET,
        "database": "shop",
        "options": {"local_infile": "0"},
        "statement_timeout": 1.5,
        "bulk_max_bytes": "256 KiB",
        "pool": {"size": 3, "max_overflow": 0, "recycle": 600},
    }
    with _room(plugins, main=entry) as room:
        db = room.database()
        assert isinstance(db, MySQLDatabase)
        assert db.url.drivername == "mysql+pymysql" and db.url.port == 3307
        assert db.url.password == SECRET  # kept in the URL object, never shown
        assert db.statement_timeout == 1.5 and db.bulk_max_bytes == 256 * 1024
        assert db.pool_info().size == 3
        shown = f"{db!r} {db!s} {db._health_details()}"
        assert SECRET not in shown and "***" in shown
        assert isinstance(room.async_database(), AsyncMySQLDatabase)


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"url": "postgresql://app:Pa55-w0rd-secret@db/app"}, "databases.main.url"),
        ({"port": 70000, "host": "h", "url": None}, "databases.main.port"),
        ({"statement_timeout": -1}, "databases.main.statement_timeout"),
        ({"connect_timeout": 0}, "databases.main.connect_timeout"),
        ({"charset": "utf8; DROP"}, "databases.main.charset"),
        ({"ssl": {"verfy": True}}, "databases.main.ssl.verfy"),
        ({"bulk_max_bytes": "12"}, "databases.main.bulk_max_bytes"),
        ({"pool": {"size": 0}}, "databases.main.pool.size"),
        ({"colour": "red"}, "databases.main.colour"),
    ],
)
def test_bad_settings_name_the_key(plugins: PluginManager, entry: dict[str, Any], key: str) -> None:
    raw = {"backend": "mysql", "url": "mysql://app@db/app", **entry}
    with pytest.raises(ConfigurationError) as caught:
        _room(plugins, main=raw)
    assert caught.value.key == key  # type: ignore[attr-defined]
    assert SECRET not in str(caught.value)


def test_url_and_host_together_are_refused(plugins: PluginManager) -> None:
    with pytest.raises(ConfigurationError, match="either 'url' or 'host'"):
        _room(plugins, main={"backend": "mysql", "url": "mysql://a@b/c", "host": "b"})


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"statement_timeout": 0}, "statement_timeout"),
        ({"connect_timeout": "soon"}, "connect_timeout"),
        ({"charset": "klingon"}, "charset"),
        ({"bulk_max_bytes": 10}, "bulk_max_bytes"),
        ({"ssl": {"ca": "/nonexistent/ca.pem"}}, "ssl.ca"),
    ],
)
def test_constructor_arguments_are_checked(kwargs: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        MySQLDatabase("mysql://app@db/app", **kwargs)
    assert caught.value.key == key  # type: ignore[attr-defined]


def test_ssl_context_defaults_verify_everything() -> None:
    context = build_ssl_context(MySQLSslSettings(ca=CA_BUNDLE))
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_ssl_context_without_verification() -> None:
    context = build_ssl_context(MySQLSslSettings(verify=False))
    assert context.verify_mode is ssl.CERT_NONE and context.check_hostname is False
    with pytest.raises(ConfigurationError) as caught:
        build_ssl_context(MySQLSslSettings(verify=False, verify_hostname=True))
    assert caught.value.key == "ssl.verify_hostname"  # type: ignore[attr-defined]


def test_ssl_client_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    try:
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "1",
                "-subj",
                "/CN=storeroom-test",
            ],
            check=True,
            capture_output=True,
        )
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl cannot make a test certificate here: {exc}")
    context = build_ssl_context(MySQLSslSettings(ca=str(cert), cert=str(cert), key=str(key)))
    assert context.verify_mode is ssl.CERT_REQUIRED
    with pytest.raises(ConfigurationError) as caught:
        build_ssl_context(MySQLSslSettings(cert=str(key), key=str(key)))  # a key is not a certificate
    assert caught.value.key.startswith("ssl")  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match=r"needs ssl\.cert"):
        build_ssl_context(MySQLSslSettings(key=str(key)))


def test_ssl_context_reaches_the_driver() -> None:
    db = MySQLDatabase("mysql://app@db/app", ssl={"ca": CA_BUNDLE}, connect_timeout=3, pool=PoolSettings(size=1))
    with db:
        assert db._engine_options(db.url)["connect_args"] == {
            "connect_timeout": 3.0,
            "read_timeout": 3.0,  # bounds the handshake; lifted once connected
            "charset": "utf8mb4",
            "ssl": db._ssl,
        }
        assert isinstance(db._ssl, ssl.SSLContext)
