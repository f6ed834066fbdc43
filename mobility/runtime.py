"""Process-level tuning shared by the engine and the standalone ledger node."""

from __future__ import annotations

import gc
import sys


def freeze_startup_heap() -> None:
    """Keep what start-up built (modules, the app, its routes, models, settings) out of every
    later garbage collection: it lives until exit, yet each full collection walked all of it.

    Why it matters here: ingest keeps a batch's parsed blocks alive until its commit, thousands
    of objects, and their promotion sets off full collections that walk every older object.
    Measured in `benches/ledger_ingest.py`, where the bench's own prepared heap (~70,000
    objects) stood in for a start-up heap: ~10 µs a transfer block (batches of 1,000, SQLite)
    until it was frozen. The engine's own start-up heap was not measured. Garbage is collected
    first; frozen objects are still freed by reference counting, and only one that later becomes
    part of an unreachable cycle would stay in memory.
    """
    gc.collect()
    gc.freeze()


GIL_SWITCH_INTERVAL_S = 0.0005


def share_the_gil_quickly() -> None:
    """Let a thread waiting for the GIL have it after 0.5 ms instead of CPython's 5 ms.

    The journal commits on a thread of its own; SQLite releases the GIL around every statement,
    so each statement of a batch asks for it back, and while the event loop is busy (a burst of
    readings) each ask waited up to the 5 ms switch interval: a batch of ten statements took
    50 ms where its work took 5, and every reading in it waited that long for its answer.
    """
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
