"""remote-start pins on disk

The channel a driver chose for a remote start was kept in memory only: an engine restarting
between the RemoteStart command and the charger's start refused the driver's app token.

Revision ID: payments_1
Revises: ledger_2
Create Date: 2026-12-07 13:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mobility.db

revision: str = "payments_1"
down_revision: str | None = "ledger_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_remote_start_pin",
        sa.Column("charge_point_id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("id_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["payment_channel.channel_id"]),
        sa.PrimaryKeyConstraint("charge_point_id", "id_token"),
    )


def downgrade() -> None:
    op.drop_table("payment_remote_start_pin")
