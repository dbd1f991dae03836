"""Entry point ``storeroom.sqlite``: registers the SQLite database classes."""

from __future__ import annotations

from typing import Any

from storeroom._markers import hookimpl


@hookimpl
def storeroom_register_databases() -> list[type[Any]]:
    from storeroom_sqlite.database import AsyncSQLiteDatabase, SQLiteDatabase

    return [SQLiteDatabase, AsyncSQLiteDatabase]


@hookimpl
def storeroom_register_schema_providers() -> list[type[Any]]:
    from storeroom_sqlite.schema import SQLiteSchemaProvider

    return [SQLiteSchemaProvider]
