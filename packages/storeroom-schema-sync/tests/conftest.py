"""SQLite databases for the package's own tests (the servers are in tests-integration/schema_sync)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storeroom_schema_sync.desired import clear_memo
from storeroom_sqlite import SQLiteDatabase


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SQLiteDatabase]:
    clear_memo()
    database = SQLiteDatabase(f"sqlite:///{tmp_path / 'app.db'}", name="main")
    yield database
    database.close()
