"""No database password in a connection error, anything it chains, its traceback or a DEBUG log.

MariaDB is asked with a wrong password (this server rejects it); PostgreSQL at a closed port with
a password in the URL. The passwords hold characters a URL parser stumbles on ('/', spaces).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from _secrets import assert_hidden, error_of
from _services import free_port
from storeroom.errors import ConnectionFailedError


def _password() -> str:
    return f"Pw/{uuid.uuid4().hex[:10]} x{uuid.uuid4().hex[:6]}"


def _with_password(url: str, password: str, *, encode: bool, port: int | None = None) -> str:
    parts = urlsplit(url)
    netloc = (
        f"{parts.username}:{quote(password, safe='') if encode else password}@{parts.hostname}:{port or parts.port}"
    )
    return parts._replace(netloc=netloc).geturl()


def _connect(cls: type[Any], url: str, flavour: str) -> ConnectionFailedError:
    error = error_of(flavour, lambda: cls(url, name="main", connect_timeout=5), lambda db: db.fetch_value("SELECT 1"))
    assert isinstance(error, ConnectionFailedError)
    return error


@pytest.mark.parametrize("encode", [True, False], ids=["encoded", "as-typed"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_mariadb_wrong_password(mariadb_url: str, flavour: str, encode: bool, caplog: pytest.LogCaptureFixture) -> None:
    from storeroom_mysql import AsyncMySQLDatabase, MySQLDatabase

    password = _password()
    caplog.set_level(logging.DEBUG)
    error = _connect(
        MySQLDatabase if flavour == "sync" else AsyncMySQLDatabase,
        _with_password(mariadb_url, password, encode=encode),
        flavour,
    )
    assert "Access denied" in str(error) and error.__cause__ is not None
    assert_hidden(error, password, quote(password, safe=""))
    assert password not in caplog.text and quote(password, safe="") not in caplog.text


@pytest.mark.parametrize("encode", [True, False], ids=["encoded", "as-typed"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_postgres_closed_port(postgres_url: str, flavour: str, encode: bool, caplog: pytest.LogCaptureFixture) -> None:
    from storeroom_postgres import AsyncPostgresDatabase, PostgresDatabase

    password = _password()
    url = _with_password(postgres_url, password, encode=encode, port=free_port())
    caplog.set_level(logging.DEBUG)
    error = _connect(PostgresDatabase if flavour == "sync" else AsyncPostgresDatabase, url, flavour)
    assert "could not reach" in str(error) and error.__cause__ is not None
    assert_hidden(error, password, quote(password, safe=""))
    assert password not in caplog.text and quote(password, safe="") not in caplog.text
