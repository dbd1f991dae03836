"""What the benchmarks share: timing, interleaved rounds, medians and ratios, memory figures.

Benchmarks run as scripts (``python benchmarks/x.py``), so this folder is on ``sys.path``
and ``from _common import ...`` works from each of them.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["atimed", "cpu_seconds", "current_rss", "peak_rss", "report", "rotate", "size_arg", "timed"]


def timed(func: Callable[[], Any]) -> float:
    """Seconds one call takes, after a collection so garbage from earlier rounds is not billed."""
    gc.collect()
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


async def atimed(func: Callable[[], Awaitable[Any]]) -> float:
    gc.collect()
    start = time.perf_counter()
    await func()
    return time.perf_counter() - start


def rotate(names: list[str], r: int) -> list[str]:
    """Round ``r``'s order: rotating who goes first spreads drift in machine load over everyone."""
    return names[r % len(names) :] + names[: r % len(names)]


def report(title: str, samples: dict[str, list[float]], baseline: str) -> dict[str, float]:
    """Print each contender's median and its ratio to ``baseline``; return the ratios."""
    medians = {name: statistics.median(values) for name, values in samples.items() if values}
    print(f"\n{title}")
    for name, median in medians.items():
        runs = len(samples[name])
        print(f"  {name:<52} {median * 1000:9.2f} ms   x{median / medians[baseline]:7.3f}   ({runs} runs)")
    return {name: median / medians[baseline] for name, median in medians.items()}


def size_arg(text: str) -> int:
    """``--size 512MiB`` for argparse, with storeroom's own size syntax."""
    from storeroom.errors import ConfigurationError
    from storeroom.sizes import parse_size

    try:
        return parse_size(text)
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def peak_rss() -> int:
    """This process's RSS high-water mark in bytes (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def current_rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
