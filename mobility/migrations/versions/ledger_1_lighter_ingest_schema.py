"""lighter ingest schema: no foreign key from approvals to blocks, no index on output
transaction IDs, sparse channel and carried-milestone indexes

Measured at ingest (benches/ledger_ingest.py), each of these was work for every block or
output stored and guarded or served nothing:
- the approvals' foreign key: on PostgreSQL a trigger per approval row looks up and locks the
  child block, ~10 us a block; an approval is only ever written with its child, in one
  transaction (`ingest.BatchWriter`), and blocks are never deleted;
- the index on `ledger_output.transaction_id`: only the "is this transaction recorded" lookup
  used it, which now asks for output 0 by primary key;
- the indexes on `carries_milestone` and `channel_id` got a NULL entry for nearly every row,
  and are only ever looked up by value.

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
APPROVAL_FK = "ledger_approval_child_id_fkey"
"""The name PostgreSQL gave the key created unnamed in 0001, and the one `downgrade` gives it."""
# SQLite keeps an unnamed key unnamed: batch mode (which rebuilds the table there) names it
# by this convention so that it can be dropped.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
UNNAMED_SQLITE_FK = "fk_ledger_approval_child_id_ledger_block"


def upgrade() -> None:
    bind = op.get_bind()
    keys = sa.inspect(bind).get_foreign_keys("ledger_approval")
    name = next((key["name"] for key in keys if key["referred_table"] == "ledger_block"), None)
    if bind.dialect.name == "postgresql":
        op.drop_constraint(name or APPROVAL_FK, "ledger_approval", type_="foreignkey")
    else:
        with op.batch_alter_table("ledger_approval", naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint(name or UNNAMED_SQLITE_FK, type_="foreignkey")
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
    with op.batch_alter_table("ledger_approval") as batch_op:
        batch_op.create_foreign_key(APPROVAL_FK, "ledger_block", ["child_id"], ["block_id"])
