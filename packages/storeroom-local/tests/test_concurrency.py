"""Create-only is race-safe across processes too (``os.link`` is atomic in the kernel)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from storeroom_local import LocalStorage

from ._helpers import temp_files

# Each child imports first, then sleeps until a shared start time so the writes really race.
_CHILD = """
import sys, time
from storeroom.errors import ObjectExistsError
from storeroom_local import LocalStorage
root, i, start, overwrite = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1"
store = LocalStorage(root)
time.sleep(max(0.0, start - time.time()))
try:
    store.write("race", bytes([i]) * 200_000, overwrite=overwrite, metadata={"w": str(i)})
except ObjectExistsError:
    print("lost")
else:
    print("won")
"""


def _race(root: Path, n: int, *, overwrite: bool) -> list[str]:
    start = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(root), str(i), str(start), "1" if overwrite else "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outcomes.append(out.strip())
    return outcomes


def test_create_only_across_processes(root: Path) -> None:
    outcomes = _race(root, 6, overwrite=False)
    assert outcomes.count("won") == 1, outcomes
    winner = outcomes.index("won")
    store = LocalStorage(root)
    assert store.read("race") == bytes([winner]) * 200_000
    assert store.get_metadata("race") == {"w": str(winner)}
    assert temp_files(root) == []


def test_overwrites_across_processes_stay_consistent(root: Path) -> None:
    assert _race(root, 6, overwrite=True) == ["won"] * 6
    store = LocalStorage(root)
    winner = int(store.get_metadata("race")["w"])
    assert store.read("race") == bytes([winner]) * 200_000
    assert temp_files(root) == []
