"""Unit-of-work overhead: 1,000 puts of 4 KiB inside one unit vs the same puts bare, local storage.

Every round writes fresh keys into a fresh folder, so each put creates a new object (the
common case: uploads). Rounds are interleaved (the order rotates) and medians compared.
Contenders:

- bare ``LocalStorage.write`` (baseline);
- the same puts in ``UnitOfWork`` without a database (target <= 1.5x);
- in a unit attached to a SQLite database (journal rows inside its transaction);
- in a unit journaling in a second SQLite database (two committed journal writes per put).

With ``--no-fsync`` the storage skips fsync, which exposes the unit's own CPU cost.

    python benchmarks/uow_overhead.py [--puts 1000] [--size 4096] [--rounds 7] [--no-fsync]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puts", type=int, default=1000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-fsync", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()

    from storeroom.uow import UnitOfWork
    from storeroom_local import LocalStorage
    from storeroom_sqlite import SQLiteDatabase

    work = Path(tempfile.mkdtemp(prefix="storeroom-uow-bench-"))
    fsync = not args.no_fsync
    body = b"x" * args.size
    main_db = SQLiteDatabase(f"sqlite:///{work}/main.db", name="main")
    journal_db = SQLiteDatabase(f"sqlite:///{work}/journal.db", name="journal")
    counter = iter(range(1_000_000))

    def fresh_store() -> LocalStorage:
        return LocalStorage(work / f"round-{next(counter)}", fsync=fsync, name="files")

    def bare() -> None:
        store = fresh_store()
        for i in range(args.puts):
            store.write(f"obj/{i:05d}", body)

    def in_unit(database: SQLiteDatabase | None, journal: SQLiteDatabase | bool) -> Callable[[], None]:
        def run() -> None:
            store = fresh_store()
            with UnitOfWork({"files": store}, database, journal=journal) as uow:
                for i in range(args.puts):
                    uow.put("files", f"obj/{i:05d}", body)

        return run

    contenders = {
        "bare LocalStorage.write (baseline)": bare,
        "UnitOfWork, no database": in_unit(None, False),
        "UnitOfWork + SQLite (journal in its tx)": in_unit(main_db, True),
        "UnitOfWork + SQLite, journal in a 2nd SQLite": in_unit(main_db, journal_db),
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for func in contenders.values():  # warm-up (creates the journal tables)
        func()
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            started = time.perf_counter()
            contenders[name]()
            samples[name].append(time.perf_counter() - started)
    main_db.close()
    journal_db.close()
    shutil.rmtree(work, ignore_errors=True)

    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians[names[0]]
    print(f"{args.puts} puts of {args.size} B, fsync={'on' if fsync else 'off'}, median of {args.rounds} rounds")
    for name, median in medians.items():
        print(f"  {name:<48} {median * 1000:9.1f} ms   x{median / base:.3f}")
    ratio = medians[names[1]] / base
    print(f"unit of work (no database) / bare: {ratio:.3f} (target <= {TARGET})")
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    raise SystemExit(main())
