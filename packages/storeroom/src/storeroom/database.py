"""Database interfaces and the ambient-transaction context.

The concrete, SQLAlchemy-based implementation lives in :mod:`storeroom.sqla`
(imported only by dialect plugins) so that ``import storeroom`` stays light.
"""

from __future__ import annotations

import abc
import asyncio
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeAlias

from storeroom.errors import TransactionError
from storeroom.health import HealthResult
from storeroom.pool import PoolInfo

if TYPE_CHECKING:
    from sqlalchemy.sql.base import Executable

__all__ = [
    "SQL",
    "AmbientTransaction",
    "AsyncDatabaseInterface",
    "AsyncQueryable",
    "AsyncTransaction",
    "DatabaseInterface",
    "Params",
    "Queryable",
    "Transaction",
    "ambient_transaction",
    "check_connection_allowed",
    "current_owner",
]

Params = Mapping[str, Any] | None
#: SQL text with named ``:id`` parameters, or a SQLAlchemy Core construct (``select()`` ...)
#: whose parameters are ``bindparam("id")``s; see docs/databases.md
SQL: TypeAlias = "str | Executable"


def current_owner() -> object:
    """The task (async) or thread (sync) that owns an ambient transaction."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    return task if task is not None else threading.get_ident()


@dataclass(frozen=True, slots=True)
class AmbientTransaction:
    """The transaction open in this task/thread, which later calls join."""

    database: str
    owner: object
    transaction: Any


_ambient: ContextVar[AmbientTransaction | None] = ContextVar("storeroom_ambient_transaction", default=None)


def ambient_transaction() -> AmbientTransaction | None:
    """The open transaction owned by the current task/thread, if any.

    Context variables are copied into child tasks; ownership stops a child task from
    joining (and concurrently using) its parent's connection.
    """
    ambient = _ambient.get()
    if ambient is None or ambient.owner != current_owner():
        return None
    return ambient


def set_ambient(ambient: AmbientTransaction | None) -> Any:
    return _ambient.set(ambient)


def reset_ambient(token: Any) -> None:
    _ambient.reset(token)


def check_connection_allowed(database: str) -> None:
    """Refuse a different named connection while a transaction is open (it could not join)."""
    ambient = ambient_transaction()
    if ambient is not None and ambient.database != database:
        raise TransactionError(
            f"database {database!r} was requested inside an open transaction on {ambient.database!r}; "
            "a transaction is pinned to one connection - finish it first or use the same database"
        )


class Queryable(abc.ABC):
    """Query methods shared by databases and transactions. Parameters are named (``:id``)."""

    @abc.abstractmethod
    def fetch_all(self, sql: SQL, params: Params = None) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def fetch_one(self, sql: SQL, params: Params = None) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def fetch_value(self, sql: SQL, params: Params = None) -> Any: ...

    @abc.abstractmethod
    def execute(self, sql: SQL, params: Params = None) -> int: ...

    @abc.abstractmethod
    def execute_many(self, sql: SQL, seq: Sequence[Mapping[str, Any]]) -> int: ...

    @abc.abstractmethod
    def stream(self, sql: SQL, params: Params = None, batch_size: int = 1000) -> Iterator[dict[str, Any]]: ...

    @abc.abstractmethod
    def bulk_insert(
        self, table: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None
    ) -> int: ...


class Transaction(Queryable):
    """An open transaction; ``savepoint()`` nests a rollback-able scope inside it."""

    @abc.abstractmethod
    def savepoint(self) -> AbstractContextManager[Transaction]: ...


class DatabaseInterface(Queryable):
    PLUGIN_NAME: ClassVar[str]
    settings_model: ClassVar[type[Any] | None] = None
    #: whether DDL runs inside transactions on this dialect (schema sync relies on it)
    transactional_ddl: ClassVar[bool] = True
    #: whether a second connection can write while a transaction holds writes (False: SQLite)
    concurrent_writers: ClassVar[bool] = True
    #: URL schemes (the part before ``+driver``) this backend reads: a ``url`` alone selects it
    url_schemes: ClassVar[tuple[str, ...]] = ()

    name: str = "default"

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        raise NotImplementedError(f"{cls.__name__} does not support construction from settings")

    @property
    @abc.abstractmethod
    def engine(self) -> Any: ...

    @abc.abstractmethod
    def transaction(
        self, isolation_level: str | None = None, read_only: bool = False
    ) -> AbstractContextManager[Transaction]: ...

    @abc.abstractmethod
    def server_version(self) -> str | None:
        """The server's version (connects once if not yet known); schema sync keys features on it."""

    @abc.abstractmethod
    def health_check(self, timeout: float = 5.0) -> HealthResult: ...

    @abc.abstractmethod
    def pool_info(self) -> PoolInfo: ...

    @abc.abstractmethod
    def session(self) -> Any: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncQueryable(abc.ABC):
    @abc.abstractmethod
    async def fetch_all(self, sql: SQL, params: Params = None) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    async def fetch_one(self, sql: SQL, params: Params = None) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def fetch_value(self, sql: SQL, params: Params = None) -> Any: ...

    @abc.abstractmethod
    async def execute(self, sql: SQL, params: Params = None) -> int: ...

    @abc.abstractmethod
    async def execute_many(self, sql: SQL, seq: Sequence[Mapping[str, Any]]) -> int: ...

    @abc.abstractmethod
    def stream(self, sql: SQL, params: Params = None, batch_size: int = 1000) -> AsyncIterator[dict[str, Any]]: ...

    @abc.abstractmethod
    async def bulk_insert(
        self, table: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None
    ) -> int: ...


class AsyncTransaction(AsyncQueryable):
    @abc.abstractmethod
    def savepoint(self) -> AbstractAsyncContextManager[AsyncTransaction]: ...


class AsyncDatabaseInterface(AsyncQueryable):
    PLUGIN_NAME: ClassVar[str]
    settings_model: ClassVar[type[Any] | None] = None
    transactional_ddl: ClassVar[bool] = True
    #: whether a second connection can write while a transaction holds writes (False: SQLite)
    concurrent_writers: ClassVar[bool] = True
    #: URL schemes (the part before ``+driver``) this backend reads: a ``url`` alone selects it
    url_schemes: ClassVar[tuple[str, ...]] = ()

    name: str = "default"

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        raise NotImplementedError(f"{cls.__name__} does not support construction from settings")

    @property
    @abc.abstractmethod
    def engine(self) -> Any: ...

    @abc.abstractmethod
    def transaction(
        self, isolation_level: str | None = None, read_only: bool = False
    ) -> AbstractAsyncContextManager[AsyncTransaction]: ...

    @abc.abstractmethod
    async def server_version(self) -> str | None: ...

    @abc.abstractmethod
    async def health_check(self, timeout: float = 5.0) -> HealthResult: ...

    @abc.abstractmethod
    def pool_info(self) -> PoolInfo: ...

    @abc.abstractmethod
    def session(self) -> Any: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
