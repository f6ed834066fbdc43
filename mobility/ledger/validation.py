"""Validation of a block on arrival: everything a node checks before it stores a block.

Two stages, because they need different things:
- `check_block` needs only the bytes and the network parameters: syntax, protocol version,
  PoW score, transaction syntax and signatures, milestone parents and coordinator signatures.
- `check_transaction_inputs` needs the outputs the transaction spends, through an
  `OutputLookup`, so it can be tested with a dict and backed by storage later: each input
  exists, is unlocked by a key that owns it, and inputs sum to outputs (there are no fees).

`validate_block` runs both. Every failure is a `BlockRejectedError` carrying a `RejectReason`.
Not checked here (later slices): payment-channel transition rules (which of payer and payee
may sign what, vouchers, expiry), double spends against confirmed state (white-flag), and a
milestone's Merkle roots, which need its past cone.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

import pow_rs
from mobility.ledger.codec import (
    Block,
    ChannelOutput,
    CodecError,
    Ed25519Address,
    MilestonePayload,
    Output,
    ReferenceUnlock,
    SignatureUnlock,
    TransactionPayload,
)
from mobility.ledger.params import NetworkParams
from mobility.ledger.signatures import verify_all


class RejectReason(StrEnum):
    """Why a block was refused; stable strings, safe to store and to show a client."""

    MALFORMED = "malformed"
    PROTOCOL_VERSION = "protocol_version"
    INSUFFICIENT_POW = "insufficient_pow"
    WRONG_NETWORK = "wrong_network"
    UNLOCK_COUNT_MISMATCH = "unlock_count_mismatch"
    DUPLICATE_INPUT = "duplicate_input"
    ZERO_AMOUNT = "zero_amount"
    CHANNEL_OVERCLAIMED = "channel_overclaimed"
    DUPLICATE_SIGNATURE_UNLOCK = "duplicate_signature_unlock"
    INVALID_REFERENCE_UNLOCK = "invalid_reference_unlock"
    INVALID_SIGNATURE = "invalid_signature"
    INPUT_NOT_FOUND = "input_not_found"
    ADDRESS_MISMATCH = "address_mismatch"
    AMOUNT_MISMATCH = "amount_mismatch"
    SUPPLY_EXCEEDED = "supply_exceeded"
    MILESTONE_PARENTS_MISMATCH = "milestone_parents_mismatch"
    UNKNOWN_COORDINATOR_KEY = "unknown_coordinator_key"
    BELOW_SIGNATURE_THRESHOLD = "below_signature_threshold"


class BlockRejectedError(ValueError):
    """A block the node refuses, with the reason and a human-readable detail."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class OutputLookup(Protocol):
    """Finds an unspent output by its 34-byte output ID; None if unknown or spent."""

    def __call__(self, output_id: bytes, /) -> Output | None: ...


def check_block(data: bytes, params: NetworkParams) -> Block:
    """Parse `data` and run every check that needs no ledger state."""
    try:
        block = Block.from_bytes(data)
    except CodecError as error:
        raise BlockRejectedError(RejectReason.MALFORMED, str(error)) from error
    if block.protocol_version != params.protocol_version:
        raise BlockRejectedError(
            RejectReason.PROTOCOL_VERSION, f"{block.protocol_version} != {params.protocol_version}"
        )
    score = pow_rs.pow_score(data)
    if score < params.min_pow_score:
        raise BlockRejectedError(RejectReason.INSUFFICIENT_POW, f"score {score:g} < {params.min_pow_score:g}")
    if isinstance(block.payload, TransactionPayload):
        check_transaction_syntax(block.payload, params)
    elif isinstance(block.payload, MilestonePayload):
        check_milestone(block.payload, block, params)
    return block


def check_transaction_syntax(transaction: TransactionPayload, params: NetworkParams) -> None:
    """Network, unique inputs, positive amounts, unlock structure and signatures."""
    essence = transaction.essence
    if essence.network_id != params.network_id:
        raise BlockRejectedError(RejectReason.WRONG_NETWORK, f"network id {essence.network_id}")
    if len(transaction.unlocks) != len(essence.inputs):
        raise BlockRejectedError(
            RejectReason.UNLOCK_COUNT_MISMATCH,
            f"{len(transaction.unlocks)} unlocks for {len(essence.inputs)} inputs",
        )
    seen_inputs: set[bytes] = set()
    for index, utxo in enumerate(essence.inputs):
        if utxo.output_id in seen_inputs:
            raise BlockRejectedError(RejectReason.DUPLICATE_INPUT, f"input {index} spends an output twice")
        seen_inputs.add(utxo.output_id)
    for index, output in enumerate(essence.outputs):
        _check_output_amount(output, index)
    total = sum(output.value for output in essence.outputs)
    if total > params.token_supply:
        raise BlockRejectedError(RejectReason.SUPPLY_EXCEEDED, f"outputs {total} > {params.token_supply}")
    signature_unlocks_by_input(transaction.unlocks)  # structure first: references, repeated keys
    direct = [
        (i, unlock) for i, unlock in enumerate(transaction.unlocks) if isinstance(unlock, SignatureUnlock)
    ]
    message = essence.hash()
    verdicts = verify_all([(unlock.public_key, message, unlock.signature) for _, unlock in direct])
    for (index, _), valid in zip(direct, verdicts, strict=True):
        if not valid:
            raise BlockRejectedError(RejectReason.INVALID_SIGNATURE, f"signature unlock {index}")


def _check_output_amount(output: Output, index: int) -> None:
    if isinstance(output, ChannelOutput) and output.claimed > output.deposit:
        raise BlockRejectedError(
            RejectReason.CHANNEL_OVERCLAIMED, f"output {index}: claimed {output.claimed} > {output.deposit}"
        )
    if output.value <= 0:
        raise BlockRejectedError(RejectReason.ZERO_AMOUNT, f"output {index} holds nothing")


def signature_unlocks_by_input(unlocks: Sequence[SignatureUnlock | ReferenceUnlock]) -> list[SignatureUnlock]:
    """The signature unlock behind each input, resolving reference unlocks.

    A reference must point to an earlier signature unlock, and one key signs once per
    transaction (further inputs of the same key use references), as in Stardust.
    """
    resolved: list[SignatureUnlock] = []
    keys: set[bytes] = set()
    for index, unlock in enumerate(unlocks):
        if isinstance(unlock, SignatureUnlock):
            if unlock.public_key in keys:
                raise BlockRejectedError(
                    RejectReason.DUPLICATE_SIGNATURE_UNLOCK, f"unlock {index} repeats a key"
                )
            keys.add(unlock.public_key)
            resolved.append(unlock)
            continue
        target = unlocks[unlock.index] if unlock.index < index else None
        if not isinstance(target, SignatureUnlock):
            raise BlockRejectedError(
                RejectReason.INVALID_REFERENCE_UNLOCK,
                f"unlock {index} references {unlock.index}, not an earlier signature unlock",
            )
        resolved.append(target)
    return resolved


def check_transaction_inputs(transaction: TransactionPayload, lookup: OutputLookup) -> list[Output]:
    """Inputs exist, each is owned by its signer, and the amounts balance; returns the inputs."""
    essence = transaction.essence
    signers = signature_unlocks_by_input(transaction.unlocks)
    spent: list[Output] = []
    for index, (utxo, signer) in enumerate(zip(essence.inputs, signers, strict=True)):
        output = lookup(utxo.output_id)
        if output is None:
            raise BlockRejectedError(RejectReason.INPUT_NOT_FOUND, f"input {index}: {utxo.output_id.hex()}")
        if Ed25519Address.from_public_key(signer.public_key) not in output.owners:
            raise BlockRejectedError(
                RejectReason.ADDRESS_MISMATCH, f"input {index} is not owned by its signer"
            )
        spent.append(output)
    total_in = sum(output.value for output in spent)
    total_out = sum(output.value for output in essence.outputs)
    if total_in != total_out:
        raise BlockRejectedError(RejectReason.AMOUNT_MISMATCH, f"inputs {total_in} != outputs {total_out}")
    return spent


def check_milestone(milestone: MilestonePayload, block: Block, params: NetworkParams) -> None:
    """Same parents as its block, and enough valid signatures by known coordinator keys."""
    essence = milestone.essence
    if essence.protocol_version != params.protocol_version:
        raise BlockRejectedError(
            RejectReason.PROTOCOL_VERSION, f"milestone version {essence.protocol_version}"
        )
    if essence.parents != block.parents:
        raise BlockRejectedError(
            RejectReason.MILESTONE_PARENTS_MISMATCH, "milestone parents differ from block's"
        )
    for signature in milestone.signatures:
        if signature.public_key not in params.coordinator_public_keys:
            raise BlockRejectedError(RejectReason.UNKNOWN_COORDINATOR_KEY, signature.public_key.hex())
    if len(milestone.signatures) < params.coordinator_threshold:
        raise BlockRejectedError(
            RejectReason.BELOW_SIGNATURE_THRESHOLD,
            f"{len(milestone.signatures)} signatures < threshold {params.coordinator_threshold}",
        )
    message = milestone.milestone_id
    verdicts = verify_all([(item.public_key, message, item.signature) for item in milestone.signatures])
    for signature, valid in zip(milestone.signatures, verdicts, strict=True):
        if not valid:
            raise BlockRejectedError(
                RejectReason.INVALID_SIGNATURE, f"coordinator key {signature.public_key.hex()}"
            )


def validate_block(data: bytes, params: NetworkParams, lookup: OutputLookup) -> Block:
    """Every check on arrival: `check_block`, then the inputs of a transaction payload."""
    block = check_block(data, params)
    if isinstance(block.payload, TransactionPayload):
        check_transaction_inputs(block.payload, lookup)
    return block
