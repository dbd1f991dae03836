"""Shared fixtures: a fresh root per test; fsync off unless a test needs durability."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "objects"
