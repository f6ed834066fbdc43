"""Writing a batch of validated blocks: rows, approvals, outputs and solidification, in bulk.

`LedgerStore.put_block` used to spend about a dozen ORM round trips on every block (does it
exist, are its parents solid, has its transaction been recorded, which held children does it
free, three flushes) and a commit. At ingest those round trips and the commit were the whole
cost, far above the crypto checks, and on PostgreSQL each one is a network round trip.

Here a batch (one block from `put_block`, many from `put_blocks`) costs a fixed handful of
statements whatever its size: one query for what is already stored and how solid the parents
are, one for transactions already recorded, one for held children waiting on the new blocks,
then one bulk INSERT per table (an executemany on SQLite, a COPY on PostgreSQL).
Solidification runs in memory on what those queries returned, in arrival order, so the
outcome is exactly that of storing the blocks one by one (`solidifier.propagate`'s
breadth-first order included, siblings in ID order). Only when a held block stored earlier
becomes solid does the walk go back to the database, level by level, as before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, SQLModel, col, select

import pow_rs
from mobility.driver_sql import Row, bind_value, bulk_insert, rows_in
from mobility.ledger.models import HELD_SQL, ApprovalRecord, BlockRecord
from mobility.wire.codec import (
    Block,
    ChannelOutput,
    MilestonePayload,
    Output,
    TransactionPayload,
    output_id,
)

BLOCK_COLUMNS = (
    "block_id",
    "data",
    "payload_type",
    "received_at",
    "solid",
    "solid_at",
    "milestone_index",
    "milestone_position",
    "conflict_reason",
    "carries_milestone",
)
"""The `ledger_block` columns in the order `BatchWriter` writes them."""
APPROVAL_COLUMNS = ("parent_id", "child_id")
OUTPUT_COLUMNS = (
    "output_id",
    "transaction_id",
    "block_id",
    "output_type",
    "address",
    "amount",
    "channel_id",
    "data",
    "created_milestone",
)
"""The `ledger_output` columns, in the order of `output_row`."""

# The lookups every batch makes go to the driver directly (see `rows_in`).
_STORED_OUTPUTS_SQL = "SELECT output_id FROM ledger_output WHERE output_id {in_ids}"
_SOLIDITY_SQL = "SELECT block_id, solid FROM ledger_block WHERE block_id {in_ids}"
_HELD_CHILDREN_SQL = (
    "SELECT a.parent_id, b.block_id, b.carries_milestone FROM ledger_approval a"
    " JOIN ledger_block b ON b.block_id = a.child_id WHERE a.parent_id {in_ids} AND NOT b.solid"
)


def any_held_sql(dialect: str) -> str:
    """The probe of `any_unsolid`: one lookup in the held-blocks index (`HELD_SQL`)."""
    return f"SELECT 1 FROM ledger_block WHERE {HELD_SQL[dialect]} LIMIT 1"


def any_unsolid(session: Session) -> bool:
    """Whether any stored block is held."""
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        cursor.execute(any_held_sql(connection.dialect.name))
        return cursor.fetchone() is not None
    finally:
        cursor.close()


@dataclass(frozen=True, slots=True)
class PutResult:
    """Outcome of storing a block: whether it was new, and every block it made solid."""

    block_id: bytes
    created: bool
    solid: bool
    made_solid: tuple[bytes, ...]
    milestone_solid: bool = False
    """Whether a block carrying a milestone became solid through this one (itself included)."""


def output_row(
    output_id: bytes, transaction_id: bytes, output: Output, block_id: bytes | None, milestone: int | None
) -> Row:
    """The `ledger_output` values of one output, in `OUTPUT_COLUMNS` order."""
    channel_id = output.resolved_channel_id(output_id) if isinstance(output, ChannelOutput) else None
    address = output.owners[0].to_bytes()
    return (
        output_id,
        transaction_id,
        block_id,
        output.TYPE,
        address,
        output.value,
        channel_id,
        output.to_bytes(),
        milestone,
    )


class BatchWriter:
    """Stores one batch inside the caller's transaction; use once, then commit."""

    def __init__(self, session: Session, entry_points: Collection[bytes], now: datetime) -> None:
        self.session = session
        self.entry_points = entry_points
        self.now = now
        self.solid: dict[bytes, bool] = {}
        """Solidity of every block this batch has looked at (stored or new); absent = not asked."""
        self.carries: dict[bytes, bool] = {}
        """Whether a block that may become solid here carries a milestone."""
        self.new_blocks: dict[bytes, tuple[bytes, int | None, int | None]] = {}
        """New blocks of this batch: bytes, payload type, milestone index carried; their
        solidity is `solid`, read when the rows are written."""
        self.new_parents: dict[bytes, tuple[bytes, ...]] = {}
        self.waiting: dict[bytes, list[bytes]] = {}
        """New unsolid blocks of this batch by the parent they approve."""
        self.held: dict[bytes, list[bytes]] = {}
        """Unsolid blocks stored before this batch, by a parent that arrives in it."""
        self.stored_made_solid: list[bytes] = []
        self._absent: set[bytes] = set()
        """Blocks asked for and not stored (until they arrive in this batch)."""

    def write(self, blocks: Sequence[tuple[Block, bytes]]) -> list[PutResult]:
        """Insert the new blocks, approvals and outputs; a `PutResult` per block, in order."""
        ids = [pow_rs.blake2b_256(raw) for _, raw in blocks]
        self._load_solidity({*ids, *(parent for block, _ in blocks for parent in block.parents)})
        transaction_ids = {
            block_id: block.payload.transaction_id
            for (block, _), block_id in zip(blocks, ids, strict=True)
            if isinstance(block.payload, TransactionPayload)
        }
        recorded = self._recorded_transactions(sorted(set(transaction_ids.values())))
        self._load_held_children([block_id for block_id in ids if block_id not in self.solid])
        approvals: list[Row] = []
        outputs: list[Row] = []
        results = []
        for (block, raw), block_id in zip(blocks, ids, strict=True):
            if block_id in self.solid:
                results.append(PutResult(block_id, False, self.solid[block_id], ()))
                continue
            solid = all(map(self._is_solid, block.parents))
            payload = block.payload
            carries = payload.essence.index if isinstance(payload, MilestonePayload) else None
            self.new_blocks[block_id] = (raw, payload.TYPE if payload is not None else None, carries)
            self.solid[block_id] = solid
            self.carries[block_id] = carries is not None
            self.new_parents[block_id] = block.parents
            for parent in block.parents:
                approvals.append((parent, block_id))
                if not solid:
                    self.waiting.setdefault(parent, []).append(block_id)
            if isinstance(payload, TransactionPayload):
                transaction_id = transaction_ids[block_id]
                # A transaction may be carried by more than one block; its outputs are recorded once.
                if transaction_id not in recorded:
                    recorded.add(transaction_id)
                    for index, output in enumerate(payload.essence.outputs):
                        item_id = transaction_id + index.to_bytes(2, "little")
                        outputs.append(output_row(item_id, transaction_id, output, block_id, None))
            # Only a block something waits on can make others solid (the usual case: none).
            waited_on = block_id in self.waiting or block_id in self.held
            made = self._propagate(block_id) if solid and waited_on else []
            milestone_solid = solid and (
                carries is not None or any(self.carries.get(item, False) for item in made)
            )
            results.append(PutResult(block_id, True, solid, tuple(made), milestone_solid))
        self._flush(approvals, outputs)
        return results

    def _load_solidity(self, block_ids: Iterable[bytes]) -> None:
        wanted = sorted(set(block_ids) - set(self.entry_points))
        for block_id, solid in rows_in(self.session, _SOLIDITY_SQL, wanted):
            self.solid[block_id] = bool(solid)
        # Asked and absent means not stored: such a parent is unsolid until it arrives here.
        self._absent.update(block_id for block_id in wanted if block_id not in self.solid)

    def _recorded_transactions(self, transaction_ids: Sequence[bytes]) -> set[bytes]:
        """Those of `transaction_ids` whose outputs are stored. Every transaction has an output
        0, stored with the others, so the outputs' primary key answers: no index on
        `transaction_id` to keep up to date for every output ingested."""
        first_outputs = [output_id(transaction_id, 0) for transaction_id in transaction_ids]
        return {row[0][:32] for row in rows_in(self.session, _STORED_OUTPUTS_SQL, first_outputs)}

    def _load_held_children(self, new_ids: Sequence[bytes]) -> None:
        # Usually nothing at all is held: one indexed probe then spares the join below.
        if not new_ids or not any_unsolid(self.session):
            return
        for parent, child, carries in rows_in(self.session, _HELD_CHILDREN_SQL, sorted(set(new_ids))):
            self.held.setdefault(parent, []).append(child)
            self.solid[child] = False
            self.carries[child] = carries is not None

    def _is_solid(self, block_id: bytes) -> bool:
        if block_id in self.entry_points:
            return True
        if block_id not in self.solid and block_id not in self._absent:
            self._load_solidity([block_id])
        return self.solid.get(block_id, False)

    def _children(self, parent: bytes) -> list[bytes]:
        """Unsolid blocks approving `parent`, in ID order (the approvals index order, which
        the one-by-one walk over SQLite followed), new ones of this batch and held stored ones.
        """
        children = list(self.waiting.get(parent, ()))
        if parent in self.new_blocks:
            return sorted(children + self.held.get(parent, []))
        # A held block stored earlier just became solid: its own held children are in the database.
        query = (
            select(BlockRecord.block_id, BlockRecord.carries_milestone)
            .join(ApprovalRecord, col(ApprovalRecord.child_id) == col(BlockRecord.block_id))
            .where(col(ApprovalRecord.parent_id) == parent, ~col(BlockRecord.solid))
        )
        for child, carries in self.session.exec(query):
            self.solid.setdefault(child, False)
            self.carries[child] = carries is not None
            children.append(child)
        return sorted(children)

    def _parents(self, block_id: bytes) -> Sequence[bytes]:
        if block_id in self.new_parents:
            return self.new_parents[block_id]
        query = select(ApprovalRecord.parent_id).where(ApprovalRecord.child_id == block_id)
        return list(self.session.exec(query))

    def _propagate(self, newly_solid: bytes) -> list[bytes]:
        """`solidifier.propagate` over the batch's own view: the blocks made solid, breadth first."""
        made: list[bytes] = []
        queue = deque([newly_solid])
        while queue:
            parent = queue.popleft()
            for child in self._children(parent):
                if self.solid.get(child, False):
                    continue
                if all(self._is_solid(grandparent) for grandparent in self._parents(child)):
                    self.solid[child] = True
                    if child not in self.new_blocks:
                        self.stored_made_solid.append(child)
                    made.append(child)
                    queue.append(child)
        return made

    def _flush(self, approvals: list[Row], outputs: list[Row]) -> None:
        block = SQLModel.metadata.tables["ledger_block"]
        if self.new_blocks:
            now = bind_value(self.session, block.c.received_at, self.now)
            rows = []
            for block_id, (raw, kind, carries) in self.new_blocks.items():
                solid = self.solid[block_id]
                rows.append(
                    (block_id, raw, kind, now, solid, now if solid else None, None, None, None, carries)
                )
            bulk_insert(self.session, "ledger_block", BLOCK_COLUMNS, rows)
        if approvals:
            bulk_insert(self.session, "ledger_approval", APPROVAL_COLUMNS, approvals)
        if outputs:
            bulk_insert(self.session, "ledger_output", OUTPUT_COLUMNS, outputs)
        if self.stored_made_solid:
            statement = (
                update(block)
                .where(block.c.block_id == bindparam("solid_block_id"))
                .values(solid=True, solid_at=self.now)
            )
            self.session.execute(statement, [{"solid_block_id": item} for item in self.stored_made_solid])
