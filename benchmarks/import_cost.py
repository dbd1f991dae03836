"""Import time of ``import storeroom`` next to ``import sqlalchemy``, measured in the same run.

Each sample is a fresh ``python -I`` timing the statement with ``time.perf_counter`` (so
interpreter start-up is excluded and lazy ``__getattr__`` imports are included, which
``-X importtime`` would miss); the median over the runs is reported, with the ratio against
SQLAlchemy measured in the same run.

    hatch run bench:import-cost            # or: python benchmarks/import_cost.py --runs 31
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

#: label -> the statement(s) timed
CASES = {
    "import storeroom": "import storeroom",
    "import storeroom; storeroom.Storeroom": "import storeroom; storeroom.Storeroom",
    "import sqlalchemy": "import sqlalchemy",
}


def import_ms(code: str) -> float:
    """Milliseconds ``code`` takes in a fresh ``python -I`` (interpreter start-up excluded)."""
    timed = f"import time as _t\n_t0 = _t.perf_counter()\n{code}\nprint(_t.perf_counter() - _t0)"
    proc = subprocess.run([sys.executable, "-I", "-c", timed], capture_output=True, text=True, check=True)
    return float(proc.stdout.split()[-1]) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per case (default 15)")
    args = parser.parse_args(argv)

    medians: dict[str, float] = {}
    for label, code in CASES.items():
        try:
            samples = [import_ms(code) for _ in range(args.runs)]
        except subprocess.CalledProcessError as exc:
            print(f"{label:40} skipped: {exc.stderr.strip().splitlines()[-1]}")
            continue
        medians[label] = statistics.median(samples)
        print(
            f"{label:40} median {medians[label]:8.2f} ms   (min {min(samples):.2f}, max {max(samples):.2f}, n={args.runs})"
        )
    base = medians.get("import sqlalchemy")
    if base:
        for label in CASES:
            if label == "import sqlalchemy":
                continue
            if label in medians:
                print(f"ratio  {label} / import sqlalchemy: {medians[label] / base:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
