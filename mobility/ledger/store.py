"""The ledger's storage: blocks and their metadata, approvals, outputs and spends.

One `LedgerStore` per database, used by one node process: ingest is serialized by a lock,
so solidification never races with itself (two parents arriving at once would otherwise
each miss the other). Every method commits before it returns; on SQLite the engine runs
WAL with `synchronous=FULL`, so a block `put_block` has acknowledged survives a SIGKILL.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

import pow_rs
from mobility.clock import Clock, utc_now
from mobility.driver_sql import rows_in
from mobility.ledger.confirmation import (
    MilestoneError,
    WhiteFlagResult,
    apply_milestone,
    latest_milestone,
    walk,
)
from mobility.ledger.held import HeldLimits, Pruned
from mobility.ledger.held import prune as prune_held
from mobility.ledger.ingest import BatchWriter, PutResult
from mobility.ledger.models import (
    ApprovalRecord,
    BlockRecord,
    MilestoneRecord,
    OutputRecord,
    SpendRecord,
)
from mobility.ledger.params import NetworkParams
from mobility.ledger.solidifier import parents_of
from mobility.wire.codec import (
    Block,
    ChannelOutput,
    Output,
    output_from_bytes,
)

GENESIS_ENTRY_POINT = bytes(32)

# Through the driver (`rows_in`): every batch of transfers looks up its inputs with it.
_OUTPUTS_BY_ID_SQL = "SELECT output_id, data FROM ledger_output WHERE output_id {in_ids}"
_MILESTONE_INDEX_SQL = "SELECT block_id, milestone_index FROM ledger_block WHERE block_id {in_ids}"
_UNREFERENCED_APPROVALS_SQL = (
    "SELECT a.child_id, a.parent_id FROM ledger_approval a"
    " JOIN ledger_block b ON b.block_id = a.child_id WHERE b.milestone_index IS NULL AND b.solid"
)


@dataclass(frozen=True, slots=True)
class BlockMetadata:
    """What the node knows about a block beyond its bytes."""

    block_id: bytes
    parents: tuple[bytes, ...]
    received_at: datetime
    solid: bool
    solid_at: datetime | None
    milestone_index: int | None
    conflict_reason: str | None


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Proof that a block is leaf `index` of `count` under a milestone's inclusion root;
    check it with `pow_rs.merkle_verify(inclusion_merkle_root, block_id, index, count, path)`.
    """

    block_id: bytes
    milestone_index: int
    milestone_id: bytes
    inclusion_merkle_root: bytes
    index: int
    count: int
    path: tuple[bytes, ...]


class LedgerStore:
    """SQLModel storage of one node's tangle and UTXO set."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock = utc_now,
        solid_entry_points: Collection[bytes] = (GENESIS_ENTRY_POINT,),
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.solid_entry_points = frozenset(solid_entry_points)
        self._lock = threading.Lock()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session holding the ingest lock, for work that must commit as one (a milestone)."""
        with self._lock, self._session() as session:
            yield session

    def put_block(self, block: Block, data: bytes | None = None) -> PutResult:
        """Store a validated block (idempotently), solidify what it can, record its outputs.

        `data` is the block as received; it must be `block.to_bytes()` (the codec is canonical).
        """
        raw = block.to_bytes() if data is None else data
        return self.put_blocks([(block, raw)])[0]

    def put_blocks(self, blocks: Sequence[tuple[Block, bytes]]) -> list[PutResult]:
        """Store validated blocks `(block, bytes as received)` in arrival order, in one transaction.

        The outcome is the one of calling `put_block` on each in turn (a repeat of a block,
        even within the batch, is `created=False`), but a batch costs a handful of statements
        and one commit instead of a dozen ORM round trips and a commit per block: at ingest,
        the database round trips and the commit, not the crypto, were the cost (see the
        README's Benchmarks). Nothing of the batch is visible, or acknowledged, before it commits.
        """
        if not blocks:
            return []
        with self.ingesting() as batch:
            return batch.put_blocks(blocks)

    @contextmanager
    def ingesting(self) -> Iterator[IngestBatch]:
        """One ingest transaction under the ingest lock: read what validation needs
        (`IngestBatch.outputs`), then store (`IngestBatch.put_blocks`); commits when the block
        exits without an error, so nothing is acknowledged before it is durable.

        One transaction instead of a session for the lookup and another for the write: on
        PostgreSQL each session costs a connection check (pre-ping), a BEGIN and an end, all
        round trips, which at ingest weighed as much as the lookup itself.
        """
        with self._lock, self._session() as session:
            yield IngestBatch(session, self.solid_entry_points, self.clock())
            session.commit()

    def add_genesis(self, outputs: Mapping[bytes, Output], transaction_id: bytes = bytes(32)) -> None:
        """Record the configured genesis allocation as confirmed at milestone 0."""
        with self._lock, self._session() as session:
            for output_id, output in outputs.items():
                session.add(_output_record(output_id, transaction_id, output, None, 0))
            session.commit()

    def latest_milestone(self) -> MilestoneRecord | None:
        """The last applied milestone."""
        with self._session() as session:
            return latest_milestone(session)

    def milestone(self, index: int) -> MilestoneRecord | None:
        """An applied milestone by index."""
        with self._session() as session:
            return session.get(MilestoneRecord, index)

    def apply_next_milestones(self, params: NetworkParams) -> list[MilestoneRecord]:
        """Apply, in index order, every next milestone whose block is solid; each commits alone.

        A block that carries the next index but fails the checks is skipped (it stays stored);
        another block carrying a valid milestone of that index can still be applied.
        """
        applied: list[MilestoneRecord] = []
        while True:
            with self.writing() as session:
                latest = latest_milestone(session)
                index = 1 if latest is None else latest.milestone_index + 1
                candidates = session.exec(
                    select(BlockRecord)
                    .where(BlockRecord.carries_milestone == index, col(BlockRecord.solid))
                    .order_by(col(BlockRecord.block_id))
                ).all()
                record = None
                for candidate in candidates:
                    try:
                        milestone_block = Block.from_bytes(candidate.data)
                        entry_points = self.solid_entry_points
                        record = apply_milestone(session, milestone_block, entry_points, params)
                    except MilestoneError:
                        session.rollback()
                        continue
                    session.commit()
                    break
            if record is None:
                return applied
            applied.append(record)

    def walk(self, parents: tuple[bytes, ...], params: NetworkParams, now: int) -> WhiteFlagResult:
        """What a milestone with `parents` and timestamp `now` would reference and apply."""
        with self._session() as session:
            return walk(session, parents, self.solid_entry_points, params, now)

    def tips(self) -> list[bytes]:
        """Solid blocks no stored block approves yet, in ID order.

        Only blocks no milestone referenced are looked at: a referenced block lies in the past
        cone of a stored milestone block, so some stored block approves it. That keeps the
        query to the recent, unreferenced part of the tangle instead of a scan of all of it,
        which the coordinator would otherwise pay on every milestone as the tangle grows.
        """
        with self._session() as session:
            approved = select(ApprovalRecord.parent_id).where(
                ApprovalRecord.parent_id == BlockRecord.block_id
            )
            rows = session.exec(
                select(BlockRecord.block_id).where(
                    col(BlockRecord.milestone_index).is_(None),
                    col(BlockRecord.solid),
                    ~approved.exists(),
                )
            ).all()
            return sorted(rows)

    def unreferenced_approvals(self) -> dict[bytes, list[bytes]]:
        """The parents of every solid block no milestone referenced yet, by block: the part of
        the tangle tip selection walks, read in one query (see `tipselect`).

        Held blocks are left out: a tip is solid and so is its past cone, and a block whose
        parents never come (junk with made-up parents) would stay held, and read here, forever.
        """
        parents: dict[bytes, list[bytes]] = {}
        with self._session() as session:
            for child, parent in session.connection().exec_driver_sql(_UNREFERENCED_APPROVALS_SQL):
                parents.setdefault(bytes(child), []).append(bytes(parent))
        return parents

    def referencing_milestones(self, block_ids: Sequence[bytes]) -> dict[bytes, int]:
        """The index of the milestone that referenced each of `block_ids`, for those stored and
        referenced (`rows_in`: one query on PostgreSQL, IN-list chunks on SQLite)."""
        with self._session() as session:
            rows = rows_in(session, _MILESTONE_INDEX_SQL, block_ids)
        return {bytes(block_id): int(index) for block_id, index in rows if index is not None}

    def inclusion_proof(self, block_id: bytes) -> InclusionProof | None:
        """A TIP-4 audit path of a referenced block under its milestone's inclusion root."""
        with self._session() as session:
            record = session.get(BlockRecord, block_id)
            if record is None or record.milestone_index is None or record.milestone_position is None:
                return None
            milestone = session.get(MilestoneRecord, record.milestone_index)
            assert milestone is not None
            ids = list(
                session.exec(
                    select(BlockRecord.block_id)
                    .where(BlockRecord.milestone_index == record.milestone_index)
                    .order_by(col(BlockRecord.milestone_position))
                ).all()
            )
            return InclusionProof(
                block_id=block_id,
                milestone_index=milestone.milestone_index,
                milestone_id=milestone.milestone_id,
                inclusion_merkle_root=milestone.inclusion_merkle_root,
                index=record.milestone_position,
                count=len(ids),
                path=tuple(pow_rs.merkle_proof(ids, record.milestone_position)),
            )

    def outputs_of(self, address: bytes) -> list[tuple[bytes, Output]]:
        """Confirmed unspent outputs whose owner (basic) or payer (channel) is `address`."""
        with self._session() as session:
            rows = session.exec(
                select(OutputRecord)
                .outerjoin(SpendRecord, col(SpendRecord.output_id) == col(OutputRecord.output_id))
                .where(
                    OutputRecord.address == address,
                    col(OutputRecord.created_milestone).is_not(None),
                    col(SpendRecord.output_id).is_(None),
                )
                .order_by(col(OutputRecord.output_id))
            ).all()
            return [(row.output_id, output_from_bytes(row.data)) for row in rows]

    def channel(self, channel_id: bytes) -> tuple[bytes, ChannelOutput] | None:
        """The confirmed, unspent output currently holding a channel, if it is open."""
        with self._session() as session:
            row = session.exec(
                select(OutputRecord)
                .outerjoin(SpendRecord, col(SpendRecord.output_id) == col(OutputRecord.output_id))
                .where(
                    OutputRecord.channel_id == channel_id,
                    col(OutputRecord.created_milestone).is_not(None),
                    col(SpendRecord.output_id).is_(None),
                )
            ).first()
            if row is None:
                return None
            output = output_from_bytes(row.data)
            assert isinstance(output, ChannelOutput)
            return row.output_id, output

    def state_digest(self) -> bytes:
        """BLAKE2b-256 of the confirmed ledger: milestones, block inclusion, outputs, spends.

        Arrival times and solidification times are left out: they differ between nodes by
        nature. Two nodes that applied the same milestones must agree on this digest.
        """
        parts: list[bytes] = []
        with self._session() as session:
            for milestone in session.exec(
                select(MilestoneRecord).order_by(col(MilestoneRecord.milestone_index))
            ):
                parts += [b"M", milestone.milestone_index.to_bytes(8, "little"), milestone.milestone_id]
            referenced = session.exec(
                select(BlockRecord)
                .where(col(BlockRecord.milestone_index).is_not(None))
                .order_by(col(BlockRecord.block_id))
            )
            for block in referenced:
                reason = (block.conflict_reason or "").encode()
                parts += [b"B", block.block_id, _u64(block.milestone_index or 0), _u64(len(reason)), reason]
            outputs = session.exec(
                select(OutputRecord)
                .where(col(OutputRecord.created_milestone).is_not(None))
                .order_by(col(OutputRecord.output_id))
            )
            for output in outputs:
                created = output.created_milestone or 0
                parts += [b"O", output.output_id, _u64(created), _u64(len(output.data)), output.data]
            for spend in session.exec(select(SpendRecord).order_by(col(SpendRecord.output_id))):
                parts += [b"S", spend.output_id, spend.transaction_id, _u64(spend.milestone_index)]
        return pow_rs.blake2b_256(b"".join(parts))

    def has_block(self, block_id: bytes) -> bool:
        """Whether the block is stored (solid or not)."""
        with self._session() as session:
            return session.get(BlockRecord, block_id) is not None

    def block_bytes(self, block_id: bytes) -> bytes | None:
        """The block exactly as received."""
        with self._session() as session:
            record = session.get(BlockRecord, block_id)
            return record.data if record is not None else None

    def metadata(self, block_id: bytes) -> BlockMetadata | None:
        """Solid state, milestone and conflict of a stored block."""
        with self._session() as session:
            record = session.get(BlockRecord, block_id)
            if record is None:
                return None
            return BlockMetadata(
                block_id=record.block_id,
                parents=tuple(sorted(parents_of(session, block_id))),
                received_at=record.received_at,
                solid=record.solid,
                solid_at=record.solid_at,
                milestone_index=record.milestone_index,
                conflict_reason=record.conflict_reason,
            )

    def children(self, block_id: bytes) -> list[bytes]:
        """Stored blocks that approve `block_id`, in ID order."""
        with self._session() as session:
            rows = session.exec(
                select(ApprovalRecord.child_id).where(ApprovalRecord.parent_id == block_id)
            ).all()
            return sorted(rows)

    def missing_parents(self) -> list[bytes]:
        """Parents some stored block approves but the node has not got: what to request."""
        with self._session() as session:
            rows = session.exec(
                select(ApprovalRecord.parent_id)
                .outerjoin(BlockRecord, col(BlockRecord.block_id) == col(ApprovalRecord.parent_id))
                .where(col(BlockRecord.block_id).is_(None))
                .distinct()
            ).all()
            return sorted(set(rows) - self.solid_entry_points)

    def unsolid_count(self) -> int:
        """Blocks held until their past cone arrives."""
        with self._session() as session:
            count = session.exec(
                select(func.count()).select_from(BlockRecord).where(~col(BlockRecord.solid))
            ).one()
            return int(count)

    def output(self, output_id: bytes) -> Output | None:
        """Any output the node knows, spent or not: enough to check who may sign for it."""
        with self._session() as session:
            record = session.get(OutputRecord, output_id)
            return output_from_bytes(record.data) if record is not None else None

    def outputs(self, output_ids: Collection[bytes]) -> dict[bytes, Output]:
        """Those of `output_ids` the node knows, spent or not, in one query (`output` for many)."""
        with self._session() as session:
            return _known_outputs(session, output_ids)

    def unspent_output(self, output_id: bytes) -> Output | None:
        """An output known to the node and not spent in the confirmed ledger; an `OutputLookup`.

        Outputs of stored but unconfirmed transactions count: a transaction may spend one on
        arrival, and white-flag confirmation later decides which spend wins.
        """
        with self._session() as session:
            record = session.get(OutputRecord, output_id)
            if record is None or session.get(SpendRecord, output_id) is not None:
                return None
            return output_from_bytes(record.data)

    def record_spend(self, output_id: bytes, transaction_id: bytes, milestone_index: int) -> None:
        """Mark an output spent in the confirmed ledger (used by milestone application)."""
        with self._lock, self._session() as session:
            session.add(
                SpendRecord(
                    output_id=output_id, transaction_id=transaction_id, milestone_index=milestone_index
                )
            )
            session.commit()

    def balance(self, address: bytes) -> int:
        """Confirmed, unspent micro-units in basic outputs of `address` (33-byte form).

        Deposits locked in channels are not part of the balance: they are not freely spendable.
        """
        with self._session() as session:
            total = session.exec(
                select(func.coalesce(func.sum(OutputRecord.amount), 0))
                .outerjoin(SpendRecord, col(SpendRecord.output_id) == col(OutputRecord.output_id))
                .where(
                    OutputRecord.address == address,
                    col(OutputRecord.created_milestone).is_not(None),
                    col(SpendRecord.output_id).is_(None),
                    OutputRecord.channel_id == None,  # noqa: E711 (SQL IS NULL)
                )
            ).one()
            return int(total)


class IngestBatch:
    """The transaction of `LedgerStore.ingesting`: lookups for validation, then one write."""

    def __init__(self, session: Session, entry_points: Collection[bytes], now: datetime) -> None:
        self._session = session
        self._now = now
        self._writer = BatchWriter(session, entry_points, now)

    def outputs(self, output_ids: Collection[bytes]) -> dict[bytes, Output]:
        """`LedgerStore.outputs`, read in this transaction."""
        return _known_outputs(self._session, output_ids)

    def put_blocks(self, blocks: Sequence[tuple[Block, bytes]]) -> list[PutResult]:
        """`LedgerStore.put_blocks` in this transaction; call it at most once."""
        return self._writer.write(blocks) if blocks else []

    def prune_held(self, limits: HeldLimits) -> Pruned:
        """`held.prune` in this transaction, after `put_blocks`."""
        return prune_held(self._session, self._now, limits)


def _known_outputs(session: Session, output_ids: Collection[bytes]) -> dict[bytes, Output]:
    """Those of `output_ids` stored, spent or not, through the driver (`rows_in`)."""
    found: dict[bytes, Output] = {}
    for output_id, data in rows_in(session, _OUTPUTS_BY_ID_SQL, sorted(set(output_ids))):
        found[output_id] = output_from_bytes(data)
    return found


def _u64(value: int) -> bytes:
    return value.to_bytes(8, "little")


def _output_record(
    output_id: bytes, transaction_id: bytes, output: Output, block_id: bytes | None, milestone: int | None
) -> OutputRecord:
    return OutputRecord(
        output_id=output_id,
        transaction_id=transaction_id,
        block_id=block_id,
        output_type=output.TYPE,
        address=output.owners[0].to_bytes(),
        amount=output.value,
        channel_id=output.resolved_channel_id(output_id) if isinstance(output, ChannelOutput) else None,
        data=output.to_bytes(),
        created_milestone=milestone,
    )
