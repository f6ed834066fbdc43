"""The node's answers as API objects, shared by the HTTP routes and the in-process client.

Synchronous (they read the database); async callers run them in a thread.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pow_rs
from mobility.ledger.models import MilestoneRecord
from mobility.ledger.node import Node
from mobility.ledger.tipselect import select_parents
from mobility.wire.codec import Block, Ed25519Address
from mobility.wire.ledger_api import (
    Balance,
    BlockMetadataOut,
    ChannelOut,
    InclusionProofOut,
    MilestoneInfo,
    NodeInfo,
    OutputOut,
    Submitted,
)


def milestone_view(record: MilestoneRecord) -> MilestoneInfo:
    """An applied milestone."""
    return MilestoneInfo(
        index=record.milestone_index,
        milestone_id=record.milestone_id.hex(),
        block_id=record.block_id.hex(),
        timestamp=record.timestamp,
        inclusion_merkle_root=record.inclusion_merkle_root.hex(),
        applied_merkle_root=record.applied_merkle_root.hex(),
        referenced_count=record.referenced_count,
        applied_count=record.applied_count,
    )


class NodeViews:
    """Read and submit operations of one node, answering API objects (None = not found)."""

    def __init__(self, node: Node, rng: random.Random | None = None) -> None:
        self.node = node
        self.store = node.store
        self.params = node.params
        self.rng = rng or random.Random()

    def info(self) -> NodeInfo:
        """Network parameters and the latest applied milestone."""
        params, latest = self.params, self.store.latest_milestone()
        return NodeInfo(
            network_name=params.network_name,
            network_id=params.network_id,
            protocol_version=params.protocol_version,
            min_pow_score=params.min_pow_score,
            bech32_hrp=params.bech32_hrp,
            token_supply=params.token_supply,
            coordinator_public_keys=sorted(key.hex() for key in params.coordinator_public_keys),
            coordinator_threshold=params.coordinator_threshold,
            latest_milestone=milestone_view(latest) if latest is not None else None,
        )

    def submit(self, data: bytes) -> Submitted:
        """Validate and store a block; raises `BlockRejectedError`."""
        result = self.node.submit(data)
        return Submitted(block_id=result.block_id.hex(), solid=result.solid, created=result.created)

    async def submit_async(self, data: bytes) -> Submitted:
        """`submit` through the node's group commit; raises `BlockRejectedError`."""
        result = await self.node.submit_async(data)
        return Submitted(block_id=result.block_id.hex(), solid=result.solid, created=result.created)

    def mine_and_submit(self, block_without_nonce: bytes, threads: int | None = None) -> Submitted:
        """Remote PoW: parse (raises `CodecError`), mine to the network minimum on `threads`
        (None: every core), submit."""
        block = Block.from_bytes(block_without_nonce + bytes(8))
        nonce = pow_rs.mine(
            block.bytes_without_nonce(), self.params.min_pow_score, threads=threads, timeout=60.0
        )
        return self.submit(replace(block, nonce=nonce).to_bytes())

    def metadata(self, block_id: bytes) -> BlockMetadataOut | None:
        """Solid state, referencing milestone and conflict reason."""
        meta = self.store.metadata(block_id)
        if meta is None:
            return None
        return BlockMetadataOut(
            block_id=meta.block_id.hex(),
            parents=[parent.hex() for parent in meta.parents],
            received_at=meta.received_at.isoformat(),
            solid=meta.solid,
            milestone_index=meta.milestone_index,
            conflict_reason=meta.conflict_reason,
        )

    def tips(self) -> list[bytes]:
        """Parents for a new block (TIP-3)."""
        return list(select_parents(self.store, self.rng))

    def milestone(self, index: int) -> MilestoneInfo | None:
        """An applied milestone by index."""
        record = self.store.milestone(index)
        return milestone_view(record) if record is not None else None

    def inclusion_proof(self, block_id: bytes) -> InclusionProofOut | None:
        """TIP-4 audit path of a referenced block."""
        proof = self.store.inclusion_proof(block_id)
        if proof is None:
            return None
        return InclusionProofOut(
            block_id=proof.block_id.hex(),
            milestone_index=proof.milestone_index,
            milestone_id=proof.milestone_id.hex(),
            inclusion_merkle_root=proof.inclusion_merkle_root.hex(),
            index=proof.index,
            count=proof.count,
            path=[step.hex() for step in proof.path],
        )

    def balance(self, address: Ed25519Address, limit: int | None = None, offset: int = 0) -> Balance:
        """Confirmed balance and unspent outputs of an address (all of them, or one page)."""
        raw = address.to_bytes()
        unspent = self.store.outputs_of(raw)
        page = unspent[offset : None if limit is None else offset + limit]
        outputs = [
            OutputOut(
                output_id=output_id.hex(),
                output_type=output.TYPE,
                amount=output.value,
                output=output.to_bytes().hex(),
            )
            for output_id, output in page
        ]
        return Balance(
            address=address.bech32(self.params.bech32_hrp),
            balance=self.store.balance(raw),
            outputs=outputs,
            outputs_total=len(unspent),
            limit=len(unspent) if limit is None else limit,
            offset=offset,
        )

    def channel(self, channel_id: bytes) -> ChannelOut | None:
        """An open channel as confirmed."""
        found = self.store.channel(channel_id)
        if found is None:
            return None
        output_id, output = found
        hrp = self.params.bech32_hrp
        return ChannelOut(
            channel_id=channel_id.hex(),
            output_id=output_id.hex(),
            payer=output.payer.bech32(hrp),
            payee=output.payee.bech32(hrp),
            deposit=output.deposit,
            claimed=output.claimed,
            expiry=output.expiry,
            settle_deadline=output.settle_deadline,
            voucher_nonce=output.voucher_nonce,
            output=output.to_bytes().hex(),
        )
