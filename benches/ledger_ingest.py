"""Blocks per second through validation into storage, against the crypto checks of the same blocks.

For tagged-data blocks and for signed transaction blocks, on SQLite and (when
`MOBILITY_TEST_POSTGRES_URL` or `.ci/.postgres-url` names a server) on a scratch PostgreSQL
database created and dropped for the run, three figures per block, all measured in this run:

- crypto: only the pow_rs calls a node cannot avoid for that block (PoW score, BLAKE2b-256 of
  the block ID, and for a transaction the essence hash, the transaction ID, the signer's
  address and the Ed25519 verification). This is the reference: the issue's goal is a total
  per-block cost of at most 3x this.
- validate: `check_block` plus the input checks against an in-memory UTXO dict (codec and
  Python rules on top of the crypto, no database).
- `Node.submit`: one block at a time, each committed (durable) before the next, the way an
  HTTP client that waits for its answer drives the node.
- `Node.submit_many`: the same blocks handed over in batches of 100 and of 1,000 (a gossip
  burst), one database transaction per batch, each block still acknowledged only after its
  batch committed.
- `Node.submit_async` from 100 and from 1,000 concurrent submitters, the path of the API and
  the in-process client: the group commit gathers whatever arrived while the previous batch
  was written, up to its bound of 1,000 a batch. Under a steady flood of submissions that is
  the batch size the node works at.
- storage floor: only the rows `submit_many` writes for those blocks (block, approvals,
  outputs), prepared before timing and inserted by the node's own bulk path in batches of the
  same sizes, each committed durably: no validation, lookup or solidification. Validation plus
  this floor is what the batched paths cannot go below on this stack, whatever the Python.

Blocks are built, signed and mined before any timing, with a low minimum PoW score; what the
bench built is then frozen out of the garbage collector, as the engine and the standalone node
freeze their start-up heap (`mobility.runtime`), so full collections walk the node's objects,
not the bench's. The box is a noisy shared one: read the multiples, not the absolute times.
Run: `.venv/bin/python benches/ledger_ingest.py [blocks per kind, default 4000]`.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlmodel import Session, SQLModel

import pow_rs
from mobility.db import create_db_engine
from mobility.driver_sql import bind_value, bulk_insert
from mobility.ledger.ingest import APPROVAL_COLUMNS, BLOCK_COLUMNS, OUTPUT_COLUMNS, output_row
from mobility.ledger.node import Node
from mobility.ledger.params import NetworkParams
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.ledger.validation import check_block, check_transaction_inputs
from mobility.migrate import upgrade
from mobility.runtime import freeze_startup_heap
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

PARAMS = NetworkParams(network_name="mobility-bench", min_pow_score=10.0)
GENESIS_TX = pow_rs.blake2b_256(b"bench genesis")
KEYS = [pow_rs.SigningKey(pow_rs.blake2b_256(b"bench key %d" % i)) for i in range(32)]
BATCHES = (100, 1000)
"""Batch sizes for `submit_many`, concurrent submitters for `submit_async`, and floor batches."""
CRYPTO_ROUNDS = 5
REPEATS = 3
SINGLE_BLOCKS = 300


@dataclass(frozen=True)
class CryptoItem:
    """The inputs of every pow_rs call a node must make for one block."""

    data: bytes
    hashed: tuple[bytes, ...]
    """Further BLAKE2b-256 inputs: essence, transaction payload, signer public key."""
    signature: tuple[bytes, bytes, bytes] | None


@dataclass(frozen=True)
class Workload:
    """Pre-mined blocks of one kind, in arrival order, and what the crypto reference hashes."""

    name: str
    blocks: list[bytes]
    crypto: list[CryptoItem]


def _parents(rng: random.Random, recent: list[bytes]) -> tuple[bytes, ...]:
    """One to three distinct recent blocks: a tangle, not a chain."""
    return tuple(sorted(rng.sample(recent, min(len(recent), rng.randint(1, 3)))))


def _mine(block: Block) -> bytes:
    nonce = pow_rs.mine(block.bytes_without_nonce(), PARAMS.min_pow_score)
    return replace(block, nonce=nonce).to_bytes()


def _push(recent: list[bytes], block_id: bytes) -> None:
    recent.append(block_id)
    del recent[:-8]


def tagged_workload(count: int) -> Workload:
    """Tagged-data blocks (a 16-byte tag, 128 bytes of data) approving recent blocks."""
    rng = random.Random(1)
    recent = [GENESIS_ENTRY_POINT]
    blocks, crypto = [], []
    for i in range(count):
        payload = TaggedDataPayload(b"bench/tag/%06d" % i, rng.randbytes(128))
        data = _mine(Block(PARAMS.protocol_version, _parents(rng, recent), payload))
        blocks.append(data)
        crypto.append(CryptoItem(data, (), None))
        _push(recent, pow_rs.blake2b_256(data))
    return Workload("tagged data", blocks, crypto)


def genesis(count: int) -> dict[bytes, Output]:
    """One 1-unit output per transaction to come, spread over the bench keys."""
    # Output indexes stop at 127, so each output hangs from its own pseudo-transaction ID.
    return {
        output_id(pow_rs.blake2b_256(GENESIS_TX + i.to_bytes(4, "little")), 0): BasicOutput(
            1_000_000, Ed25519Address.from_public_key(KEYS[i % len(KEYS)].public_key)
        )
        for i in range(count)
    }


def transaction_workload(count: int) -> tuple[Workload, dict[bytes, Output]]:
    """Signed transfers, each spending one genesis output into a payment and its change."""
    rng = random.Random(2)
    outputs = genesis(count)
    recent = [GENESIS_ENTRY_POINT]
    blocks, crypto = [], []
    for i, spent in enumerate(outputs):
        key = KEYS[i % len(KEYS)]
        payee = Ed25519Address.from_public_key(KEYS[(i + 1) % len(KEYS)].public_key)
        essence = TransactionEssence(
            PARAMS.network_id,
            (UtxoInput(spent[:32], int.from_bytes(spent[32:], "little")),),
            (
                BasicOutput(600_000, payee),
                BasicOutput(400_000, Ed25519Address.from_public_key(key.public_key)),
            ),
        )
        message = essence.hash()
        signature = key.sign(message)
        payload = TransactionPayload(essence, (SignatureUnlock(key.public_key, signature),))
        data = _mine(Block(PARAMS.protocol_version, _parents(rng, recent), payload))
        blocks.append(data)
        crypto.append(
            CryptoItem(
                data,
                (essence.to_bytes(), payload.to_bytes(), key.public_key),
                (key.public_key, message, signature),
            )
        )
        _push(recent, pow_rs.blake2b_256(data))
    return Workload("transactions", blocks, crypto), outputs


def crypto_seconds(items: list[CryptoItem]) -> float:
    """Best of several rounds of exactly the pow_rs work of these blocks."""
    best = float("inf")
    for _ in range(CRYPTO_ROUNDS):
        started = time.perf_counter()
        for item in items:
            pow_rs.pow_score(item.data)
            pow_rs.blake2b_256(item.data)
            for part in item.hashed:
                pow_rs.blake2b_256(part)
            if item.signature is not None:
                pow_rs.ed25519_verify(*item.signature)
        best = min(best, time.perf_counter() - started)
    return best


def validate_seconds(workload: Workload, outputs: dict[bytes, Output]) -> float:
    """Best of several rounds of every arrival check, UTXO lookups from a dict."""
    best = float("inf")
    for _ in range(CRYPTO_ROUNDS):
        started = time.perf_counter()
        for data in workload.blocks:
            block = check_block(data, PARAMS)
            if isinstance(block.payload, TransactionPayload):
                check_transaction_inputs(block.payload, outputs.get, PARAMS)
        best = min(best, time.perf_counter() - started)
    return best


def fresh_node(url: str, outputs: dict[bytes, Output]) -> Node:
    upgrade(url)
    store = LedgerStore(create_db_engine(url))
    if outputs:
        store.add_genesis(outputs, GENESIS_TX)
    node = Node(store, PARAMS)
    node.apply_pending_milestones()  # start-up work, not ingest: a node does it once, before it serves
    return node


def one_by_one(node: Node, blocks: list[bytes]) -> float:
    started = time.perf_counter()
    for data in blocks:
        assert node.submit(data).solid
    return time.perf_counter() - started


def batched(node: Node, blocks: list[bytes], size: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(blocks), size):
        for result in node.submit_many(blocks[start : start + size]):
            assert not isinstance(result, Exception), result
            assert result.solid
    return time.perf_counter() - started


def storage_floor(node: Node, blocks: list[bytes], size: int) -> float:
    """The bare INSERTs of what `submit_many` stores, in batches of `size`, each committed."""
    block_rows, approval_rows, output_rows = [], [], []
    for data in blocks:
        block = Block.from_bytes(data)
        block_id = pow_rs.blake2b_256(data)
        payload_type = block.payload.TYPE if block.payload is not None else None
        block_rows.append((block_id, data, payload_type, True, None))
        approval_rows.append([(parent, block_id) for parent in block.parents])
        rows = []
        if isinstance(block.payload, TransactionPayload):
            transaction_id = block.payload.transaction_id
            for index, output in enumerate(block.payload.essence.outputs):
                rows.append(
                    output_row(output_id(transaction_id, index), transaction_id, output, block_id, None)
                )
        output_rows.append(rows)
    received_at = SQLModel.metadata.tables["ledger_block"].c.received_at
    started = time.perf_counter()
    for start in range(0, len(blocks), size):
        with Session(node.store.engine) as session:
            now = bind_value(session, received_at, datetime.now(UTC))
            part = slice(start, start + size)
            bulk_insert(
                session,
                "ledger_block",
                BLOCK_COLUMNS,
                [(i, d, k, now, solid, now, None, None, None, m) for i, d, k, solid, m in block_rows[part]],
            )
            bulk_insert(
                session,
                "ledger_approval",
                APPROVAL_COLUMNS,
                [a for rows in approval_rows[part] for a in rows],
            )
            outputs = [row for rows in output_rows[part] for row in rows]
            if outputs:
                bulk_insert(session, "ledger_output", OUTPUT_COLUMNS, outputs)
            session.commit()
    return time.perf_counter() - started


def concurrent(node: Node, blocks: list[bytes], clients: int) -> float:
    """`clients` async submitters at once, as the API sees them: the group commit batches them.

    Closed loop: each client sends its next block once the last one was acknowledged.
    """

    async def run() -> float:
        queue = iter(blocks)

        async def client() -> None:
            for data in queue:
                await node.submit_async(data)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    assert node.store.unsolid_count() == 0
    return elapsed


Ingest = Callable[[Node, list[bytes]], float]
"""Ingests the blocks into the node; the seconds it took."""


def ingest_seconds(
    database: Callable[[], AbstractContextManager[str]],
    workload: Workload,
    outputs: dict[bytes, Output],
    ingest: Ingest,
) -> float:
    with database() as url:
        node = fresh_node(url, outputs)
        try:
            return ingest(node, workload.blocks)
        finally:
            node.store.engine.dispose()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    started = time.perf_counter()
    tagged = tagged_workload(count)
    transactions, outputs = transaction_workload(count)
    print(f"built and mined {2 * count} blocks in {time.perf_counter() - started:.1f} s (not timed)")
    freeze_startup_heap()
    backends: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = [("SQLite", sqlite_database)]
    server_url = postgres_server_url()
    if server_url:
        backends.append(("PostgreSQL", partial(postgres_database, server_url)))
    else:
        print("no PostgreSQL URL: SQLite only")
    # One block per commit is slow and steady: fewer blocks give the same per-block figure.
    modes: list[tuple[str, Ingest, int]] = [("submit", one_by_one, min(count, SINGLE_BLOCKS))]
    for size in BATCHES:
        modes.append((f"submit_many({size})", partial(batched, size=size), count))
    for size in BATCHES:
        modes.append((f"submit_async, {size} concurrent", partial(concurrent, clients=size), count))
    for size in BATCHES:
        modes.append((f"storage floor, INSERTs/{size}", partial(storage_floor, size=size), count))
    print(f"best of {REPEATS} runs each, every run on a fresh database; the reference is re-measured")
    print("around each run and the best kept, so a ratio compares like with like on a busy box")
    header = f"{'workload':<13} {'path':<36} {'us/block':>9} {'blocks/s':>9} {'x crypto':>9}"
    print(header)
    print("-" * len(header))
    for workload, genesis_outputs in ((tagged, {}), (transactions, outputs)):
        crypto = crypto_seconds(workload.crypto) / count
        validate = validate_seconds(workload, outputs) / count
        rows = [("validate (no storage)", validate)]
        for backend, database in backends:
            for mode, ingest, blocks in modes:
                part = Workload(workload.name, workload.blocks[:blocks], workload.crypto[:blocks])
                best = float("inf")
                for _ in range(REPEATS):
                    best = min(best, ingest_seconds(database, part, genesis_outputs, ingest) / blocks)
                    crypto = min(crypto, crypto_seconds(workload.crypto) / count)
                rows.append((f"{backend}, {mode}", best))
        for path, seconds in [("crypto only (reference)", crypto), *rows]:
            print(
                f"{workload.name:<13} {path:<36} {seconds * 1e6:>9.1f} {1 / seconds:>9,.0f}"
                f" {seconds / crypto:>8.2f}x"
            )
        print(f"{'':<13} {'(goal: total <= 3.00x crypto)':<36}")


if __name__ == "__main__":
    main()
