"""fleet payer keys

Revision ID: fleet_2
Revises: ocpp_1
Create Date: 2026-11-26 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mobility.db

revision: str = "fleet_2"
down_revision: str | None = "ocpp_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_payer_key",
        sa.Column("public_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["payment_account.id"]),
        sa.PrimaryKeyConstraint("public_key"),
    )
    with op.batch_alter_table("fleet_payer_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fleet_payer_key_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fleet_payer_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fleet_payer_key_account_id"))
    op.drop_table("fleet_payer_key")
