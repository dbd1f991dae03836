"""``import storeroom`` stays cheap: no driver, SQLAlchemy or cloud SDK until a plugin needs one.

Each check runs in a fresh interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: top-level modules that belong to plugins, never to ``import storeroom``
HEAVY = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "psycopg2",
    "psycopg_pool",
    "pymysql",
    "asyncmy",
    "pyodbc",
    "aioodbc",
    "aiosqlite",
    "sqlite3",
    "boto3",
    "botocore",
    "aiobotocore",
    "s3transfer",
    "azure",
)

#: what the core's own ``__init__`` promises to defer until first use
DEFERRED = ("pydantic", "dynaconf")


def _loaded_after(code: str) -> set[str]:
    """Top-level names of the modules a fresh ``python -I`` has loaded after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import storeroom",
        "import storeroom; storeroom.Storeroom",
        "import storeroom.room",
        "import storeroom.errors, storeroom.keys, storeroom.health",
        "import storeroom.schema",
    ],
)
def test_no_driver_sdk_or_sqlalchemy(code: str) -> None:
    assert sorted(_loaded_after(code) & set(HEAVY)) == []


def test_bare_import_defers_pydantic_and_dynaconf() -> None:
    assert sorted(_loaded_after("import storeroom") & set(DEFERRED)) == []
