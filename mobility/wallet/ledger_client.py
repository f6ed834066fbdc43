"""What a wallet needs from a ledger node (`LedgerClient`), and that over HTTP (`HttpClient`).

The node's own process answers the same protocol without HTTP
(`mobility.ledger.client.InProcessClient`). Both answer the `/ledger` API's models; a rejected
block raises `BlockRejectedError` with the node's reason either way.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from mobility.wire.codec import Ed25519Address
from mobility.wire.ledger_api import (
    Balance,
    BlockMetadataOut,
    ChannelOut,
    InclusionProofOut,
    NodeInfo,
    OutputOut,
    Rejection,
)
from mobility.wire.rejections import BlockRejectedError, RejectReason


class LedgerClient(Protocol):
    """What the wallet and the engine need from a node."""

    async def info(self) -> NodeInfo:
        """Network parameters and latest milestone."""
        ...

    async def submit(self, block: bytes) -> bytes:
        """Submit a mined block; its block ID."""
        ...

    async def submit_for_pow(self, block_without_nonce: bytes) -> bytes:
        """Let the node mine and submit; the block ID."""
        ...

    async def tips(self) -> tuple[bytes, ...]:
        """Parents for a new block."""
        ...

    async def metadata(self, block_id: bytes) -> BlockMetadataOut | None:
        """A block's metadata, None if unknown."""
        ...

    async def balance(self, address: Ed25519Address) -> Balance:
        """Confirmed balance and unspent outputs."""
        ...

    async def channel(self, channel_id: bytes) -> ChannelOut | None:
        """An open channel, None if none."""
        ...

    async def inclusion_proof(self, block_id: bytes) -> InclusionProofOut | None:
        """Proof of a confirmed block in its milestone, None until it is referenced."""
        ...


class HttpClient:
    """A client for a node's `/ledger` API over HTTP."""

    def __init__(self, http: httpx.AsyncClient, hrp: str, page_size: int = 1000) -> None:
        self.http = http
        self.hrp = hrp
        self.page_size = page_size  # how many items to ask a paginated route for at a time

    async def info(self) -> NodeInfo:
        """Network parameters and latest milestone."""
        response = await self.http.get("/ledger/info")
        response.raise_for_status()
        return NodeInfo.model_validate_json(response.content)

    async def _post_block(self, path: str, data: bytes) -> bytes:
        response = await self.http.post(
            path, content=data, headers={"content-type": "application/octet-stream"}
        )
        if response.status_code == 400 and "reason" in response.text:
            rejection = Rejection.model_validate_json(response.content)
            raise BlockRejectedError(RejectReason(rejection.reason), rejection.detail)
        response.raise_for_status()
        return bytes.fromhex(response.json()["block_id"])

    async def submit(self, block: bytes) -> bytes:
        """Submit a mined block; its block ID."""
        return await self._post_block("/ledger/blocks", block)

    async def submit_for_pow(self, block_without_nonce: bytes) -> bytes:
        """Let the node mine and submit; the block ID."""
        return await self._post_block("/ledger/blocks/pow", block_without_nonce)

    async def tips(self) -> tuple[bytes, ...]:
        """Parents for a new block."""
        response = await self.http.get("/ledger/tips")
        response.raise_for_status()
        return tuple(bytes.fromhex(tip) for tip in response.json()["block_ids"])

    async def metadata(self, block_id: bytes) -> BlockMetadataOut | None:
        """A block's metadata, None if unknown."""
        response = await self.http.get(f"/ledger/blocks/{block_id.hex()}/metadata")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return BlockMetadataOut.model_validate_json(response.content)

    async def balance(self, address: Ed25519Address) -> Balance:
        """Confirmed balance and every unspent output (the node pages them)."""
        url = f"/ledger/addresses/{address.bech32(self.hrp)}/balance"
        first: Balance | None = None
        outputs: list[OutputOut] = []
        while first is None or len(outputs) < first.outputs_total:
            response = await self.http.get(url, params={"offset": len(outputs), "limit": self.page_size})
            response.raise_for_status()
            page = Balance.model_validate_json(response.content)
            first = first or page
            if not page.outputs:
                break  # spent meanwhile: the list shrank under us
            outputs.extend(page.outputs)
        return first.model_copy(update={"outputs": outputs, "limit": len(outputs), "offset": 0})

    async def channel(self, channel_id: bytes) -> ChannelOut | None:
        """An open channel, None if none."""
        response = await self.http.get(f"/ledger/channels/{channel_id.hex()}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return ChannelOut.model_validate_json(response.content)

    async def inclusion_proof(self, block_id: bytes) -> InclusionProofOut | None:
        """Proof of a confirmed block in its milestone, None until it is referenced."""
        response = await self.http.get(f"/ledger/blocks/{block_id.hex()}/inclusion-proof")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return InclusionProofOut.model_validate_json(response.content)
