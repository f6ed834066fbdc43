"""held-blocks index instead of one over every block's `solid`; approvals clustered on SQLite

Measured at ingest (benches/ledger_ingest.py, tagged-data blocks in batches of 1,000, each
change alone against the schema before it):
- `ix_ledger_block_solid` took an entry for every block stored, nearly all of them solid,
  to answer "is anything held" and "which": ~1.2 µs a block on SQLite, ~0.6 on PostgreSQL.
  `ix_ledger_block_held` covers the held blocks only (`models.HELD_SQL`).
- On SQLite `ledger_approval` was a rowid table beside its primary key's index, so every
  approval went into two B-trees; WITHOUT ROWID keeps the rows in the key: ~1.3 µs a block.
  PostgreSQL has no such option and keeps its table as it is.

Revision ID: ledger_2
Revises: ledger_1
Create Date: 2026-11-26 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_2"
down_revision: str | None = "ledger_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD_WHERE = {"sqlite_where": sa.text("solid = 0"), "postgresql_where": sa.text("NOT solid")}
"""`models.HELD_SQL` as it stood when this revision was written."""


def _cluster_approvals(clustered: bool) -> None:
    """Rebuild `ledger_approval` with (SQLite) or without its rowid; a no-op elsewhere."""
    if op.get_bind().dialect.name != "sqlite":
        return
    # Batch mode keeps the options it reflects unless told otherwise, so both ways are explicit.
    table_kwargs = {"sqlite_with_rowid": not clustered}
    with op.batch_alter_table("ledger_approval", recreate="always", table_kwargs=table_kwargs):
        pass


def upgrade() -> None:
    op.drop_index("ix_ledger_block_solid", table_name="ledger_block")
    op.create_index("ix_ledger_block_held", "ledger_block", ["solid"], **HELD_WHERE)
    _cluster_approvals(True)


def downgrade() -> None:
    _cluster_approvals(False)
    op.drop_index("ix_ledger_block_held", table_name="ledger_block")
    op.create_index("ix_ledger_block_solid", "ledger_block", ["solid"])
