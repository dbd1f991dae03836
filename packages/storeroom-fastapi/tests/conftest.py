"""Every HTTP test runs against a real uvicorn on loopback; see ``_fastapi_app.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from _fastapi_app import Env, served


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with served(tmp_path) as served_env:
        yield served_env
