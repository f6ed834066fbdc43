"""Milestone confirmation: white-flag ordering (TIP-2) and its effect on the UTXO state.

A milestone references the past cone of its parents that no earlier milestone referenced.
That cone is walked depth-first, post-order, parents in their (sorted) order, so every
node computes the same sequence. Transactions are applied in that sequence against the
confirmed ledger: an input must exist in it (created by an earlier milestone or earlier in
this walk) and be unspent, the signers must own the inputs and the amounts must balance.
The first transaction to spend an output wins; a later one is not applied and its block keeps
a conflict reason, but stays in the tangle.

The milestone commits to the walk with two TIP-4 Merkle roots (`pow_rs.merkle_root`):
`inclusion_merkle_root` over every referenced block ID in white-flag order, and
`applied_merkle_root` over the IDs of the blocks whose transactions were applied (as in
Stardust). A node computes both itself and refuses a milestone that disagrees.

Channel rules run here with the milestone's timestamp as the time, so expiry and settle
windows are judged by the coordinator's clock, identically on every node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import Session, col, select

import pow_rs
from mobility.ledger.codec import Block, MilestonePayload, Output, TransactionPayload, output_from_bytes
from mobility.ledger.models import BlockRecord, MilestoneRecord, OutputRecord, SpendRecord
from mobility.ledger.params import NetworkParams
from mobility.ledger.validation import BlockRejectedError, check_transaction_inputs


class ConflictReason(StrEnum):
    """Why a referenced transaction was not applied."""

    INPUT_NOT_FOUND = "input_not_found"
    INPUT_SPENT = "input_spent"
    INVALID = "invalid_transaction"


class MilestoneError(ValueError):
    """A milestone the node cannot apply: out of sequence, unsolid, or roots that disagree."""


@dataclass
class WhiteFlagResult:
    """The outcome of walking a milestone's cone, before anything is written."""

    referenced: list[bytes] = field(default_factory=list)
    applied: list[bytes] = field(default_factory=list)
    conflicts: dict[bytes, str] = field(default_factory=dict)
    spends: dict[bytes, bytes] = field(default_factory=dict)
    created: list[bytes] = field(default_factory=list)

    @property
    def inclusion_merkle_root(self) -> bytes:
        """TIP-4 root over every referenced block, in white-flag order."""
        return pow_rs.merkle_root(self.referenced)

    @property
    def applied_merkle_root(self) -> bytes:
        """TIP-4 root over the blocks whose transactions changed the ledger."""
        return pow_rs.merkle_root(self.applied)


def white_flag_order(
    session: Session, parents: tuple[bytes, ...], entry_points: frozenset[bytes]
) -> list[bytes]:
    """Block IDs of the unreferenced past cone of `parents`, post-order, parents left to right."""
    order: list[bytes] = []
    seen: set[bytes] = set()
    stack: list[tuple[bytes, bool]] = [(parent, False) for parent in reversed(parents)]
    while stack:
        block_id, expanded = stack.pop()
        if expanded:
            order.append(block_id)
            continue
        if block_id in seen or block_id in entry_points:
            continue
        seen.add(block_id)
        record = session.get(BlockRecord, block_id)
        if record is None or not record.solid:
            raise MilestoneError(f"past cone is not solid at {block_id.hex()}")
        if record.milestone_index is not None:
            continue
        stack.append((block_id, True))
        block_parents = Block.from_bytes(record.data).parents
        stack.extend((parent, False) for parent in reversed(block_parents))
    return order


def walk(
    session: Session,
    parents: tuple[bytes, ...],
    entry_points: frozenset[bytes],
    params: NetworkParams,
    now: int,
) -> WhiteFlagResult:
    """Compute, without writing, what applying a milestone with `parents`, timestamp `now`, would do."""
    result = WhiteFlagResult()
    fresh: dict[bytes, Output] = {}
    for block_id in white_flag_order(session, parents, entry_points):
        result.referenced.append(block_id)
        record = session.get(BlockRecord, block_id)
        assert record is not None
        if record.payload_type != TransactionPayload.TYPE:
            continue
        payload = Block.from_bytes(record.data).payload
        assert isinstance(payload, TransactionPayload)
        reason = _conflict(session, payload, result, fresh, params, now)
        if reason is not None:
            result.conflicts[block_id] = reason
            continue
        transaction_id = payload.transaction_id
        for item in payload.essence.inputs:
            result.spends[item.output_id] = transaction_id
        for output_id, output in zip(payload.output_ids(), payload.essence.outputs, strict=True):
            fresh[output_id] = output
            result.created.append(output_id)
        result.applied.append(block_id)
    return result


def _conflict(
    session: Session,
    payload: TransactionPayload,
    result: WhiteFlagResult,
    fresh: dict[bytes, Output],
    params: NetworkParams,
    now: int,
) -> str | None:
    """Why `payload` cannot be applied on top of the confirmed state plus this walk, if it cannot."""
    found: dict[bytes, Output] = {}
    for item in payload.essence.inputs:
        key = item.output_id
        if key in result.spends or session.get(SpendRecord, key) is not None:
            return ConflictReason.INPUT_SPENT.value
        output = fresh.get(key) or _confirmed_output(session, key)
        if output is None:
            return ConflictReason.INPUT_NOT_FOUND.value
        found[key] = output
    try:
        check_transaction_inputs(payload, found.get, params, now)
    except BlockRejectedError as error:
        return f"{ConflictReason.INVALID.value}:{error.reason.value}"
    return None


def _confirmed_output(session: Session, output_id: bytes) -> Output | None:
    record = session.get(OutputRecord, output_id)
    if record is None or record.created_milestone is None:
        return None
    return output_from_bytes(record.data)


def apply_milestone(
    session: Session, milestone_block: Block, entry_points: frozenset[bytes], params: NetworkParams
) -> MilestoneRecord:
    """Check and apply the milestone carried by `milestone_block`, in the caller's transaction.

    Raises `MilestoneError` (and writes nothing) if it is not the next milestone, its cone is
    not solid, or its Merkle roots differ from the node's own walk.
    """
    payload = milestone_block.payload
    if not isinstance(payload, MilestonePayload):
        raise MilestoneError("block carries no milestone")
    essence = payload.essence
    latest = session.exec(
        select(MilestoneRecord).order_by(col(MilestoneRecord.milestone_index).desc())
    ).first()
    expected_index = 1 if latest is None else latest.milestone_index + 1
    expected_previous = bytes(32) if latest is None else latest.milestone_id
    if essence.index != expected_index:
        raise MilestoneError(f"milestone {essence.index} is not the next one ({expected_index})")
    if essence.previous_milestone_id != expected_previous:
        raise MilestoneError(f"milestone {essence.index} does not follow milestone {expected_index - 1}")
    # The cone is that of the milestone's parents (equal to its block's, checked on arrival);
    # the milestone block itself is referenced by a later milestone, like any other block.
    check = walk(session, essence.parents, entry_points, params, essence.timestamp)
    if check.inclusion_merkle_root != essence.inclusion_merkle_root:
        raise MilestoneError(f"milestone {essence.index}: inclusion Merkle root differs")
    if check.applied_merkle_root != essence.applied_merkle_root:
        raise MilestoneError(f"milestone {essence.index}: applied Merkle root differs")
    _write(session, check, essence.index)
    record = MilestoneRecord(
        milestone_index=essence.index,
        milestone_id=payload.milestone_id,
        block_id=milestone_block.block_id,
        timestamp=essence.timestamp,
        inclusion_merkle_root=essence.inclusion_merkle_root,
        applied_merkle_root=essence.applied_merkle_root,
        referenced_count=len(check.referenced),
        applied_count=len(check.applied),
    )
    session.add(record)
    session.flush()
    return record


def latest_milestone(session: Session) -> MilestoneRecord | None:
    """The last applied milestone, or None before the first."""
    query = select(MilestoneRecord).order_by(col(MilestoneRecord.milestone_index).desc())
    return session.exec(query).first()


def _write(session: Session, result: WhiteFlagResult, index: int) -> None:
    for position, block_id in enumerate(result.referenced):
        record = session.get(BlockRecord, block_id)
        assert record is not None
        record.milestone_index = index
        record.milestone_position = position
        record.conflict_reason = result.conflicts.get(block_id)
        session.add(record)
    for output_id in result.created:
        output = session.get(OutputRecord, output_id)
        assert output is not None
        output.created_milestone = index
        session.add(output)
    session.flush()
    for output_id, transaction_id in result.spends.items():
        session.add(SpendRecord(output_id=output_id, transaction_id=transaction_id, milestone_index=index))
    session.flush()
