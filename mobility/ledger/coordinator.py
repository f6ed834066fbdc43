"""The coordinator: issues milestones that confirm the tangle, signed by a threshold of keys.

It runs the same white-flag walk every node will run, so the Merkle roots it commits to are
the ones nodes recompute; then it signs the milestone ID with each of its keys, mines the
block to the network's minimum score and submits it through the node like any block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pow_rs
from mobility.clock import Clock, utc_now
from mobility.ledger.node import Node, SubmitResult
from mobility.wire.codec import Block, MilestoneEssence, MilestonePayload, MilestoneSignature


class Coordinator:
    """Milestone issuer for one network; `keys` must meet the network's signature threshold."""

    def __init__(self, node: Node, keys: Sequence[pow_rs.SigningKey], clock: Clock = utc_now) -> None:
        self.node = node
        self.keys = sorted(keys, key=lambda key: key.public_key)
        self.clock = clock

    def build(self, parents: Sequence[bytes]) -> bytes:
        """A mined, signed milestone block approving `parents` (1 to 8 solid blocks)."""
        ordered = tuple(sorted(set(parents)))
        store = self.node.store
        latest = store.latest_milestone()
        timestamp = int(self.clock().timestamp())
        result = store.walk(ordered, self.node.params, timestamp)
        essence = MilestoneEssence(
            index=1 if latest is None else latest.milestone_index + 1,
            timestamp=timestamp,
            protocol_version=self.node.params.protocol_version,
            previous_milestone_id=bytes(32) if latest is None else latest.milestone_id,
            parents=ordered,
            inclusion_merkle_root=result.inclusion_merkle_root,
            applied_merkle_root=result.applied_merkle_root,
        )
        message = essence.milestone_id()
        signatures = tuple(MilestoneSignature(key.public_key, key.sign(message)) for key in self.keys)
        block = Block(self.node.params.protocol_version, ordered, MilestonePayload(essence, signatures))
        nonce = pow_rs.mine(block.bytes_without_nonce(), self.node.params.min_pow_score)
        return replace(block, nonce=nonce).to_bytes()

    def issue(self, parents: Sequence[bytes] | None = None) -> SubmitResult:
        """Build a milestone over `parents` (default: up to 8 current tips) and submit it."""
        chosen = list(parents) if parents is not None else self.node.store.tips()[:8]
        if not chosen:
            chosen = sorted(self.node.store.solid_entry_points)[:1]
        return self.node.submit(self.build(chosen))
