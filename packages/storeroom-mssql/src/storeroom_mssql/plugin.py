"""Entry point ``storeroom.mssql``: registers the SQL Server database classes."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl


@hookimpl
def storeroom_register_databases() -> list[type[Any]]:
    from storeroom_mssql.database import AsyncMSSQLDatabase, MSSQLDatabase

    return [MSSQLDatabase, AsyncMSSQLDatabase]


@hookimpl
def storeroom_register_schema_providers() -> list[type[Any]]:
    from storeroom_mssql.schema import MSSQLSchemaProvider

    return [MSSQLSchemaProvider]
