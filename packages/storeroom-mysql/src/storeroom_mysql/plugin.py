"""Entry point ``storeroom.mysql``: registers the MySQL/MariaDB database classes."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl


@hookimpl
def storeroom_register_databases() -> list[type[Any]]:
    from storeroom_mysql.database import AsyncMySQLDatabase, MySQLDatabase

    return [MySQLDatabase, AsyncMySQLDatabase]


@hookimpl
def storeroom_register_schema_providers() -> list[type[Any]]:
    from storeroom_mysql.schema import MySQLSchemaProvider

    return [MySQLSchemaProvider]
