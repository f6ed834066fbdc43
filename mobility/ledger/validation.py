"""Validation of a block on arrival: everything a node checks before it stores a block.

Two stages, because they need different things:
- `check_block` needs only the bytes and the network parameters: syntax, protocol version,
  PoW score, transaction syntax and signatures (unlocks and a claim's voucher, one batch),
  milestone parents and coordinator signatures.
- `check_transaction_inputs` needs the outputs the transaction spends, through an
  `OutputLookup` (a dict in tests, storage in the node): each input exists, is unlocked by a
  key that owns it, channel moves are allowed (`channels.py`), and inputs sum to outputs
  (there are no fees). Confirmation runs it again with the milestone's time.

`validate_block` runs both. Every failure is a `BlockRejectedError` carrying a `RejectReason`.
Double spends and a milestone's Merkle roots are the confirmation's (`confirmation.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pow_rs
from mobility.ledger.channels import check_channels
from mobility.ledger.params import NetworkParams
from mobility.ledger.signatures import verify_all
from mobility.wire.codec import (
    Block,
    ChannelOutput,
    CodecError,
    Ed25519Address,
    MilestonePayload,
    Output,
    ReferenceUnlock,
    SignatureUnlock,
    TransactionPayload,
    VoucherPayload,
)
from mobility.wire.rejections import BlockRejectedError, RejectReason

__all__ = [
    "BlockRejectedError",
    "OutputLookup",
    "RejectReason",
    "check_block",
    "check_milestone",
    "check_transaction_inputs",
    "check_transaction_syntax",
    "validate_block",
]


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
    items = [(unlock.public_key, message, unlock.signature) for _, unlock in direct]
    labels = [f"signature unlock {index}" for index, _ in direct]
    if isinstance(essence.payload, VoucherPayload):
        voucher = essence.payload
        items.append((voucher.public_key, voucher.voucher.signing_message(), voucher.signature))
        labels.append("voucher")
    for label, valid in zip(labels, verify_all(items), strict=True):
        if not valid:
            raise BlockRejectedError(RejectReason.INVALID_SIGNATURE, label)


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


def check_transaction_inputs(
    transaction: TransactionPayload,
    lookup: OutputLookup,
    params: NetworkParams,
    now: int | None = None,
) -> list[Output]:
    """Inputs exist, each is owned by its signer, channel rules hold, amounts balance.

    `now` (Unix seconds) is the confirming milestone's timestamp; on arrival it is None and
    the time-dependent channel rules (expiry, settle window) wait for confirmation.
    Returns the spent outputs.
    """
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
    check_channels(transaction, spent, signers, params, now)
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
        check_transaction_inputs(block.payload, lookup, params)
    return block
