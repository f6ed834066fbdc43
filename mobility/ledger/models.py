"""Ledger tables: blocks with their metadata, approvals (parent to child), outputs and spends.

The tables come from the Alembic migrations (`migrations/`), never from these classes. IDs are
raw bytes (BLOB / bytea), amounts are integer micro-units in BIGINT (the token supply parameter
keeps them below 2**63), times are UTC-aware.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, text
from sqlmodel import Field, SQLModel

from mobility.db import UTCDateTime


def sparse_index(table: str, column: str) -> Index:
    """An index over the rows where `column` is set: most rows leave it NULL, and every block
    or output ingested would otherwise add an entry nobody looks up. Queries comparing the
    column with a value (`column = ?`) imply it is not NULL and use it on both backends."""
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_{table}_{column}", column, sqlite_where=where, postgresql_where=where)


HELD_SQL = {"sqlite": "solid = 0", "postgresql": "NOT solid"}
"""A held (unsolid) block, by dialect: the predicate of the held-blocks index, written as each
backend renders `~col(BlockRecord.solid)`, since SQLite uses a partial index only for a query
that repeats its predicate's very terms."""


def held_index() -> Index:
    """An index over held blocks only. Blocks are stored solid but for the few waiting on a
    parent; an index over every block's `solid` flag took an entry per block ingested (~1 µs
    each, measured) just to answer "is anything held" and "which"."""
    return Index(
        "ix_ledger_block_held",
        "solid",
        sqlite_where=text(HELD_SQL["sqlite"]),
        postgresql_where=text(HELD_SQL["postgresql"]),
    )


class BlockRecord(SQLModel, table=True):
    """A stored block: its bytes exactly as received, and what the node knows about it."""

    __tablename__ = "ledger_block"
    __table_args__ = (sparse_index("ledger_block", "carries_milestone"), held_index())

    block_id: bytes = Field(sa_type=LargeBinary, primary_key=True)
    data: bytes = Field(sa_type=LargeBinary)
    payload_type: int | None = None
    received_at: datetime = Field(sa_type=UTCDateTime)
    solid: bool = False
    solid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    milestone_index: int | None = Field(default=None, index=True, sa_type=BigInteger)
    milestone_position: int | None = None
    conflict_reason: str | None = Field(default=None, max_length=64)
    carries_milestone: int | None = Field(default=None, sa_type=BigInteger)


class ApprovalRecord(SQLModel, table=True):
    """`child_id` approves `parent_id`; the parent may not be stored yet (that is the point).

    An approval is only written with its child block, in the same transaction
    (`ingest.BatchWriter`), and blocks are never deleted, so `child_id` always names a stored
    block without a foreign key. There is none on purpose: on PostgreSQL its per-row trigger
    cost ~10 µs a block at ingest (migration `ledger_1`); tests check the invariant instead.
    """

    __tablename__ = "ledger_approval"
    # On SQLite the rows live in the primary key's B-tree: a rowid table stored each approval
    # twice (table and key index), ~1.3 µs more a block at ingest. PostgreSQL ignores this.
    __table_args__ = {"sqlite_with_rowid": False}

    parent_id: bytes = Field(sa_type=LargeBinary, primary_key=True)
    # Indexed on its own: the primary key serves parent-to-children lookups; a block's parents
    # (milestone cone walks, metadata) need child-to-parents, a full scan without this index.
    child_id: bytes = Field(sa_type=LargeBinary, primary_key=True, index=True)


class OutputRecord(SQLModel, table=True):
    """An output some stored transaction (or the genesis) created, confirmed or not yet.

    `created_milestone` is None until a milestone confirms the creating transaction (0 for the
    genesis). `address` is the owner of a basic output and the payer of a channel.
    """

    __tablename__ = "ledger_output"
    __table_args__ = (sparse_index("ledger_output", "channel_id"),)

    output_id: bytes = Field(sa_type=LargeBinary, primary_key=True)
    # Not indexed: whether a transaction's outputs are stored is asked by its output 0's ID.
    transaction_id: bytes = Field(sa_type=LargeBinary)
    block_id: bytes | None = Field(default=None, sa_type=LargeBinary)
    output_type: int
    address: bytes = Field(sa_type=LargeBinary, index=True)
    amount: int = Field(sa_type=BigInteger)
    channel_id: bytes | None = Field(default=None, sa_type=LargeBinary)
    data: bytes = Field(sa_type=LargeBinary)
    created_milestone: int | None = Field(default=None, sa_type=BigInteger)


class SpendRecord(SQLModel, table=True):
    """The confirmed spend of an output: the primary key makes the first spend the only one."""

    __tablename__ = "ledger_spend"

    output_id: bytes = Field(sa_type=LargeBinary, primary_key=True, foreign_key="ledger_output.output_id")
    transaction_id: bytes = Field(sa_type=LargeBinary, index=True)
    milestone_index: int = Field(sa_type=BigInteger)


class MilestoneRecord(SQLModel, table=True):
    """An applied milestone: the chain of these is the confirmed history."""

    __tablename__ = "ledger_milestone"

    milestone_index: int = Field(sa_type=BigInteger, primary_key=True)
    milestone_id: bytes = Field(sa_type=LargeBinary, unique=True)
    block_id: bytes = Field(sa_type=LargeBinary, foreign_key="ledger_block.block_id")
    timestamp: int = Field(sa_type=BigInteger)
    inclusion_merkle_root: bytes = Field(sa_type=LargeBinary)
    applied_merkle_root: bytes = Field(sa_type=LargeBinary)
    referenced_count: int
    applied_count: int
