"""Held blocks are bounded: by count, and by how long they may wait for their parents.

A block whose parents are not stored is kept, unsolid, until they arrive (`solidifier`). One
whose parents never come (made-up parents: junk, or an attack) was kept forever, with its
approvals, and with the outputs of the transaction it carries recorded: 50 of 50 such blocks
stayed. `prune` deletes held blocks older than `HeldLimits.max_age`, then the oldest beyond
`HeldLimits.max_count`, in the caller's ingest transaction. A pruned block that was only early
can be submitted again once its parents are in.

Outputs go with their block only if no milestone confirmed them and no other stored block
carries the same transaction (outputs are recorded once per transaction, under the first block
that carried it); otherwise they are moved to that other block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, text, update
from sqlmodel import Session, col, select

from mobility.ledger.models import HELD_SQL, ApprovalRecord, BlockRecord, OutputRecord
from mobility.wire.codec import Block, CodecError, TransactionPayload, output_id

TRANSACTION_PAYLOAD = TransactionPayload.TYPE


@dataclass(frozen=True, slots=True)
class HeldLimits:
    """How many blocks may be held, and for how long (see the module docstring)."""

    max_count: int = 1_000
    max_age: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Pruned:
    """What a pass removed, and how many held blocks are left."""

    block_ids: tuple[bytes, ...]
    remaining: int


def prune(session: Session, now: datetime, limits: HeldLimits) -> Pruned:
    """Delete held blocks over the limits (with their approvals and unconfirmed outputs)."""
    held_only = text(HELD_SQL[session.get_bind().dialect.name])  # the held index's own predicate
    rows = session.exec(
        select(BlockRecord.block_id, BlockRecord.received_at, BlockRecord.payload_type)
        .where(held_only)
        .order_by(col(BlockRecord.received_at), col(BlockRecord.block_id))
    ).all()
    cutoff = now - limits.max_age
    stale = [row for row in rows if row[1] < cutoff]
    fresh = [row for row in rows if row[1] >= cutoff]
    over = max(len(fresh) - limits.max_count, 0)
    doomed = stale + fresh[:over]
    if not doomed:
        return Pruned((), len(rows))
    ids = [block_id for block_id, _, _ in doomed]
    carrying = [block_id for block_id, _, kind in doomed if kind == TRANSACTION_PAYLOAD]
    if carrying:
        _release_outputs(session, carrying, set(ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(ApprovalRecord).where(col(ApprovalRecord.child_id).in_(chunk)))
        session.execute(delete(BlockRecord).where(col(BlockRecord.block_id).in_(chunk)))
    return Pruned(tuple(ids), len(rows) - len(ids))


def _transaction(data: bytes) -> TransactionPayload | None:
    try:
        payload = Block.from_bytes(data).payload
    except CodecError:  # stored blocks were validated: cannot happen
        return None
    return payload if isinstance(payload, TransactionPayload) else None


def _release_outputs(session: Session, block_ids: Sequence[bytes], doomed: set[bytes]) -> None:
    """Delete the unconfirmed outputs recorded under `block_ids`, or hand them to another
    stored block carrying the same transaction."""
    outputs_of: dict[bytes, list[bytes]] = {}
    for block_id in block_ids:
        record = session.get(BlockRecord, block_id)
        transaction = _transaction(record.data) if record is not None else None
        if transaction is not None:
            count = len(transaction.essence.outputs)
            outputs_of[transaction.transaction_id] = [
                output_id(transaction.transaction_id, i) for i in range(count)
            ]
    if not outputs_of:
        return
    # Another carrier can only be a block no milestone referenced yet (a referenced one would
    # have confirmed the outputs, which are then kept anyway): that part of the tangle is small.
    carriers: dict[bytes, bytes] = {}
    others = session.exec(
        select(BlockRecord.block_id, BlockRecord.data).where(
            BlockRecord.payload_type == TRANSACTION_PAYLOAD, col(BlockRecord.milestone_index).is_(None)
        )
    )
    for block_id, data in others:
        if block_id in doomed:
            continue
        transaction = _transaction(data)
        if transaction is not None and transaction.transaction_id in outputs_of:
            carriers.setdefault(transaction.transaction_id, block_id)
    for transaction_id, ids in outputs_of.items():
        unconfirmed = (
            col(OutputRecord.output_id).in_(ids),
            col(OutputRecord.block_id).in_(list(doomed)),
            col(OutputRecord.created_milestone).is_(None),
        )
        carrier = carriers.get(transaction_id)
        if carrier is not None:
            session.execute(update(OutputRecord).where(*unconfirmed).values(block_id=carrier))
        else:
            session.execute(delete(OutputRecord).where(*unconfirmed))
