"""What the ledger itself says a claim settled, checked by the city through the node's public
`/ledger` routes, as any holder of the coordinator's keys can check it.

For a claim block named by the operator the city fetches the block's bytes, its inclusion
proof and the milestone that references it, and checks: the bytes hash to the block ID; the
milestone carries enough valid signatures of the coordinator keys the node announces
(`/ledger/info`); the proof's Merkle path takes the block ID to that milestone's inclusion
root; the node applied the block (a referenced block may conflict: its metadata says so); the
block's transaction claims a voucher. What is proven is the voucher's channel and
its cumulative amount: money the operator has taken on the ledger from that channel.
Hashing, signatures and Merkle paths go through `pow_rs`; `mobility.wire.codec` only parses
bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

import pow_rs
from mobility.wire.codec import Block, CodecError, MilestonePayload, TransactionPayload, VoucherPayload


class ClaimUnprovenError(ValueError):
    """The ledger does not prove the claim; the message says which check failed."""


@dataclass(frozen=True, slots=True)
class ProvenClaim:
    """A claim the ledger confirmed: the channel, and the cumulative amount taken from it."""

    block_id: str
    channel_id: str
    amount: int
    milestone_index: int


@dataclass(frozen=True, slots=True)
class Coordinator:
    """The keys whose signatures make a milestone, and how many it needs."""

    public_keys: frozenset[bytes]
    threshold: int

    @classmethod
    async def announced(cls, http: httpx.AsyncClient) -> Coordinator:
        """The coordinator as the node's `/ledger/info` announces it (at least one signature)."""
        info = (await http.get("/ledger/info")).json()
        keys = frozenset(bytes.fromhex(key) for key in info["coordinator_public_keys"])
        return cls(keys, max(int(info["coordinator_threshold"]), 1))


def _require(condition: bool, failure: str) -> None:
    if not condition:
        raise ClaimUnprovenError(failure)


async def _get(http: httpx.AsyncClient, path: str) -> httpx.Response:
    response = await http.get(path)
    _require(response.status_code == 200, f"GET {path}: {response.status_code}")
    return response


def _parse(data: bytes, what: str) -> Block:
    try:
        return Block.from_bytes(data)
    except CodecError as error:
        raise ClaimUnprovenError(f"{what} is malformed: {error}") from error


async def prove_claim(http: httpx.AsyncClient, block_id: str, coordinator: Coordinator) -> ProvenClaim:
    """Check the claim block `block_id` on the ledger (see the module docstring)."""
    block_bytes = (await _get(http, f"/ledger/blocks/{block_id}")).content
    _require(pow_rs.blake2b_256(block_bytes).hex() == block_id, "the block's bytes do not hash to its ID")
    proof = (await _get(http, f"/ledger/blocks/{block_id}/inclusion-proof")).json()
    _require(proof["block_id"] == block_id, "the inclusion proof is for another block")
    index = int(proof["milestone_index"])
    milestone = (await _get(http, f"/ledger/milestones/{index}")).json()
    milestone_block = _parse(
        (await _get(http, f"/ledger/blocks/{milestone['block_id']}")).content, "milestone"
    )
    payload = milestone_block.payload
    _require(isinstance(payload, MilestonePayload), "the milestone block carries no milestone")
    assert isinstance(payload, MilestonePayload)
    essence = payload.essence
    milestone_id = pow_rs.blake2b_256(essence.to_bytes())
    _require(essence.index == index, "the milestone's index is not the proof's")
    _require(milestone_id.hex() == proof["milestone_id"], "the proof names another milestone")
    signers = {
        item.public_key
        for item in payload.signatures
        if item.public_key in coordinator.public_keys
        and pow_rs.ed25519_verify(item.public_key, milestone_id, item.signature)
    }
    _require(len(signers) >= coordinator.threshold, f"{len(signers)} coordinator signatures on the milestone")
    root = essence.inclusion_merkle_root
    _require(root.hex() == proof["inclusion_merkle_root"], "the proof's root is not the milestone's")
    path = [bytes.fromhex(step) for step in proof["path"]]
    included = pow_rs.merkle_verify(
        root, bytes.fromhex(block_id), int(proof["index"]), int(proof["count"]), path
    )
    _require(included, "the Merkle path does not reach the milestone's inclusion root")
    metadata = (await _get(http, f"/ledger/blocks/{block_id}/metadata")).json()
    _require(metadata["milestone_index"] == index, "the block's metadata names another milestone")
    _require(metadata["conflict_reason"] is None, f"the claim conflicts: {metadata['conflict_reason']}")
    transaction = _parse(block_bytes, "the claim block").payload
    _require(isinstance(transaction, TransactionPayload), "the claim block carries no transaction")
    assert isinstance(transaction, TransactionPayload)
    voucher = transaction.essence.payload
    _require(isinstance(voucher, VoucherPayload), "the claim claims no voucher")
    assert isinstance(voucher, VoucherPayload)
    return ProvenClaim(block_id, voucher.voucher.channel_id.hex(), voucher.voucher.amount, essence.index)
