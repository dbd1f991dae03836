"""The shared SQLAlchemy implementation of the database interfaces.

Dialect plugins (``storeroom_sqlite``, ``storeroom_postgres`` ...) subclass
:class:`SqlaDatabase` and :class:`AsyncSqlaDatabase`. This subpackage is the only
place in core that imports SQLAlchemy; ``import storeroom`` never loads it.
"""

from storeroom.sqla.async_database import AsyncSqlaDatabase
from storeroom.sqla.base import SqlaBase, normalise_isolation_level
from storeroom.sqla.database import SqlaDatabase
from storeroom.sqla.engine import display_url, pool_options, resolve_url
from storeroom.sqla.errors import ErrorTranslator, translating
from storeroom.sqla.statements import BulkInsert
from storeroom.sqla.transaction import AsyncSqlaTransaction, SqlaTransaction

__all__ = [
    "AsyncSqlaDatabase",
    "AsyncSqlaTransaction",
    "BulkInsert",
    "ErrorTranslator",
    "SqlaBase",
    "SqlaDatabase",
    "SqlaTransaction",
    "display_url",
    "normalise_isolation_level",
    "pool_options",
    "resolve_url",
    "translating",
]
