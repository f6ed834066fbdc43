"""ledger ingest indexes: no index on output transaction IDs; sparse channel and milestone indexes

Measured at ingest (benches/ledger_ingest.py): every output stored added an entry to an index
on `transaction_id` that only the "is this transaction recorded" lookup used (it now asks for
output 0 by primary key), and every block and output added a NULL entry to the indexes on
`carries_milestone` and `channel_id`, which are only ever looked up by value.

Revision ID: ledger_1
Revises: fleet_2
Create Date: 2026-11-26 08:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_1"
down_revision: str | None = "fleet_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SPARSE = (("ledger_block", "carries_milestone"), ("ledger_output", "channel_id"))


def upgrade() -> None:
    op.drop_index("ix_ledger_output_transaction_id", table_name="ledger_output")
    for table, column in SPARSE:
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.create_index(f"ix_{table}_{column}", table, [column], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for table, column in SPARSE:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.create_index(f"ix_{table}_{column}", table, [column])
    op.create_index("ix_ledger_output_transaction_id", "ledger_output", ["transaction_id"])
