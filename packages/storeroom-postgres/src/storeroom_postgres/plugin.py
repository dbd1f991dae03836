"""Entry point ``storeroom.postgres``: registers the PostgreSQL database classes."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl


@hookimpl
def storeroom_register_databases() -> list[type[Any]]:
    from storeroom_postgres.database import AsyncPostgresDatabase, PostgresDatabase

    return [PostgresDatabase, AsyncPostgresDatabase]


@hookimpl
def storeroom_register_schema_providers() -> list[type[Any]]:
    from storeroom_postgres.schema import PostgresSchemaProvider

    return [PostgresSchemaProvider]
