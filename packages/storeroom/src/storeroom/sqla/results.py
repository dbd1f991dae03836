"""Result rows to plain dicts, fast.

Measured (``benchmarks/sqlite_fetch_all.py``): building each dict with
``map(dict, map(zip, repeat(keys), rows))`` over ``fetchall()`` keeps a 10k-row
``fetch_all`` level with raw sqlite3 and a dict row factory, while per-row
``row._mapping`` costs about 2x. Duplicate column names collapse (last one wins),
as with a dict row factory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any

__all__ = ["to_dicts"]


def to_dicts(keys: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """Lazily zip each row with ``keys``."""
    return map(dict, map(zip, repeat(keys), rows))
