"""Batched intake (`put_blocks`, `submit_many`) ends exactly where one-by-one intake ends.

The batch writer solidifies in memory from a few bulk queries instead of asking the database
block by block; these tests pin that it is the same function: same results per block, same
stored state, whatever the arrival order and however the blocks are cut into batches.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import text

from mobility.db import create_db_engine
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.ingest import PutResult, any_held_sql
from mobility.ledger.node import Node, SubmitResult
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.ledger.validation import BlockRejectedError, RejectReason
from mobility.wire.codec import BasicOutput, Block, TaggedDataPayload, UtxoInput
from testkit.clock import ManualClock
from tests.ledger.builders import (
    ALICE,
    BOB,
    CAROL,
    COORDINATORS,
    address,
    funded_node,
    mined,
    spend,
    transfer,
)
from tests.ledger.test_confirmation import clock, scenario
from tests.ledger.test_store import T0, random_dag

ROOT = (GENESIS_ENTRY_POINT,)


def new_store(url: str) -> LedgerStore:
    store = LedgerStore(create_db_engine(url), clock=ManualClock(T0))
    return store


def stored_view(store: LedgerStore, blocks: list[Block]) -> list[tuple[bool, object, int]]:
    """Solidity, solid time and parent count of every block, as the store reports them."""
    view: list[tuple[bool, object, int]] = []
    for item in blocks:
        meta = store.metadata(item.block_id)
        assert meta is not None
        view.append((meta.solid, meta.solid_at, len(meta.parents)))
    return view


def approvals_without_child(store: LedgerStore) -> int:
    """Approvals whose child block is not stored: none, ever (there is no foreign key to say so,
    see `ApprovalRecord`)."""
    query = (
        "SELECT count(*) FROM ledger_approval a"
        " LEFT JOIN ledger_block b ON b.block_id = a.child_id WHERE b.block_id IS NULL"
    )
    with store.engine.connect() as connection:
        return int(connection.execute(text(query)).scalar_one())


def approval_count(store: LedgerStore) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM ledger_approval")).scalar_one())


@pytest.mark.parametrize("seed", ["a", "b", "c", "d"])
def test_batches_match_one_by_one(
    database_url: str, tmp_path: Path, migrated_sqlite: Callable[[Path], str], seed: str
) -> None:
    blocks = random_dag(seed, 40)
    rng = random.Random(seed)
    arrival = blocks[:] + rng.sample(blocks, 5)  # some blocks arrive twice
    rng.shuffle(arrival)

    single = new_store(migrated_sqlite(tmp_path / "single.db"))
    expected = [single.put_block(item) for item in arrival]

    batched = new_store(database_url)
    got: list[PutResult] = []
    start = 0
    while start < len(arrival):  # uneven batches, so held blocks wait across batches
        size = rng.randint(1, 12)
        got += batched.put_blocks([(item, item.to_bytes()) for item in arrival[start : start + size]])
        start += size

    assert got == expected
    assert stored_view(batched, blocks) == stored_view(single, blocks)
    assert batched.unsolid_count() == 0
    assert batched.missing_parents() == []
    assert approvals_without_child(batched) == 0
    assert approval_count(batched) == sum(len(item.parents) for item in blocks)
    single.engine.dispose()
    batched.engine.dispose()


def test_held_chain_stored_earlier_is_solidified_by_a_later_batch(database_url: str) -> None:
    store = new_store(database_url)
    parent = random_dag("chain", 1)[0]
    chain = [parent]
    for index in range(4):
        chain.append(Block(2, (chain[-1].block_id,), None, nonce=index))
    held = store.put_blocks([(item, item.to_bytes()) for item in reversed(chain[1:])])
    assert not any(result.solid for result in held)
    (result,) = store.put_blocks([(parent, parent.to_bytes())])
    assert result.solid
    assert result.made_solid == tuple(item.block_id for item in chain[1:])
    assert store.unsolid_count() == 0
    meta = store.metadata(chain[-1].block_id)
    assert meta is not None
    assert meta.solid_at == T0
    store.engine.dispose()


@pytest.fixture
def node(database_url: str) -> Iterator[Node]:
    made = funded_node(database_url)
    yield made
    made.store.engine.dispose()


def test_submit_many_rejects_only_the_bad_blocks(node: Node) -> None:
    good = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    good_data = mined(good, ROOT)
    thief = mined(transfer([spend(1)], [BasicOutput(500_000, address(CAROL))], [CAROL]), ROOT)
    onward = transfer([UtxoInput(good.transaction_id, 0)], [BasicOutput(1_000_000, address(CAROL))], [BOB])
    onward_data = mined(onward, (Block.from_bytes(good_data).block_id,))
    results = node.submit_many([good_data, thief, b"\x02", onward_data, good_data])

    assert isinstance(results[0], SubmitResult)
    assert results[0].inputs_checked
    assert results[0].created
    assert isinstance(results[1], BlockRejectedError)
    assert results[1].reason is RejectReason.ADDRESS_MISMATCH
    assert isinstance(results[2], BlockRejectedError)
    assert results[2].reason is RejectReason.MALFORMED
    assert isinstance(results[3], SubmitResult)
    assert results[3].inputs_checked  # spends an output of a block earlier in the same batch
    assert results[3].solid
    assert isinstance(results[4], SubmitResult)
    assert not results[4].created
    assert not node.store.has_block(Block.from_bytes(thief).block_id)
    assert approvals_without_child(node.store) == 0  # a rejected block left nothing behind


def test_submit_many_in_any_cut_reaches_the_same_ledger(
    node: Node, tmp_path: Path, migrated_sqlite: Callable[[Path], str]
) -> None:
    blocks = scenario(node, Coordinator(node, COORDINATORS[:2], clock=clock))
    digest = node.store.state_digest()
    for seed in range(3):
        other = funded_node(migrated_sqlite(tmp_path / f"other-{seed}.db"))
        rng = random.Random(seed)
        shuffled = blocks[:]
        rng.shuffle(shuffled)
        start = 0
        while start < len(shuffled):
            size = rng.randint(1, 4)
            for result in other.submit_many(shuffled[start : start + size]):
                assert isinstance(result, SubmitResult)
            start += size
        assert other.store.state_digest() == digest
        other.store.engine.dispose()


async def test_concurrent_async_submits_share_batches(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [mined(TaggedDataPayload(b"t", bytes([index])), ROOT) for index in range(30)]
    sizes: list[int] = []
    submit_many = node.submit_many

    def recording(batch: Sequence[bytes]) -> list[SubmitResult | BlockRejectedError]:
        sizes.append(len(batch))
        return submit_many(batch)

    monkeypatch.setattr(node, "submit_many", recording)
    thief = mined(transfer([spend(1)], [BasicOutput(500_000, address(CAROL))], [CAROL]), ROOT)
    outcomes = await asyncio.gather(
        *(node.submit_async(data) for data in [*blocks, thief]), return_exceptions=True
    )
    rejected = outcomes.pop()
    assert isinstance(rejected, BlockRejectedError)
    assert rejected.reason is RejectReason.ADDRESS_MISMATCH
    assert all(isinstance(result, SubmitResult) and result.solid for result in outcomes)
    assert sum(sizes) == len(blocks) + 1
    assert len(sizes) < len(blocks)  # later arrivals waited for, and shared, a batch
    for data in blocks:
        assert node.store.has_block(Block.from_bytes(data).block_id)


def test_the_held_blocks_probe_reads_the_held_index(database_url: str) -> None:
    """Every batch asks whether anything is held. The index answering it covers held blocks
    only, and a backend uses such a partial index only for a query whose predicate implies
    the index's: a rewording of either would silently turn the probe into a scan."""
    store = new_store(database_url)
    dialect = store.engine.dialect.name
    with store.engine.begin() as connection:
        if dialect == "sqlite":
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {any_held_sql(dialect)}").all()
        else:
            # A near-empty table is scanned whatever the indexes: ask what else it could do.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {any_held_sql(dialect)}").all()
    assert "ix_ledger_block_held" in str(plan)
