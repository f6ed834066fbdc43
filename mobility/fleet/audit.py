"""Audit proofs: a bundle showing that a session's settlement is in the ledger, and its verifier.

The fleet needs to trust only the coordinator's public keys (and its threshold). Everything
else in the bundle is checked: the settlement block's bytes hash to its block ID, the TIP-4
Merkle path takes that ID to the inclusion root of a milestone, enough of the trusted keys
signed that milestone's ID (BLAKE2b-256 of its essence), and the block's claim spends a
voucher, signed by the payer, for the session's channel. Hashing and signatures go through
`pow_rs`; the block codec only parses bytes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from pydantic import BaseModel, Field

import pow_rs
from mobility.ledger.params import NetworkParams
from mobility.ledger.store import LedgerStore
from mobility.payments.models import SettlementRecord
from mobility.wire.codec import (
    Block,
    CodecError,
    MilestonePayload,
    TransactionPayload,
    VoucherPayload,
)
from mobility.wire.ledger_api import InclusionProofOut


class MilestoneProof(BaseModel):
    """A milestone as the coordinator issued it: the whole block carrying its payload."""

    index: int
    milestone_id: str
    block: str = Field(description="hex of the milestone block (essence and signatures inside)")


class SettlementBundle(BaseModel):
    """What a fleet needs to check, offline, that a session's settlement is in the ledger."""

    session_id: int
    channel_id: str = Field(description="hex: the channel the session was paid on")
    settlement_id: int
    amount: int = Field(description="cumulative micro-units the claim takes from the channel")
    voucher_nonce: int
    block_id: str
    block: str = Field(description="hex of the settlement (claim) block")
    inclusion_proof: InclusionProofOut
    milestones: list[MilestoneProof] = Field(description="the milestone that references the block")
    coordinator_public_keys: list[str]
    coordinator_threshold: int


class BundleInvalidError(ValueError):
    """The bundle does not prove what it claims; the message says which check failed."""


@dataclass(frozen=True, slots=True)
class VerifiedSettlement:
    """What a valid bundle proves."""

    session_id: int
    channel_id: bytes
    amount: int
    block_id: bytes
    milestone_index: int


def build_settlement_bundle(
    session_id: int,
    channel_id: str,
    settlement: SettlementRecord,
    ledger: LedgerStore,
    params: NetworkParams,
) -> SettlementBundle | None:
    """The bundle for a confirmed settlement; None while anything in it is missing."""
    if settlement.id is None or settlement.block is None or settlement.proof is None:
        return None
    proof = InclusionProofOut.model_validate_json(settlement.proof)
    milestone = ledger.milestone(proof.milestone_index)
    if milestone is None:
        return None
    milestone_block = ledger.block_bytes(milestone.block_id)
    if milestone_block is None:
        return None
    return SettlementBundle(
        session_id=session_id,
        channel_id=channel_id,
        settlement_id=settlement.id,
        amount=settlement.amount,
        voucher_nonce=settlement.voucher_nonce,
        block_id=settlement.block_id or pow_rs.blake2b_256(settlement.block).hex(),
        block=settlement.block.hex(),
        inclusion_proof=proof,
        milestones=[
            MilestoneProof(
                index=milestone.milestone_index,
                milestone_id=milestone.milestone_id.hex(),
                block=milestone_block.hex(),
            )
        ],
        coordinator_public_keys=sorted(key.hex() for key in params.coordinator_public_keys),
        coordinator_threshold=params.coordinator_threshold,
    )


def _hex(text: str, what: str, length: int | None = None) -> bytes:
    try:
        return pow_rs.from_hex(text, length)
    except pow_rs.PowRsError as error:
        raise BundleInvalidError(f"{what}: {error}") from error


def _parse(data: bytes, what: str) -> Block:
    try:
        return Block.from_bytes(data)
    except CodecError as error:
        raise BundleInvalidError(f"{what} is malformed: {error}") from error


def _check(condition: bool, failure: str) -> None:
    if not condition:
        raise BundleInvalidError(failure)


def verify_settlement_bundle(
    bundle: SettlementBundle,
    milestone_public_keys: Collection[bytes],
    threshold: int | None = None,
) -> VerifiedSettlement:
    """Check `bundle` against the coordinator keys the caller trusts; raise `BundleInvalidError`.

    `threshold` defaults to the bundle's, but never below one signature: the keys, not the
    bundle, are the root of trust, so a bundle cannot lower the bar to zero.
    """
    trusted = {bytes(key) for key in milestone_public_keys}
    needed = max(threshold if threshold is not None else bundle.coordinator_threshold, 1)

    # 1. The block is the one named.
    block_bytes = _hex(bundle.block, "block")
    block_id = _hex(bundle.block_id, "block_id", 32)
    _check(pow_rs.blake2b_256(block_bytes) == block_id, "the block's bytes do not hash to its block ID")
    proof = bundle.inclusion_proof
    _check(_hex(proof.block_id, "inclusion_proof.block_id", 32) == block_id, "the proof is for another block")

    # 2. The milestone is signed by enough trusted keys.
    milestone = next((m for m in bundle.milestones if m.index == proof.milestone_index), None)
    _check(milestone is not None, f"milestone {proof.milestone_index} is not in the bundle")
    assert milestone is not None
    milestone_block = _parse(_hex(milestone.block, "milestone block"), "the milestone block")
    payload = milestone_block.payload
    _check(isinstance(payload, MilestonePayload), "the milestone block carries no milestone")
    assert isinstance(payload, MilestonePayload)
    essence = payload.essence
    _check(essence.parents == milestone_block.parents, "the milestone's parents are not its block's")
    milestone_id = pow_rs.blake2b_256(essence.to_bytes())
    _check(essence.index == proof.milestone_index, "the milestone's index is not the proof's")
    _check(
        milestone_id == _hex(proof.milestone_id, "inclusion_proof.milestone_id", 32),
        "the proof names another milestone",
    )
    signers = {
        item.public_key
        for item in payload.signatures
        if item.public_key in trusted and pow_rs.ed25519_verify(item.public_key, milestone_id, item.signature)
    }
    _check(len(signers) >= needed, f"{len(signers)} valid trusted signatures, {needed} needed")

    # 3. The block is under the milestone's inclusion root.
    root = essence.inclusion_merkle_root
    _check(
        root == _hex(proof.inclusion_merkle_root, "inclusion_proof.inclusion_merkle_root", 32),
        "the proof's root is not the milestone's",
    )
    # `index` and `count` only shape the path (TIP-4 commits to neither): what is proven is
    # that this block ID is a leaf under the root the trusted keys signed.
    path = [_hex(step, "inclusion_proof.path", 32) for step in proof.path]
    try:
        included = pow_rs.merkle_verify(root, block_id, proof.index, proof.count, path)
    except pow_rs.PowRsError as error:
        raise BundleInvalidError(f"inclusion proof: {error}") from error
    _check(included, "the Merkle path does not reach the milestone's inclusion root")

    # 4. The block claims the session's channel with the payer's voucher.
    transaction = _parse(block_bytes, "the settlement block").payload
    _check(isinstance(transaction, TransactionPayload), "the settlement block carries no transaction")
    assert isinstance(transaction, TransactionPayload)
    voucher = transaction.essence.payload
    _check(isinstance(voucher, VoucherPayload), "the settlement transaction claims no voucher")
    assert isinstance(voucher, VoucherPayload)
    channel_id = _hex(bundle.channel_id, "channel_id", 32)
    _check(voucher.voucher.channel_id == channel_id, "the claim is for another channel")
    _check(voucher.voucher.amount == bundle.amount, "the claimed amount is not the bundle's")
    _check(voucher.voucher.nonce == bundle.voucher_nonce, "the claimed voucher is not the bundle's")
    _check(
        pow_rs.ed25519_verify(voucher.public_key, voucher.voucher.signing_message(), voucher.signature),
        "the voucher's signature is invalid",
    )
    return VerifiedSettlement(bundle.session_id, channel_id, bundle.amount, block_id, essence.index)
