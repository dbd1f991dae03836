"""Helpers for looking at the root folder from outside the backend."""

from __future__ import annotations

import os
from pathlib import Path


def temp_files(root: Path) -> list[str]:
    """Every leftover temp file anywhere under ``root`` (data and sidecar trees)."""
    found = []
    for folder, _, files in os.walk(root):
        found += [os.path.join(folder, f) for f in files if f.startswith(".storeroom-tmp-")]
    return found


def tree(root: Path) -> list[str]:
    """All paths under ``root``, relative, sorted (folders end with '/')."""
    out = []
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        prefix = "" if rel == "." else rel + "/"
        out += [prefix + d + "/" for d in dirs] + [prefix + f for f in files]
    return sorted(out)
