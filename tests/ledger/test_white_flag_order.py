"""The cone loaded in one recursive query is walked exactly as TIP-2 says, across milestones.

A reference white-flag order is computed here in plain Python from the blocks themselves
(depth-first, post-order, parents left to right, stopping at what earlier milestones
referenced) and compared with the store's walk, for a random tangle confirmed in three steps.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from mobility.db import create_db_engine
from mobility.ledger.confirmation import MilestoneError
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.wire.codec import Block
from tests.ledger.builders import COORDINATORS, PARAMS
from tests.ledger.test_confirmation import clock
from tests.ledger.test_store import random_dag


def reference_order(
    blocks: dict[bytes, Block], parents: tuple[bytes, ...], referenced: set[bytes]
) -> list[bytes]:
    order: list[bytes] = []
    seen: set[bytes] = set()

    def visit(block_id: bytes) -> None:
        if block_id in seen or block_id == GENESIS_ENTRY_POINT or block_id in referenced:
            return
        seen.add(block_id)
        for parent in blocks[block_id].parents:
            visit(parent)
        order.append(block_id)

    for parent in parents:
        visit(parent)
    return order


@pytest.fixture
def node(database_url: str) -> Iterator[Node]:
    store = LedgerStore(create_db_engine(database_url))
    yield Node(store, PARAMS)
    store.engine.dispose()


@pytest.mark.parametrize("seed", ["x", "y"])
def test_walk_matches_reference_across_milestones(node: Node, seed: str) -> None:
    dag = random_dag(seed, 60)
    blocks = {item.block_id: item for item in dag}
    node.store.put_blocks([(item, item.to_bytes()) for item in dag])
    coordinator = Coordinator(node, COORDINATORS[:2], clock=clock)
    rng = random.Random(seed)
    referenced: set[bytes] = set()
    for cut in (20, 40, 60):
        parents = tuple(sorted({item.block_id for item in rng.sample(dag[cut - 10 : cut], 3)}))
        expected = reference_order(blocks, parents, referenced)
        assert node.store.walk(parents, PARAMS, 0).referenced == expected
        milestone = node.submit(coordinator.build(parents))
        blocks[milestone.block_id] = Block.from_bytes(node.store.block_bytes(milestone.block_id) or b"")
        referenced.update(expected)
        latest = node.store.latest_milestone()
        assert latest is not None
        assert latest.referenced_count == len(expected)


def test_walk_refuses_a_cone_with_a_missing_block(node: Node) -> None:
    dag = random_dag("gap", 10)
    node.store.put_blocks([(item, item.to_bytes()) for item in dag if item is not dag[3]])
    with pytest.raises(MilestoneError):
        node.store.walk((dag[-1].block_id,), PARAMS, 0)
