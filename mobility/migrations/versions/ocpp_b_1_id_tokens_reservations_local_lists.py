"""operator ID tokens, reservations, local list versions

Operators manage ID tokens with their OCPP status (honoured before the allow-list and the
payment rules, and sent to chargers as their local list), reserve connectors for a token,
and the engine keeps the local list version each charger last accepted.

Revision ID: ocpp_b_1
Revises: ocpp_2
Create Date: 2026-12-07 19:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mobility.db

revision: str = "ocpp_b_1"
down_revision: str | None = "ocpp_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "charging_operator_id_token",
        sa.Column("operator_id", AutoString(length=64), nullable=False),
        sa.Column("id_token", AutoString(length=36), nullable=False),
        sa.Column("status", AutoString(length=16), nullable=False),
        sa.Column("expires_at", mobility.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("token_type", AutoString(length=20), nullable=False),
        sa.Column("updated_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("operator_id", "id_token"),
    )
    op.create_table(
        "charging_reservation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charge_point_id", AutoString(length=48), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("id_token", AutoString(length=36), nullable=False),
        sa.Column("expires_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", AutoString(length=16), nullable=False),
        sa.Column("charger_status", AutoString(length=32), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["charge_point_id"], ["charging_charge_point.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_charging_reservation_cp_connector", "charging_reservation", ["charge_point_id", "connector_id"]
    )
    op.create_table(
        "charging_local_list",
        sa.Column("charge_point_id", AutoString(length=48), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("sent_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["charge_point_id"], ["charging_charge_point.id"]),
        sa.PrimaryKeyConstraint("charge_point_id"),
    )


def downgrade() -> None:
    op.drop_table("charging_local_list")
    op.drop_index("ix_charging_reservation_cp_connector", table_name="charging_reservation")
    op.drop_table("charging_reservation")
    op.drop_table("charging_operator_id_token")
