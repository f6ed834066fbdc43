"""The in-process ledger client: the engine's own node, called without HTTP.

It answers `mobility.wallet.ledger_client.LedgerClient` as the HTTP client does, so the wallet
and the payment engine never care where the node is.
"""

from __future__ import annotations

import asyncio

from mobility.ledger.api.views import NodeViews
from mobility.ledger.node import Node
from mobility.wire.codec import Ed25519Address
from mobility.wire.ledger_api import Balance, BlockMetadataOut, ChannelOut, InclusionProofOut, NodeInfo


class InProcessClient:
    """A client calling a node in this process; database work runs in a thread."""

    def __init__(self, node: Node) -> None:
        self.views = NodeViews(node)

    async def info(self) -> NodeInfo:
        """Network parameters and latest milestone."""
        return await asyncio.to_thread(self.views.info)

    async def submit(self, block: bytes) -> bytes:
        """Submit a mined block; its block ID."""
        result = await self.views.submit_async(block)
        return bytes.fromhex(result.block_id)

    async def submit_for_pow(self, block_without_nonce: bytes) -> bytes:
        """Let the node mine and submit; the block ID."""
        result = await asyncio.to_thread(self.views.mine_and_submit, block_without_nonce)
        return bytes.fromhex(result.block_id)

    async def tips(self) -> tuple[bytes, ...]:
        """Parents for a new block."""
        return tuple(await asyncio.to_thread(self.views.tips))

    async def metadata(self, block_id: bytes) -> BlockMetadataOut | None:
        """A block's metadata, None if unknown."""
        return await asyncio.to_thread(self.views.metadata, block_id)

    async def balance(self, address: Ed25519Address) -> Balance:
        """Confirmed balance and unspent outputs."""
        return await asyncio.to_thread(self.views.balance, address)

    async def channel(self, channel_id: bytes) -> ChannelOut | None:
        """An open channel, None if none."""
        return await asyncio.to_thread(self.views.channel, channel_id)

    async def inclusion_proof(self, block_id: bytes) -> InclusionProofOut | None:
        """Proof of a confirmed block in its milestone, None until it is referenced."""
        return await asyncio.to_thread(self.views.inclusion_proof, block_id)
