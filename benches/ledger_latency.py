"""Submit-to-confirmation latency at a steady 100 blocks/s on one node, against the milestone interval.

One in-process node, its coordinator issuing a milestone every `INTERVAL` seconds through
`run_coordinator` (the engine's own loop: build, mine, submit, in a worker thread), and a
client submitting pre-mined blocks (three in four tagged data, one in four a signed transfer)
through `InProcessClient.submit` at a fixed schedule of 100 per second, open loop: each block
is sent at its slot whether or not the previous one was answered, as independent clients would.
A block's latency runs from the moment it was sent to the moment the node had applied the
milestone that referenced it. The reference is the milestone interval: with milestones every
T seconds a block waits T/2 for the next one on average, so latency / T near 0.5 (p50) and
near 1 (p99) means the node adds little; above that is queueing in the node.
On SQLite, and on a scratch PostgreSQL database when `MOBILITY_TEST_POSTGRES_URL` or
`.ci/.postgres-url` names a server. Run: `.venv/bin/python benches/ledger_latency.py [seconds]`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pow_rs
from benches.ledger_milestone import (
    COORDINATOR,
    GENESIS_TX,
    PARAMS,
    build,
)
from mobility.db import create_db_engine
from mobility.ledger.client import InProcessClient
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node, SubmitResult
from mobility.ledger.service import every, run_coordinator
from mobility.ledger.store import LedgerStore
from mobility.migrate import upgrade
from mobility.wire.codec import Output
from testkit.databases import postgres_database, postgres_server_url

RATE = 100
INTERVAL = 1.0


class TimedCoordinator(Coordinator):
    """The coordinator, noting when each milestone it issued had been applied."""

    def __init__(self, node: Node, keys: Sequence[pow_rs.SigningKey]) -> None:
        super().__init__(node, keys, clock=lambda: datetime.now(UTC))
        self.applied_at: dict[int, float] = {}
        self.durations: list[float] = []

    def issue(self, parents: Sequence[bytes] | None = None) -> SubmitResult:
        started = time.perf_counter()
        result = super().issue(parents)
        done = time.perf_counter()
        latest = self.node.store.latest_milestone()
        assert latest is not None
        self.applied_at[latest.milestone_index] = done
        self.durations.append(done - started)
        return result


async def ticks_until(stop: asyncio.Event, seconds: float) -> AsyncIterator[None]:
    """`every(seconds)` until `stop` is set."""
    async for tick in every(seconds):
        if stop.is_set():
            return
        yield tick


async def run(node: Node, blocks: list[bytes]) -> tuple[list[float], list[float], float]:
    """Latencies (s) of every block, milestone issue durations (s), achieved send rate."""
    coordinator = TimedCoordinator(node, [COORDINATOR])
    client = InProcessClient(node)
    stop = asyncio.Event()
    milestones = asyncio.create_task(run_coordinator(coordinator, ticks_until(stop, INTERVAL)))
    sent_at: dict[bytes, float] = {}

    async def send(data: bytes) -> None:
        started = time.perf_counter()
        block_id = await client.submit(data)
        sent_at[block_id] = started

    started = time.perf_counter()
    sends = []
    for index, data in enumerate(blocks):
        delay = started + index / RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sends.append(asyncio.create_task(send(data)))
    await asyncio.gather(*sends)
    rate = len(blocks) / (time.perf_counter() - started)
    # The next milestone references the last blocks; one more interval of margin, then stop.
    await asyncio.sleep(2 * INTERVAL + 0.5)
    stop.set()
    await milestones

    latencies = []
    for block_id, sent in sent_at.items():
        milestone = meta_index(node, block_id)
        assert milestone is not None, "every block is confirmed"
        latencies.append(coordinator.applied_at[milestone] - sent)
    return latencies, coordinator.durations, rate


def meta_index(node: Node, block_id: bytes) -> int | None:
    meta = node.store.metadata(block_id)
    return None if meta is None else meta.milestone_index


def measure(
    url: str, blocks: list[bytes], outputs: dict[bytes, Output]
) -> tuple[list[float], list[float], float]:
    upgrade(url)
    store = LedgerStore(create_db_engine(url))
    store.add_genesis(outputs, GENESIS_TX)
    try:
        return asyncio.run(run(Node(store, PARAMS), blocks))
    finally:
        store.engine.dispose()


def report(backend: str, latencies: list[float], durations: list[float], rate: float) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{backend}: {len(ordered)} blocks sent at {rate:.1f}/s, {len(durations)} milestones")
    print(f"  latency p50 {p50 * 1e3:7.1f} ms = {p50 / INTERVAL:.2f} x interval   (0.5 = waiting alone)")
    print(f"  latency p99 {p99 * 1e3:7.1f} ms = {p99 / INTERVAL:.2f} x interval   (1.0 = waiting alone)")
    print(f"  latency max {ordered[-1] * 1e3:7.1f} ms = {ordered[-1] / INTERVAL:.2f} x interval")
    print(
        f"  milestone build+mine+apply: mean {statistics.mean(durations) * 1e3:.1f} ms,"
        f" max {max(durations) * 1e3:.1f} ms"
    )


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    count = int(seconds * RATE)
    blocks, outputs = build(count)
    print(f"{count} blocks at {RATE}/s for {seconds:.0f} s, a milestone every {INTERVAL:g} s (reference)")
    with tempfile.TemporaryDirectory() as folder:
        report("SQLite", *measure(f"sqlite:///{Path(folder) / 'bench.db'}", blocks, outputs))
    server_url = postgres_server_url()
    if server_url is None:
        print("no PostgreSQL URL: SQLite only")
        return
    with postgres_database(server_url) as url:
        report("PostgreSQL", *measure(url, blocks, outputs))


if __name__ == "__main__":
    main()
