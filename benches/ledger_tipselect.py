"""Tip selection (TIP-3) over an unreferenced tangle, against listing the tips alone.

A node holds the blocks no milestone has referenced yet: between two milestones, and forever
for lazy tips nobody approves. Choosing parents classifies every tip by the root snapshot
indexes of its unreferenced past cone (`tipselect.non_lazy_tips`). Here: 250, 1,000 and
2,000 tagged-data blocks ingested with no milestone, each approving 1 to 3 of the 8 blocks
before it (the ingest bench's workload), so every tip's cone is most of the tangle.
Reference, in the same run and on the same database: `LedgerStore.tips()`, the query that
lists the tips. Best of 5 each, on SQLite and (as the ingest bench finds it) PostgreSQL.
Run: `.venv/bin/python -m benches.ledger_tipselect`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial

from benches.ledger_ingest import batched, fresh_node, sqlite_database, tagged_workload
from mobility.ledger.tipselect import non_lazy_tips
from testkit.databases import postgres_database, postgres_server_url

SIZES = (250, 1000, 2000)
ROUNDS = 5


def best_of(call: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    backends: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = [("SQLite", sqlite_database)]
    server_url = postgres_server_url()
    if server_url:
        backends.append(("PostgreSQL", partial(postgres_database, server_url)))
    print(
        f"{'backend':<11} {'blocks':>6} {'tips':>5} {'tips() ms':>10} {'non_lazy_tips ms':>17} {'ratio':>7}"
    )
    for size in SIZES:
        workload = tagged_workload(size)
        for backend, database in backends:
            with database() as url:
                node = fresh_node(url, {})
                batched(node, workload.blocks, 1000)
                tips = node.store.tips()
                assert non_lazy_tips(node.store) == tips  # no milestone yet: every tip is fresh
                listing = best_of(node.store.tips)
                selecting = best_of(partial(non_lazy_tips, node.store))
                node.store.engine.dispose()
            print(
                f"{backend:<11} {size:>6} {len(tips):>5} {listing * 1e3:>10.1f}"
                f" {selecting * 1e3:>17.1f} {selecting / listing:>6.1f}x"
            )


if __name__ == "__main__":
    main()
