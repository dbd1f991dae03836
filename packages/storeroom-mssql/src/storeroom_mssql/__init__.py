"""SQL Server for storeroom (pyodbc sync, aioodbc async)."""

from storeroom_mssql.database import PLUGIN_NAME, AsyncMSSQLDatabase, MSSQLDatabase
from storeroom_mssql.settings import DEFAULT_DRIVER, MSSQLSettings

__all__ = ["DEFAULT_DRIVER", "PLUGIN_NAME", "AsyncMSSQLDatabase", "MSSQLDatabase", "MSSQLSettings"]
