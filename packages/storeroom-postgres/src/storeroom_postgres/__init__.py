"""PostgreSQL for storeroom: psycopg 3, sync and async, with COPY and raw-cursor fast paths."""

from storeroom_postgres.database import PLUGIN_NAME, AsyncPostgresDatabase, PostgresDatabase
from storeroom_postgres.settings import PostgresSettings, SSLMode

__all__ = ["PLUGIN_NAME", "AsyncPostgresDatabase", "PostgresDatabase", "PostgresSettings", "SSLMode"]
