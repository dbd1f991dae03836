"""The core database conformance suites on a live MariaDB, sync (PyMySQL) and async (asyncmy).

Nothing is skipped by this plugin; the suites' own ``test_transactional_ddl`` skips
itself because ``transactional_ddl`` is False (MySQL and MariaDB commit DDL implicitly).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from storeroom.testing.database import AsyncDatabaseConformance, DatabaseConformance
from storeroom_mysql import AsyncMySQLDatabase, MySQLDatabase


class TestMySQLDatabase(DatabaseConformance):
    @pytest.fixture
    def database(self, mariadb_url: str) -> Iterator[MySQLDatabase]:
        with MySQLDatabase(mariadb_url, name="main") as db:
            yield db


class TestMariaDBSchemeNoPrePing(DatabaseConformance):
    """``mariadb://`` keeps SQLAlchemy's MariaDB dialect; and the suite holds without pre-ping."""

    @pytest.fixture
    def database(self, mariadb_url: str) -> Iterator[MySQLDatabase]:
        from storeroom.config.models import PoolSettings

        url = make_url(mariadb_url).set(drivername="mariadb")
        with MySQLDatabase(url, name="maria", pool=PoolSettings(pre_ping=False, size=2)) as db:
            yield db


class TestAsyncMySQLDatabase(AsyncDatabaseConformance):
    @pytest_asyncio.fixture
    async def async_database(self, mariadb_url: str) -> AsyncIterator[AsyncMySQLDatabase]:
        async with AsyncMySQLDatabase(mariadb_url, name="main") as db:
            yield db
