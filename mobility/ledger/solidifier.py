"""Solidification: a block is solid once its whole past cone is stored.

A block is solid when every parent is solid or a solid entry point (the genesis, or later
a snapshot's boundary). Blocks that arrive before their parents are stored unsolid and
held; when a block becomes solid, its children are re-examined, and so on down the cone.
The order of arrival therefore never matters, only which blocks are present.

These functions run inside the caller's database transaction, so storing a block and
everything it makes solid commit together or not at all.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from mobility.ledger.models import ApprovalRecord, BlockRecord


def parents_solid(session: Session, parents: Iterable[bytes], entry_points: Collection[bytes]) -> bool:
    """Whether every parent is a solid entry point or a stored solid block."""
    pending = [parent for parent in parents if parent not in entry_points]
    if not pending:
        return True
    solid = session.exec(
        select(BlockRecord.block_id).where(col(BlockRecord.block_id).in_(pending), col(BlockRecord.solid))
    ).all()
    return len(set(solid)) == len(pending)


def propagate(
    session: Session, newly_solid: bytes, entry_points: Collection[bytes], at: datetime
) -> list[bytes]:
    """Mark solid every held descendant of `newly_solid` whose parents are now all solid.

    Returns the block IDs made solid, in the order they became solid (not including
    `newly_solid` itself).
    """
    made_solid: list[bytes] = []
    queue = deque([newly_solid])
    while queue:
        parent = queue.popleft()
        children = session.exec(
            select(BlockRecord)
            .join(ApprovalRecord, col(ApprovalRecord.child_id) == col(BlockRecord.block_id))
            .where(col(ApprovalRecord.parent_id) == parent, ~col(BlockRecord.solid))
        ).all()
        for child in children:
            if parents_solid(session, parents_of(session, child.block_id), entry_points):
                child.solid = True
                child.solid_at = at
                session.add(child)
                session.flush()
                made_solid.append(child.block_id)
                queue.append(child.block_id)
    return made_solid


def parents_of(session: Session, block_id: bytes) -> list[bytes]:
    """The parents a stored block approves."""
    return list(
        session.exec(select(ApprovalRecord.parent_id).where(ApprovalRecord.child_id == block_id)).all()
    )
