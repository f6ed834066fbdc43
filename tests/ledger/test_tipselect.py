"""Tip selection (TIP-3): laziness from root snapshot indexes, uniform choice of non-lazy tips."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import pytest

from mobility.db import create_db_engine
from mobility.ledger.codec import TaggedDataPayload
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.ledger.tipselect import Laziness, classify, non_lazy_tips, select_parents
from tests.ledger.builders import COORDINATORS, PARAMS, mined


@pytest.fixture
def node(database_url: str) -> Iterator[Node]:
    store = LedgerStore(create_db_engine(database_url))
    store.create_tables()
    yield Node(store, PARAMS)
    store.engine.dispose()


def note(node: Node, label: str, parents: tuple[bytes, ...]) -> bytes:
    return node.submit(mined(TaggedDataPayload(b"tip", label.encode()), parents)).block_id


@pytest.mark.parametrize(
    ("latest", "ymrsi", "omrsi", "expected"),
    [
        (20, 20, 20, Laziness.NON_LAZY),
        (20, 12, 7, Laziness.NON_LAZY),
        (20, 11, 11, Laziness.LAZY),  # youngest root too old
        (20, 20, 6, Laziness.SEMI_LAZY),
        (20, 20, 4, Laziness.LAZY),  # below max depth
    ],
)
def test_classify(latest: int, ymrsi: int, omrsi: int, expected: Laziness) -> None:
    assert classify(latest, ymrsi, omrsi) is expected


def test_select_before_any_block_is_the_genesis(node: Node) -> None:
    assert select_parents(node.store, random.Random(1)) == (GENESIS_ENTRY_POINT,)


def test_root_snapshot_indexes_and_lazy_tips(node: Node) -> None:
    coordinator = Coordinator(node, COORDINATORS[:2])
    stale = note(node, "stale", (GENESIS_ENTRY_POINT,))
    milestone = coordinator.issue([GENESIS_ENTRY_POINT]).block_id
    assert node.store.root_snapshot_indexes(stale) == (0, 0)
    for _ in range(9):
        milestone = coordinator.issue([milestone]).block_id
    fresh = note(node, "fresh", (milestone,))
    mixed = note(node, "mixed", tuple(sorted([milestone, stale])))
    # Milestone block 10 is unreferenced; its parent, milestone block 9, was referenced by 10.
    assert node.store.root_snapshot_indexes(fresh) == (10, 10)
    assert node.store.root_snapshot_indexes(mixed) == (10, 0)
    assert non_lazy_tips(node.store) == sorted([fresh, mixed])  # stale: 10 - YMRSI 0 > 8

    for _ in range(4):
        milestone = coordinator.issue([milestone]).block_id
    # Mixed is semi-lazy now (14 - OMRSI 0 > 13); the newest milestone block is a tip itself.
    assert non_lazy_tips(node.store) == sorted([fresh, milestone])


def test_uniform_over_non_lazy_tips(node: Node) -> None:
    tips = {note(node, f"t{i}", (GENESIS_ENTRY_POINT,)) for i in range(4)}
    rng = random.Random(7)
    counts = Counter(parent for _ in range(400) for parent in select_parents(node.store, rng, count=1))
    assert set(counts) == tips
    assert all(60 <= count <= 140 for count in counts.values())
    chosen = select_parents(node.store, rng, count=8)
    assert chosen == tuple(sorted(tips))


def test_parent_count_is_bounded(node: Node) -> None:
    with pytest.raises(ValueError, match=r"1\.\.8"):
        select_parents(node.store, random.Random(1), count=9)
