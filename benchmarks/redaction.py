"""``storeroom.redact`` on hostile text of 10 kB, 100 kB and 1 MB, next to one ``str.replace`` pass.

Every error message and every record of a redacted logger (the SDKs' at DEBUG too, which quote
whole request bodies) goes through ``redact``, so its time must grow linearly with the text:
a pattern that backtracks turns one long message into a denial of service. Each shape below
repeats a piece of text up to the size; the ratio is redact's median time over the median of
one ``str.replace`` over the same text (what masking a registered secret costs at least),
measured in the same run. Linear redaction keeps each shape's ratio flat across the sizes; a
quadratic one multiplies it by about 10 per step.

    hatch run bench:all                                   # or:
    python benchmarks/redaction.py --rounds 5
    git show main:packages/storeroom/src/storeroom/redaction.py > /tmp/old.py
    python benchmarks/redaction.py --module /tmp/old.py   # another version of the module, same inputs

``--budget`` (seconds, default 10) bounds the time per shape: once one call takes longer, the
larger sizes of that shape are skipped and reported as such (a quadratic version would need
100 times longer for each tenfold size).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType

from _common import timed

SIZES = {"10 kB": 10_000, "100 kB": 100_000, "1 MB": 1_000_000}

#: name -> the piece repeated up to the size
SHAPES: dict[str, str] = {
    "letters": "a",
    "a:// repeated": "a://",
    "URL heads, no '@'": "a://u:",
    "password= repeated": "password=",
    "password: repeated": "password:",
    "':' only": ":",
    "'a:' repeated": "a:",
    "key runs": "x_y.z-",
    "quoted keys": "'token': '",
    "ODBC braces": "PWD={",
    "S3 upload log record": "",  # botocore.endpoint's DEBUG record of a PutObject (body quoted)
}


def _text(shape: str, size: int) -> str:
    if shape == "S3 upload log record":
        head = "Making request for OperationModel(name=PutObject) with params: {'url_path': '/bucket/key', 'body': b'"
        return head + "x" * (size - len(head) - 2) + "'}"
    piece = SHAPES[shape]
    return (piece * (size // len(piece) + 1))[:size]


def _load(path: str | None) -> ModuleType:
    if path is None:
        import storeroom.redaction

        return storeroom.redaction
    spec = importlib.util.spec_from_file_location("redaction_under_test", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _median(func: Callable[[], object], rounds: int, budget: float) -> tuple[float, int]:
    """Median seconds over up to ``rounds`` calls, fewer once ``budget`` seconds are spent."""
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < rounds and (not samples or time.perf_counter() - start < budget):
        samples.append(timed(func))
    return statistics.median(samples), len(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="calls per shape and size (default 5)")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per shape before larger sizes are skipped")
    parser.add_argument("--module", help="a redaction module file to measure instead of storeroom.redaction")
    args = parser.parse_args(argv)

    module = _load(args.module)
    for secret in ("registered-password-1", "registered-key-2", "registered-token-3"):  # a configured app's
        module.register_secret(secret)
    print(f"redact from {module.__file__}")
    print(f"{'shape':<24} {'size':>7} {'redact':>11} {'str.replace':>12} {'ratio':>9}  runs")
    worst: dict[str, float] = {}
    skipped: dict[str, int] = {}
    for shape in SHAPES:
        over_budget = False
        for label, size in SIZES.items():
            if over_budget:
                print(f"{shape:<24} {label:>7}     skipped: the smaller size exceeded --budget {args.budget:g} s")
                skipped[label] = skipped.get(label, 0) + 1
                continue
            text = _text(shape, size)
            base, _ = _median(lambda text=text: text.replace("registered-password-1", "***"), args.rounds, args.budget)
            took, runs = _median(lambda text=text: module.redact(text), args.rounds, args.budget)
            over_budget = took > args.budget
            ratio = took / base
            worst[label] = max(worst.get(label, 0.0), ratio)
            print(f"{shape:<24} {label:>7} {took * 1000:8.2f} ms {base * 1000:9.3f} ms {ratio:9.1f}  {runs}")
    print(
        "\nworst ratio per size: "
        + ", ".join(
            f"{label} x{ratio:.0f}"
            + (f" ({skipped[label]} shape(s) skipped: slower still)" if label in skipped else "")
            for label, ratio in worst.items()
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
