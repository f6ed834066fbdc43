"""Benchmark: what the GIL switch interval costs a journal commit while the event loop is busy.

The engine's journal commits on a thread of its own. SQLite releases the GIL around its work;
a statement that blocks (the commit's fsync) lets the event loop's thread take the GIL, and
getting it back waits for the switch interval (CPython's default 5 ms, the engine's 0.5 ms,
`mobility.runtime.share_the_gil_quickly`). Here a thread spins in pure Python (the event loop
in a burst of readings) while this one commits batches of ten inserts with `synchronous=FULL`,
as the engine does; the reference is the same batches with nothing else running.

    .venv/bin/python -m benches.gil_switch
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from mobility.runtime import GIL_SWITCH_INTERVAL_S

BATCHES = 100
STATEMENTS = 10


def _batches(folder: Path, interval: float, busy: bool) -> list[float]:
    """Wall time of each batch (begin, ten inserts, commit) at `interval`."""
    sys.setswitchinterval(interval)
    db = sqlite3.connect(folder / f"{interval}-{busy}.db", isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE reading (id INTEGER PRIMARY KEY, register_wh INTEGER)")
    stop = threading.Event()

    def spin() -> None:
        total = 0
        while not stop.is_set():
            for value in range(1_000):
                total += value * value

    spinner = threading.Thread(target=spin)
    if busy:
        spinner.start()
    times: list[float] = []
    try:
        for _ in range(BATCHES):
            started = time.perf_counter()
            db.execute("BEGIN")
            for register in range(STATEMENTS):
                db.execute("INSERT INTO reading (register_wh) VALUES (?)", (register,))
            db.execute("COMMIT")
            times.append(time.perf_counter() - started)
    finally:
        stop.set()
        if busy:
            spinner.join()
        db.close()
    return sorted(times)


def main() -> None:
    """Print batch times per switch interval, beside the same batches on an idle process."""
    default = sys.getswitchinterval()
    print(f"{BATCHES} batches of {STATEMENTS} inserts + COMMIT (WAL, synchronous=FULL)")
    with tempfile.TemporaryDirectory() as directory:
        for interval in (default, GIL_SWITCH_INTERVAL_S):
            for busy in (False, True):
                times = _batches(Path(directory), interval, busy)
                p50, p90 = statistics.median(times), times[int(len(times) * 0.9)]
                print(
                    f"switch interval {interval * 1000:4.1f} ms, "
                    f"{'event loop busy' if busy else 'nothing else   '}: "
                    f"p50 {p50 * 1000:6.2f} ms  p90 {p90 * 1000:6.2f} ms  max {times[-1] * 1000:6.2f} ms"
                )
    sys.setswitchinterval(default)


if __name__ == "__main__":
    main()
