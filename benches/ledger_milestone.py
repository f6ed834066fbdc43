"""Confirming a milestone whose past cone holds 10,000 blocks, per block, against ingest.

10,000 blocks (three in four tagged data, one in four a signed transfer spending a genesis
output, every block approving the one before it and up to two other recent blocks, so the
whole tangle is one cone) are built and mined with a low minimum PoW score, then stored
through `Node.submit_many` (timed, as the reference: the per-block cost of ingesting the very
blocks being confirmed). The coordinator then builds the milestone over the tips (its own
white-flag walk, timed apart) and the node applies it on arrival: walk the cone, check the
transactions against the UTXO state, recompute both Merkle roots, write the confirmation.
On SQLite, and on a scratch PostgreSQL database when `MOBILITY_TEST_POSTGRES_URL` or
`.ci/.postgres-url` names a server. Read the ratios; the box is shared and noisy.
Run: `.venv/bin/python benches/ledger_milestone.py [cone size, default 10000]`.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pow_rs
from mobility.db import create_db_engine
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node, SubmitResult
from mobility.ledger.params import NetworkParams
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.migrate import upgrade
from mobility.wire.codec import (
    BasicOutput,
    Block,
    Ed25519Address,
    Output,
    SignatureUnlock,
    TaggedDataPayload,
    TransactionEssence,
    TransactionPayload,
    UtxoInput,
    output_id,
)
from testkit.databases import postgres_database, postgres_server_url

COORDINATOR = pow_rs.SigningKey(pow_rs.blake2b_256(b"bench coordinator"))
PARAMS = NetworkParams(
    network_name="mobility-bench",
    min_pow_score=1.0,
    coordinator_public_keys=frozenset({COORDINATOR.public_key}),
)
KEYS = [pow_rs.SigningKey(pow_rs.blake2b_256(b"bench key %d" % i)) for i in range(32)]
GENESIS_TX = pow_rs.blake2b_256(b"bench genesis")
BATCH = 500


def genesis_id(index: int) -> bytes:
    """Output IDs stop at index 127, so each genesis output hangs from its own pseudo-transaction."""
    return output_id(pow_rs.blake2b_256(GENESIS_TX + index.to_bytes(4, "little")), 0)


def build(count: int) -> tuple[list[bytes], dict[bytes, Output]]:
    """The cone's blocks in arrival order, and the genesis outputs its transfers spend."""
    rng = random.Random(3)
    outputs: dict[bytes, Output] = {}
    recent = [GENESIS_ENTRY_POINT]
    blocks = []
    for i in range(count):
        payload: TaggedDataPayload | TransactionPayload
        if i % 4 == 3:
            key = KEYS[i % len(KEYS)]
            spent = genesis_id(i)
            outputs[spent] = BasicOutput(1_000_000, Ed25519Address.from_public_key(key.public_key))
            payee = Ed25519Address.from_public_key(KEYS[(i + 1) % len(KEYS)].public_key)
            essence = TransactionEssence(
                PARAMS.network_id,
                (UtxoInput(spent[:32], 0),),
                (BasicOutput(700_000, payee), BasicOutput(300_000, outputs[spent].owners[0])),
            )
            unlock = SignatureUnlock(key.public_key, key.sign(essence.hash()))
            payload = TransactionPayload(essence, (unlock,))
        else:
            payload = TaggedDataPayload(b"bench/cone", rng.randbytes(64))
        others = rng.sample(recent[:-1], min(len(recent) - 1, rng.randint(0, 2)))
        block = Block(PARAMS.protocol_version, tuple(sorted({recent[-1], *others})), payload)
        nonce = pow_rs.mine(block.bytes_without_nonce(), PARAMS.min_pow_score)
        data = replace(block, nonce=nonce).to_bytes()
        blocks.append(data)
        recent.append(pow_rs.blake2b_256(data))
        del recent[:-8]
    return blocks, outputs


def measure(url: str, blocks: list[bytes], outputs: dict[bytes, Output]) -> tuple[float, float, float]:
    """Seconds to ingest the cone, to build the milestone, to apply it on arrival."""
    upgrade(url)
    store = LedgerStore(create_db_engine(url))
    store.add_genesis(outputs, GENESIS_TX)
    node = Node(store, PARAMS)
    try:
        started = time.perf_counter()
        for start in range(0, len(blocks), BATCH):
            for result in node.submit_many(blocks[start : start + BATCH]):
                assert isinstance(result, SubmitResult)
                assert result.solid
        ingest = time.perf_counter() - started
        coordinator = Coordinator(node, [COORDINATOR], clock=lambda: datetime.now(UTC))
        started = time.perf_counter()
        milestone = coordinator.build(store.tips()[:8])
        build_seconds = time.perf_counter() - started
        started = time.perf_counter()
        node.submit(milestone)
        apply = time.perf_counter() - started
        latest = store.latest_milestone()
        assert latest is not None
        assert latest.referenced_count == len(blocks), latest.referenced_count
        transfers = sum(isinstance(Block.from_bytes(data).payload, TransactionPayload) for data in blocks)
        assert latest.applied_count == transfers, "every transfer is applied, none conflicts"
        return ingest, build_seconds, apply
    finally:
        store.engine.dispose()


def report(backend: str, count: int, ingest: float, build_seconds: float, apply: float) -> None:
    per_ingest = ingest / count * 1e6
    per_apply = apply / count * 1e6
    print(f"{backend}:")
    print(f"  ingest (submit_many({BATCH}), reference)  {ingest:7.2f} s  {per_ingest:7.1f} us/block")
    per_build = build_seconds / count * 1e6
    print(f"  coordinator builds the milestone        {build_seconds:7.2f} s  {per_build:7.1f} us/block")
    print(
        f"  node applies it (walk, check, write)    {apply:7.2f} s  {per_apply:7.1f} us/block"
        f"  = {per_apply / per_ingest:.2f}x ingest"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    started = time.perf_counter()
    blocks, outputs = build(count)
    transfers = sum(1 for data in blocks if isinstance(Block.from_bytes(data).payload, TransactionPayload))
    print(
        f"cone of {count} blocks ({transfers} transfers) built and mined in"
        f" {time.perf_counter() - started:.1f} s (not timed)"
    )
    with tempfile.TemporaryDirectory() as folder:
        report("SQLite", count, *measure(f"sqlite:///{Path(folder) / 'bench.db'}", blocks, outputs))
    server_url = postgres_server_url()
    if server_url is None:
        print("no PostgreSQL URL: SQLite only")
        return
    with postgres_database(server_url) as url:
        report("PostgreSQL", count, *measure(url, blocks, outputs))


if __name__ == "__main__":
    main()
