"""'Did you mean ...?' for names a user typed: namespaces, keys, backend names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_match", "did_you_mean"]


def close_match(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` is most likely a misspelling of, if any is close enough."""
    options = sorted({c for c in candidates if c != word})
    found = difflib.get_close_matches(word.lower(), options, n=1, cutoff=0.6)
    if found:
        return found[0]
    # a singular/plural slip ('storage' for 'storages') is below difflib's cutoff for short words
    for option in options:
        if word.lower().rstrip("s") == option.rstrip("s"):
            return option
    return None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or ``""``."""
    match = close_match(word, candidates)
    return f"; did you mean {match!r}?" if match else ""
