"""Held blocks are bounded and pruned (issue 14, point 9): blocks with invented parents were kept
forever (50 of 50), with their approvals and their transactions' outputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlmodel import Session

import pow_rs
from mobility.db import create_db_engine
from mobility.ledger.held import HeldLimits
from mobility.ledger.models import OutputRecord
from mobility.ledger.node import Node
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.wire.codec import BasicOutput, Block, TaggedDataPayload, output_id
from testkit.clock import ManualClock
from tests.ledger.builders import ALICE, BOB, GENESIS_TX, PARAMS, address, genesis, mined, spend, transfer

ROOT = (GENESIS_ENTRY_POINT,)
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def store(database_url: str, clock: ManualClock) -> Iterator[LedgerStore]:
    engine = create_db_engine(database_url)
    ledger = LedgerStore(engine, clock=clock)
    ledger.add_genesis(genesis(), GENESIS_TX)
    yield ledger
    engine.dispose()


def invented(n: int) -> tuple[bytes, ...]:
    return (pow_rs.blake2b_256(b"nobody has this block %d" % n),)


def junk(n: int) -> bytes:
    return mined(TaggedDataPayload(b"junk", b"%d" % n), parents=invented(n))


def test_held_blocks_are_capped_oldest_first(store: LedgerStore, clock: ManualClock) -> None:
    node = Node(store, PARAMS, HeldLimits(max_count=10, max_age=dt.timedelta(hours=1)))
    ids = []
    for n in range(50):
        clock.now = T0 + dt.timedelta(seconds=n)
        result = node.submit(junk(n))
        assert not result.solid
        ids.append(result.block_id)
    assert store.unsolid_count() == 10
    assert [store.metadata(block_id) is not None for block_id in ids] == [False] * 40 + [True] * 10
    assert len(store.missing_parents()) == 10  # their invented parents went with them


def test_held_blocks_expire(store: LedgerStore, clock: ManualClock) -> None:
    node = Node(store, PARAMS, HeldLimits(max_count=100, max_age=dt.timedelta(minutes=10)))
    early = [node.submit(junk(n)).block_id for n in range(5)]
    clock.now = T0 + dt.timedelta(minutes=11)
    late = node.submit(junk(99)).block_id
    assert store.unsolid_count() == 1
    assert all(store.metadata(block_id) is None for block_id in early)
    assert store.metadata(late) is not None
    # Nothing new is held, yet the last one still expires: pruning runs while any is held.
    clock.now = T0 + dt.timedelta(minutes=30)
    assert node.submit(mined(TaggedDataPayload(b"fine", b""), parents=ROOT)).solid
    assert store.unsolid_count() == 0
    # A pruned block that was only early is taken again.
    assert node.submit(junk(0)).created


def test_a_pruned_transaction_takes_its_outputs_unless_another_block_carries_it(
    store: LedgerStore, clock: ManualClock
) -> None:
    node = Node(store, PARAMS, HeldLimits(max_count=100, max_age=dt.timedelta(minutes=10)))
    orphan = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    held = node.submit(mined(orphan, parents=invented(1)))
    assert not held.solid
    shared = transfer([spend(1)], [BasicOutput(500_000, address(BOB))], [ALICE])
    held_twin = node.submit(mined(shared, parents=invented(2)))
    solid_twin = node.submit(mined(shared, parents=ROOT))
    assert solid_twin.solid
    assert store.output(output_id(orphan.transaction_id, 0)) is not None

    clock.now = T0 + dt.timedelta(minutes=11)
    node.submit(mined(TaggedDataPayload(b"tick", b""), parents=ROOT))
    assert store.metadata(held.block_id) is None
    assert store.metadata(held_twin.block_id) is None
    assert store.output(output_id(orphan.transaction_id, 0)) is None
    with Session(store.engine) as db:
        kept = db.get(OutputRecord, output_id(shared.transaction_id, 0))
    assert kept is not None
    assert kept.block_id == solid_twin.block_id
    assert Block.from_bytes(store.block_bytes(solid_twin.block_id) or b"").payload == shared
