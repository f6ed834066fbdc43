"""Storage and solidification, on every database backend under test."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

import pow_rs
from mobility.db import create_db_engine
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.wire.codec import BasicOutput, Block, ChannelOutput, TaggedDataPayload, output_id
from testkit.clock import ManualClock
from tests.ledger.builders import ALICE, BOB, CAROL, GENESIS_TX, address, genesis, spend, transfer

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def store(database_url: str, clock: ManualClock) -> Iterator[LedgerStore]:
    engine = create_db_engine(database_url)
    ledger = LedgerStore(engine, clock=clock)
    yield ledger
    engine.dispose()


def block(label: str, parents: list[bytes]) -> Block:
    """A distinct block approving `parents` (sorted, as the codec requires)."""
    return Block(2, tuple(sorted(set(parents))), TaggedDataPayload(b"test", label.encode()))


def random_dag(seed: str, size: int) -> list[Block]:
    """Blocks in a topological order; each approves 1 to 3 earlier blocks or the genesis."""
    rng = random.Random(seed)
    ids: list[bytes] = [GENESIS_ENTRY_POINT]
    blocks: list[Block] = []
    for index in range(size):
        parents = rng.sample(ids[-6:], k=min(len(ids[-6:]), rng.randint(1, 3)))
        item = block(f"{seed}-{index}", parents)
        blocks.append(item)
        ids.append(item.block_id)
    return blocks


def test_block_round_trip_and_metadata(store: LedgerStore, clock: ManualClock) -> None:
    item = block("a", [GENESIS_ENTRY_POINT])
    result = store.put_block(item, item.to_bytes())
    assert result.created
    assert result.solid
    assert store.block_bytes(item.block_id) == item.to_bytes()
    meta = store.metadata(item.block_id)
    assert meta is not None
    assert meta.parents == (GENESIS_ENTRY_POINT,)
    assert meta.received_at == T0
    assert meta.received_at.tzinfo is not None
    assert meta.solid
    assert meta.milestone_index is None
    assert meta.conflict_reason is None
    assert store.metadata(b"\x01" * 32) is None


def test_put_is_idempotent(store: LedgerStore) -> None:
    item = block("a", [GENESIS_ENTRY_POINT])
    store.put_block(item)
    again = store.put_block(item)
    assert not again.created
    assert again.solid


def test_block_with_unknown_parent_is_held_then_solidified(store: LedgerStore, clock: ManualClock) -> None:
    parent = block("parent", [GENESIS_ENTRY_POINT])
    child = block("child", [parent.block_id])
    grandchild = block("grandchild", [child.block_id, GENESIS_ENTRY_POINT])

    assert not store.put_block(grandchild).solid
    assert not store.put_block(child).solid
    assert store.missing_parents() == [parent.block_id]
    assert store.unsolid_count() == 2
    assert store.children(parent.block_id) == [child.block_id]

    clock.now = T0 + timedelta(seconds=5)
    result = store.put_block(parent)
    assert result.solid
    assert result.made_solid == (child.block_id, grandchild.block_id)
    assert store.missing_parents() == []
    assert store.unsolid_count() == 0
    meta = store.metadata(grandchild.block_id)
    assert meta is not None
    assert meta.solid_at == T0 + timedelta(seconds=5)


@pytest.mark.parametrize("seed", ["one", "two", "three"])
def test_any_arrival_order_ends_fully_solid(store: LedgerStore, seed: str) -> None:
    blocks = random_dag(seed, 30)
    shuffled = blocks[:]
    random.Random(seed).shuffle(shuffled)
    for item in shuffled:
        store.put_block(item)
    assert store.unsolid_count() == 0
    assert all(store.metadata(item.block_id).solid for item in blocks)  # type: ignore[union-attr]


def test_solid_exactly_when_whole_past_cone_is_present(store: LedgerStore) -> None:
    blocks = random_dag("subset", 25)
    by_id = {item.block_id: item for item in blocks}
    present = [item for index, item in enumerate(blocks) if index % 4 != 1]
    for item in reversed(present):
        store.put_block(item)

    stored = {item.block_id for item in present}

    def cone_complete(block_id: bytes) -> bool:
        if block_id == GENESIS_ENTRY_POINT:
            return True
        if block_id not in stored:
            return False
        return all(cone_complete(parent) for parent in by_id[block_id].parents)

    for item in present:
        meta = store.metadata(item.block_id)
        assert meta is not None
        assert meta.solid == cone_complete(item.block_id)
    assert set(store.missing_parents()) <= set(by_id) - stored


def test_transaction_outputs_are_recorded_and_spends_are_first_wins(store: LedgerStore) -> None:
    store.add_genesis(genesis(), GENESIS_TX)
    assert store.balance(address(ALICE).to_bytes()) == 1_500_000
    tx = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    store.put_block(Block(2, (GENESIS_ENTRY_POINT,), tx))

    new_output = output_id(tx.transaction_id, 0)
    assert store.unspent_output(new_output) == BasicOutput(1_000_000, address(BOB))
    assert store.balance(address(BOB).to_bytes()) == 300_000  # the new output is not confirmed yet

    assert store.unspent_output(spend(0).output_id) is not None
    store.record_spend(spend(0).output_id, tx.transaction_id, 1)
    assert store.unspent_output(spend(0).output_id) is None
    assert store.balance(address(ALICE).to_bytes()) == 500_000
    with pytest.raises(IntegrityError):
        store.record_spend(spend(0).output_id, b"\x09" * 32, 2)


def test_channel_output_gets_its_lasting_id(store: LedgerStore) -> None:
    channel = ChannelOutput(bytes(32), address(ALICE), address(CAROL), 1_000_000, 0, 2**31)
    tx = transfer([spend(0)], [channel], [ALICE])
    store.add_genesis(genesis(), GENESIS_TX)
    store.put_block(Block(2, (GENESIS_ENTRY_POINT,), tx))
    opened = output_id(tx.transaction_id, 0)
    assert channel.resolved_channel_id(opened) == pow_rs.blake2b_256(opened)
    assert store.unspent_output(opened) == channel


def test_state_survives_a_new_engine(database_url: str, clock: ManualClock) -> None:
    parent = block("p", [GENESIS_ENTRY_POINT])
    child = block("c", [parent.block_id])
    first = LedgerStore(create_db_engine(database_url), clock=clock)
    first.put_block(child)
    first.engine.dispose()

    second = LedgerStore(create_db_engine(database_url), clock=clock)
    assert second.missing_parents() == [parent.block_id]
    assert second.put_block(parent).made_solid == (child.block_id,)
    second.engine.dispose()
