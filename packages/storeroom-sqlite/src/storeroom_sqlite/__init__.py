"""SQLite for storeroom: the embedded default database (sqlite3 sync, aiosqlite async)."""

from storeroom_sqlite.database import PLUGIN_NAME, AsyncSQLiteDatabase, SQLiteDatabase
from storeroom_sqlite.settings import SQLiteSettings

__all__ = ["PLUGIN_NAME", "AsyncSQLiteDatabase", "SQLiteDatabase", "SQLiteSettings"]
