"""MySQL and MariaDB for storeroom: PyMySQL (sync) and asyncmy (async)."""

from storeroom_mysql._server import ServerFacts
from storeroom_mysql.database import PLUGIN_NAME, AsyncMySQLDatabase, MySQLDatabase
from storeroom_mysql.settings import MySQLSettings, MySQLSslSettings

__all__ = ["PLUGIN_NAME", "AsyncMySQLDatabase", "MySQLDatabase", "MySQLSettings", "MySQLSslSettings", "ServerFacts"]
