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

from sqlalchemy import text
from sqlmodel import Session, SQLModel, col, select

import pow_rs
from mobility.driver_sql import driver_executemany, rows_in
from mobility.ledger.models import MilestoneRecord
from mobility.ledger.params import NetworkParams
from mobility.ledger.validation import BlockRejectedError, check_transaction_inputs
from mobility.wire.codec import Block, MilestonePayload, Output, TransactionPayload, output_from_bytes

# Through the driver (`rows_in`): a milestone over a large cone looks up thousands of IDs.
_REFERENCED_SQL = (
    "SELECT block_id FROM ledger_block WHERE block_id {in_ids} AND solid AND milestone_index IS NOT NULL"
)
_SPENT_SQL = "SELECT output_id FROM ledger_spend WHERE output_id {in_ids}"
_CONFIRMED_OUTPUTS_SQL = (
    "SELECT output_id, data FROM ledger_output WHERE output_id {in_ids} AND created_milestone IS NOT NULL"
)


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


@dataclass(frozen=True, slots=True)
class _ConeBlock:
    solid: bool
    payload_type: int | None
    data: bytes


def _load_cone(session: Session, parents: tuple[bytes, ...]) -> dict[bytes, _ConeBlock]:
    """Every stored block of the unreferenced past cone of `parents`, in one recursive query.

    Walking block by block cost two ORM round trips and a parse per block (a 10,000-block
    cone took seconds on SQLite, far more on PostgreSQL). The recursion stops at blocks a
    milestone already referenced and at parents the node does not have: `_white_flag`
    tells those apart with one more query over the boundary.
    """
    block = SQLModel.metadata.tables["ledger_block"]
    approval = SQLModel.metadata.tables["ledger_approval"]
    seed = select(block.c.block_id).where(
        col(block.c.block_id).in_(parents), block.c.milestone_index.is_(None)
    )
    cone = seed.cte("cone", recursive=True)
    step = (
        select(approval.c.parent_id)
        .join(cone, approval.c.child_id == cone.c.block_id)
        .join(block, block.c.block_id == approval.c.parent_id)
        .where(block.c.milestone_index.is_(None))
    )
    cone = cone.union(step)
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # The recursion runs once per level of the cone. On tables filled faster than
        # autovacuum re-analyzes them (a burst, a fresh node), PostgreSQL plans each level as a
        # hash join over a full scan of the approvals: 1.2 s instead of 20 ms for 3,000 blocks.
        # Index lookups per level are right at any table size; for this transaction only.
        session.execute(text("SET LOCAL enable_hashjoin = off"))
        session.execute(text("SET LOCAL enable_mergejoin = off"))
    query = select(block.c.block_id, block.c.solid, block.c.payload_type, block.c.data).join(
        cone, cone.c.block_id == block.c.block_id
    )
    return {row[0]: _ConeBlock(row[1], row[2], row[3]) for row in session.execute(query)}


def _parents_of(data: bytes) -> tuple[bytes, ...]:
    """The parents field of a stored block (validated on arrival, so read without a full parse)."""
    return tuple(data[2 + 32 * index : 34 + 32 * index] for index in range(data[1]))


def _check_boundary(session: Session, boundary: set[bytes]) -> None:
    """Parents outside the loaded cone must be blocks a milestone already referenced."""
    wanted = sorted(boundary)
    found = {row[0] for row in rows_in(session, _REFERENCED_SQL, wanted)}
    for block_id in wanted:
        if block_id not in found:
            raise MilestoneError(f"past cone is not solid at {block_id.hex()}")


def _white_flag(
    session: Session, parents: tuple[bytes, ...], entry_points: frozenset[bytes]
) -> tuple[list[bytes], dict[bytes, _ConeBlock]]:
    cone = _load_cone(session, parents)
    order: list[bytes] = []
    seen: set[bytes] = set()
    boundary: set[bytes] = set()
    stack: list[tuple[bytes, bool]] = [(parent, False) for parent in reversed(parents)]
    while stack:
        block_id, expanded = stack.pop()
        if expanded:
            order.append(block_id)
            continue
        if block_id in seen or block_id in entry_points:
            continue
        seen.add(block_id)
        record = cone.get(block_id)
        if record is None:
            boundary.add(block_id)  # referenced by an earlier milestone, or missing
            continue
        if not record.solid:
            raise MilestoneError(f"past cone is not solid at {block_id.hex()}")
        stack.append((block_id, True))
        stack.extend((parent, False) for parent in reversed(_parents_of(record.data)))
    _check_boundary(session, boundary)
    return order, cone


def walk(
    session: Session,
    parents: tuple[bytes, ...],
    entry_points: frozenset[bytes],
    params: NetworkParams,
    now: int,
) -> WhiteFlagResult:
    """Compute, without writing, what applying a milestone with `parents`, timestamp `now`, would do."""
    result = WhiteFlagResult()
    order, cone = _white_flag(session, parents, entry_points)
    transactions: dict[bytes, TransactionPayload] = {}
    for block_id in order:
        if cone[block_id].payload_type == TransactionPayload.TYPE:
            payload = Block.from_bytes(cone[block_id].data).payload
            assert isinstance(payload, TransactionPayload)
            transactions[block_id] = payload
    ledger = _ConfirmedLedger.load(
        session, {item.output_id for payload in transactions.values() for item in payload.essence.inputs}
    )
    fresh: dict[bytes, Output] = {}
    for block_id in order:
        result.referenced.append(block_id)
        transaction = transactions.get(block_id)
        if transaction is None:
            continue
        reason = _conflict(ledger, transaction, result, fresh, params, now)
        if reason is not None:
            result.conflicts[block_id] = reason
            continue
        transaction_id = transaction.transaction_id
        for item in transaction.essence.inputs:
            result.spends[item.output_id] = transaction_id
        for output_id, output in zip(transaction.output_ids(), transaction.essence.outputs, strict=True):
            fresh[output_id] = output
            result.created.append(output_id)
        result.applied.append(block_id)
    return result


@dataclass(frozen=True, slots=True)
class _ConfirmedLedger:
    """The confirmed state of the outputs a cone's transactions spend, read in bulk up front."""

    spent: frozenset[bytes]
    outputs: dict[bytes, Output]

    @classmethod
    def load(cls, session: Session, output_ids: set[bytes]) -> _ConfirmedLedger:
        wanted = sorted(output_ids)
        spent = frozenset(row[0] for row in rows_in(session, _SPENT_SQL, wanted))
        outputs = {
            output_id: output_from_bytes(data)
            for output_id, data in rows_in(session, _CONFIRMED_OUTPUTS_SQL, wanted)
        }
        return cls(spent, outputs)


def _conflict(
    ledger: _ConfirmedLedger,
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
        if key in result.spends or key in ledger.spent:
            return ConflictReason.INPUT_SPENT.value
        output = fresh.get(key) or ledger.outputs.get(key)
        if output is None:
            return ConflictReason.INPUT_NOT_FOUND.value
        found[key] = output
    try:
        check_transaction_inputs(payload, found.get, params, now)
    except BlockRejectedError as error:
        return f"{ConflictReason.INVALID.value}:{error.reason.value}"
    return None


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
    """The confirmation in three bulk statements (one ORM UPDATE per block used to be flushed),
    sent through the driver: SQLAlchemy's per-value processing was most of their cost.
    """
    if result.referenced:
        driver_executemany(
            session,
            "UPDATE ledger_block SET milestone_index = ?, milestone_position = ?, conflict_reason = ?"
            " WHERE block_id = ?",
            [
                (index, position, result.conflicts.get(block_id), block_id)
                for position, block_id in enumerate(result.referenced)
            ],
        )
    if result.created:
        driver_executemany(
            session,
            "UPDATE ledger_output SET created_milestone = ? WHERE output_id = ?",
            [(index, output_id) for output_id in result.created],
        )
    if result.spends:
        driver_executemany(
            session,
            "INSERT INTO ledger_spend (output_id, transaction_id, milestone_index) VALUES (?, ?, ?)",
            [(output_id, transaction_id, index) for output_id, transaction_id in result.spends.items()],
        )
