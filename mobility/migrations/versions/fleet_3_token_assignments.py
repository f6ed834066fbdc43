"""fleet token assignments

Re-registering a fleet token with another driver changed who charged in every earlier session
(CSV, CDRs, reconciliation): the sessions read the token's current driver. Each registration is
now kept with the time it took effect. Existing tokens get an assignment valid since 1970, so
their past sessions keep the driver they show today.

Revision ID: fleet_3
Revises: payments_1
Create Date: 2026-12-07 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mobility.db

revision: str = "fleet_3"
down_revision: str | None = "payments_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_token_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("vehicle_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("driver_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("valid_from", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["payment_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fleet_token_assignment", schema=None) as batch_op:
        batch_op.create_index("ix_fleet_token_assignment_token", ["token", "valid_from"], unique=False)
    since = sa.bindparam(
        "since", datetime(1970, 1, 1, tzinfo=UTC), type_=mobility.db.UTCDateTime(timezone=True)
    )
    op.execute(
        sa.text(
            "INSERT INTO fleet_token_assignment (token, account_id, vehicle_id, driver_name, valid_from)"
            " SELECT token, account_id, vehicle_id, COALESCE(driver_name, ''), :since FROM payment_id_token"
            " WHERE vehicle_id IS NOT NULL ORDER BY token"
        ).bindparams(since)
    )


def downgrade() -> None:
    with op.batch_alter_table("fleet_token_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_fleet_token_assignment_token")
    op.drop_table("fleet_token_assignment")
