"""Milestones: white-flag application, first spend wins, roots checked, order independence."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pow_rs
from mobility.ledger.confirmation import ConflictReason
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import GENESIS_ENTRY_POINT
from mobility.wire.codec import (
    BasicOutput,
    Block,
    MilestoneEssence,
    MilestonePayload,
    MilestoneSignature,
    UtxoInput,
)
from tests.ledger.builders import (
    ALICE,
    BOB,
    CAROL,
    COORDINATORS,
    PARAMS,
    address,
    funded_node,
    mined,
    spend,
    transfer,
)

ROOT = (GENESIS_ENTRY_POINT,)


def clock() -> datetime:
    return datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def coordinator(node: Node) -> Coordinator:
    return Coordinator(node, COORDINATORS[:2], clock=clock)


def balance(node: Node, key: pow_rs.SigningKey) -> int:
    return node.store.balance(address(key).to_bytes())


def test_milestone_confirms_a_transfer(node: Node, coordinator: Coordinator) -> None:
    tx = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    carrier = node.submit(mined(tx, parents=ROOT)).block_id
    issued = coordinator.issue()

    milestone = node.store.latest_milestone()
    assert milestone is not None
    assert milestone.milestone_index == 1
    assert milestone.block_id == issued.block_id
    assert milestone.inclusion_merkle_root == pow_rs.merkle_root([carrier])
    assert milestone.applied_merkle_root == pow_rs.merkle_root([carrier])
    assert balance(node, ALICE) == 500_000
    assert balance(node, BOB) == 1_300_000
    meta = node.store.metadata(carrier)
    assert meta is not None
    assert meta.milestone_index == 1
    assert meta.conflict_reason is None


def test_first_spend_wins_and_the_conflict_stays_marked(node: Node, coordinator: Coordinator) -> None:
    to_bob = node.submit(mined(transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE]), ROOT))
    to_carol = node.submit(
        mined(transfer([spend(0)], [BasicOutput(1_000_000, address(CAROL))], [ALICE]), ROOT)
    )
    coordinator.issue([to_bob.block_id, to_carol.block_id])

    winner, loser = sorted([to_bob.block_id, to_carol.block_id])  # white-flag: parents in ID order
    winner_meta, loser_meta = node.store.metadata(winner), node.store.metadata(loser)
    assert winner_meta is not None
    assert loser_meta is not None
    assert winner_meta.conflict_reason is None
    assert loser_meta.conflict_reason == ConflictReason.INPUT_SPENT
    assert loser_meta.milestone_index == 1
    assert balance(node, BOB) + balance(node, CAROL) == 300_000 + 1_000_000
    milestone = node.store.latest_milestone()
    assert milestone is not None
    assert milestone.applied_count == 1
    assert milestone.referenced_count == 2


def test_spend_of_an_unknown_output_is_a_conflict(node: Node, coordinator: Coordinator) -> None:
    tx = transfer([UtxoInput(b"\x05" * 32, 0)], [BasicOutput(1, address(BOB))], [ALICE])
    result = node.submit(mined(tx, ROOT))
    assert not result.inputs_checked
    coordinator.issue()
    meta = node.store.metadata(result.block_id)
    assert meta is not None
    assert meta.conflict_reason == ConflictReason.INPUT_NOT_FOUND


def test_unauthorized_spend_found_late_is_a_conflict(node: Node, coordinator: Coordinator) -> None:
    first = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    first_data = mined(first, ROOT)
    first_id = Block.from_bytes(first_data).block_id
    theft = transfer([UtxoInput(first.transaction_id, 0)], [BasicOutput(1_000_000, address(CAROL))], [CAROL])
    held = node.submit(mined(theft, (first_id,)))
    assert not held.inputs_checked
    node.submit(first_data)
    coordinator.issue([held.block_id])

    meta = node.store.metadata(held.block_id)
    assert meta is not None
    assert meta.conflict_reason == "invalid_transaction:address_mismatch"
    assert balance(node, BOB) == 1_300_000
    assert balance(node, CAROL) == 0


def test_chained_transactions_in_one_milestone(node: Node, coordinator: Coordinator) -> None:
    first = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    first_id = node.submit(mined(first, ROOT)).block_id
    second = transfer([UtxoInput(first.transaction_id, 0)], [BasicOutput(1_000_000, address(CAROL))], [BOB])
    second_id = node.submit(mined(second, (first_id,))).block_id
    coordinator.issue([second_id])
    milestone = node.store.latest_milestone()
    assert milestone is not None
    assert milestone.inclusion_merkle_root == pow_rs.merkle_root([first_id, second_id])
    assert balance(node, CAROL) == 1_000_000
    assert balance(node, BOB) == 300_000


def test_milestone_with_a_wrong_root_is_not_applied(node: Node, coordinator: Coordinator) -> None:
    carrier = node.submit(mined(transfer([spend(2)], [BasicOutput(300_000, address(ALICE))], [BOB]), ROOT))
    good = Block.from_bytes(coordinator.build([carrier.block_id]))
    assert isinstance(good.payload, MilestonePayload)
    essence = replace(good.payload.essence, inclusion_merkle_root=bytes(32))
    signatures = tuple(
        MilestoneSignature(key.public_key, key.sign(essence.milestone_id()))
        for key in sorted(COORDINATORS[:2], key=lambda key: key.public_key)
    )
    forged = replace(good, payload=MilestonePayload(essence, signatures), nonce=0)
    forged = replace(forged, nonce=pow_rs.mine(forged.bytes_without_nonce(), PARAMS.min_pow_score))

    assert node.submit(forged.to_bytes()).solid
    assert node.store.latest_milestone() is None
    assert balance(node, BOB) == 300_000
    node.submit(good.to_bytes())
    milestone = node.store.latest_milestone()
    assert milestone is not None
    assert milestone.block_id == good.block_id
    assert balance(node, BOB) == 0


def test_milestone_must_follow_the_previous_one(node: Node, coordinator: Coordinator) -> None:
    essence = MilestoneEssence(2, 0, 2, bytes(32), ROOT, pow_rs.merkle_root([]), pow_rs.merkle_root([]))
    signatures = tuple(
        MilestoneSignature(key.public_key, key.sign(essence.milestone_id()))
        for key in sorted(COORDINATORS[:2], key=lambda key: key.public_key)
    )
    node.submit(mined(MilestonePayload(essence, signatures), ROOT))
    assert node.store.latest_milestone() is None


def scenario(node: Node, coordinator: Coordinator) -> list[bytes]:
    """Transfers, a chain, a double spend and three milestones; the block bytes in issue order."""
    issued: list[bytes] = []

    def submit(data: bytes) -> bytes:
        issued.append(data)
        return node.submit(data).block_id

    split = [BasicOutput(600_000, address(BOB)), BasicOutput(400_000, address(ALICE))]
    a = transfer([spend(0)], split, [ALICE])
    a_id = submit(mined(a, ROOT))
    double = transfer([spend(0)], [BasicOutput(1_000_000, address(CAROL))], [ALICE])
    double_id = submit(mined(double, (a_id,)))  # approves `a`, so white-flag applies `a` first
    issued.append(coordinator.build([double_id]))
    node.submit(issued[-1])
    b_inputs = [UtxoInput(a.transaction_id, 0), spend(2)]
    b = transfer(b_inputs, [BasicOutput(900_000, address(CAROL))], [BOB, BOB])
    b_id = submit(mined(b, tuple(node.store.tips()[:1])))
    note_id = submit(mined(None, (b_id,)))
    c = transfer([spend(1)], [BasicOutput(500_000, address(BOB))], [ALICE])
    c_id = submit(mined(c, ROOT))
    issued.append(coordinator.build([note_id, c_id]))
    node.submit(issued[-1])
    issued.append(coordinator.build(node.store.tips()))
    node.submit(issued[-1])
    return issued


def test_two_nodes_reach_identical_state_in_any_order(
    node: Node, coordinator: Coordinator, tmp_path: Path, migrated_sqlite: Callable[[Path], str]
) -> None:
    blocks = scenario(node, coordinator)
    latest = node.store.latest_milestone()
    assert latest is not None
    assert latest.milestone_index == 3
    digest = node.store.state_digest()
    conflicts = [node.store.metadata(Block.from_bytes(data).block_id) for data in blocks]
    assert sum(1 for meta in conflicts if meta is not None and meta.conflict_reason) == 1
    assert balance(node, CAROL) == 900_000
    fresh = funded_node(migrated_sqlite(tmp_path / "fresh.db"))
    assert fresh.store.state_digest() != digest
    fresh.store.engine.dispose()

    for seed in range(3):
        other = funded_node(migrated_sqlite(tmp_path / f"other-{seed}.db"))
        shuffled = blocks[:]
        random.Random(seed).shuffle(shuffled)
        for data in shuffled:
            other.submit(data)
        assert other.store.state_digest() == digest
        other.store.engine.dispose()
