"""Pool figures and health for each SQLAlchemy pool class, on real sqlite connections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.pool import NullPool, SingletonThreadPool, StaticPool

from storeroom.config.models import PoolSettings
from storeroom.health import HealthStatus
from storeroom.sqla import SqlaDatabase


class PlainSQLite(SqlaDatabase):
    PLUGIN_NAME = "plain-sqlite"


def _db(tmp_path: Path, **options: Any) -> PlainSQLite:
    return PlainSQLite(f"sqlite:///{tmp_path}/p.db", name="p", engine_options=options)


def test_queue_pool_figures(tmp_path: Path) -> None:
    with PlainSQLite(f"sqlite:///{tmp_path}/q.db", pool=PoolSettings(size=2, max_overflow=1)) as db:
        conns = [db.engine.connect() for _ in range(3)]
        info = db.pool_info()
        assert (info.size, info.checked_out, info.overflow, info.available) == (2, 3, 1, 0)
        assert info.usage == 1.0
        for conn in conns:
            conn.close()
        assert db.pool_info().available == 3


@pytest.mark.parametrize(("poolclass", "size"), [(NullPool, 0), (StaticPool, 1), (SingletonThreadPool, 5)])
def test_other_pools_count_checkouts(tmp_path: Path, poolclass: type, size: int) -> None:
    with _db(tmp_path, poolclass=poolclass) as db:
        assert db.pool_info().checked_out == 0
        with db.transaction():
            info = db.pool_info()
            assert info.checked_out == 1 and info.size == size
        assert db.pool_info().checked_out == 0
        assert db.fetch_value("SELECT 1") == 1


def test_unbounded_pool_never_degrades(tmp_path: Path) -> None:
    with _db(tmp_path, poolclass=NullPool) as db:
        held = [db.engine.connect() for _ in range(20)]
        try:
            assert db.pool_info().checked_out == 20
            assert db.health_check().status is HealthStatus.HEALTHY
        finally:
            for conn in held:
                conn.close()


def test_generic_database_from_settings(tmp_path: Path) -> None:
    from storeroom.config.models import ServerDatabaseSettings

    settings = ServerDatabaseSettings(backend="x", url=f"sqlite:///{tmp_path}/s.db", pool={"size": 2})
    with PlainSQLite.from_settings("generic", settings) as db:
        assert db.name == "generic" and db.pool_info().size == 2
        assert db.fetch_value("SELECT 1") == 1
