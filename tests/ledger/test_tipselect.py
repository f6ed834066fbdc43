"""Tip selection (TIP-3): laziness from root snapshot indexes, uniform choice of non-lazy tips."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import pytest

from mobility.db import create_db_engine
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.ledger.tipselect import (
    Laziness,
    classify,
    non_lazy_tips,
    root_snapshot_indexes,
    select_parents,
)
from mobility.wire.codec import TaggedDataPayload
from tests.ledger.builders import COORDINATORS, PARAMS, mined


@pytest.fixture
def node(database_url: str) -> Iterator[Node]:
    store = LedgerStore(create_db_engine(database_url))
    yield Node(store, PARAMS)
    store.engine.dispose()


def note(node: Node, label: str, parents: tuple[bytes, ...]) -> bytes:
    return node.submit(mined(TaggedDataPayload(b"tip", label.encode()), parents)).block_id


def indexes(node: Node, block_id: bytes) -> tuple[int, int]:
    return root_snapshot_indexes(node.store, [block_id])[block_id]


def walked_indexes(store: LedgerStore, block_id: bytes) -> tuple[int, int]:
    """TIP-3's root snapshot indexes by their definition: walk the block's unreferenced past
    cone block by block, noting the milestone index of every referenced block it rests on."""
    youngest, oldest = 0, None
    seen: set[bytes] = set()
    stack = [block_id]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        index = 0
        if current not in store.solid_entry_points:
            meta = store.metadata(current)
            if meta is None:
                continue
            if meta.milestone_index is None:
                stack.extend(meta.parents)
                continue
            index = meta.milestone_index
        youngest = max(youngest, index)
        oldest = index if oldest is None else min(oldest, index)
    return youngest, oldest or 0


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
    assert indexes(node, stale) == (0, 0)
    for _ in range(9):
        milestone = coordinator.issue([milestone]).block_id
    fresh = note(node, "fresh", (milestone,))
    mixed = note(node, "mixed", tuple(sorted([milestone, stale])))
    # Milestone block 10 is unreferenced; its parent, milestone block 9, was referenced by 10.
    assert indexes(node, fresh) == (10, 10)
    assert indexes(node, mixed) == (10, 0)
    assert non_lazy_tips(node.store) == sorted([fresh, mixed])  # stale: 10 - YMRSI 0 > 8

    for _ in range(4):
        milestone = coordinator.issue([milestone]).block_id
    # Mixed is semi-lazy now (14 - OMRSI 0 > 13); the newest milestone block is a tip itself.
    assert non_lazy_tips(node.store) == sorted([fresh, milestone])


def test_indexes_of_a_random_tangle_match_the_walk_by_definition(node: Node) -> None:
    """Every stored block, over a tangle where each milestone references only some tips, so
    unreferenced cones rest on several milestones and some blocks are never referenced."""
    rng = random.Random(5)
    coordinator = Coordinator(node, COORDINATORS[:2])
    recent = [GENESIS_ENTRY_POINT]
    stored: list[bytes] = []
    for round_ in range(8):
        for i in range(12):
            parents = tuple(sorted(set(rng.sample(recent, min(len(recent), rng.randint(1, 3))))))
            stored.append(note(node, f"r{round_}b{i}", parents))
            recent = [*recent, stored[-1]][-10:]
        tips = node.store.tips()
        milestone = coordinator.issue(rng.sample(tips, max(1, len(tips) // 3))).block_id
        stored.append(milestone)
        recent = [*recent, milestone][-10:]
    assert node.store.tips()  # some blocks were left unreferenced
    got = root_snapshot_indexes(node.store, stored)
    assert got == {block_id: walked_indexes(node.store, block_id) for block_id in stored}
    assert len(set(got.values())) > 3  # the cones really rest on different milestones


def test_held_blocks_are_not_read_by_tip_selection(node: Node) -> None:
    """Blocks waiting for parents that may never come stay out of the tip-selection walk."""
    tip = note(node, "tip", (GENESIS_ENTRY_POINT,))
    held = node.submit(mined(TaggedDataPayload(b"tip", b"held"), (bytes([7]) * 32,)))
    assert not held.solid
    assert set(node.store.unreferenced_approvals()) == {tip}
    assert non_lazy_tips(node.store) == [tip]


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
