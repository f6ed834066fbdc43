"""initial schema: charging, ledger, payments

Revision ID: 0001
Revises:
Create Date: 2026-11-25 21:32:31.063839
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mobility.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "charging_charge_point",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("vendor", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("firmware_version", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("protocol", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen", mobility.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "charging_message_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charge_point_id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("frame", sa.Text(), nullable=False),
        sa.Column("at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("charging_message_log", schema=None) as batch_op:
        batch_op.create_index("ix_charging_message_log_cp_id", ["charge_point_id", "id"], unique=False)

    op.create_table(
        "ledger_block",
        sa.Column("block_id", sa.LargeBinary(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("payload_type", sa.Integer(), nullable=True),
        sa.Column("received_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("solid", sa.Boolean(), nullable=False),
        sa.Column("solid_at", mobility.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("milestone_index", sa.BigInteger(), nullable=True),
        sa.Column("milestone_position", sa.Integer(), nullable=True),
        sa.Column("conflict_reason", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("carries_milestone", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("block_id"),
    )
    with op.batch_alter_table("ledger_block", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_block_carries_milestone"), ["carries_milestone"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_block_milestone_index"), ["milestone_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_block_solid"), ["solid"], unique=False)

    op.create_table(
        "ledger_output",
        sa.Column("output_id", sa.LargeBinary(), nullable=False),
        sa.Column("transaction_id", sa.LargeBinary(), nullable=False),
        sa.Column("block_id", sa.LargeBinary(), nullable=True),
        sa.Column("output_type", sa.Integer(), nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.LargeBinary(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_milestone", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("output_id"),
    )
    with op.batch_alter_table("ledger_output", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_output_address"), ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_output_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_output_transaction_id"), ["transaction_id"], unique=False)

    op.create_table(
        "payment_account",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "payment_tariff",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", "version"),
    )
    op.create_table(
        "charging_connector",
        sa.Column("charge_point_id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("updated_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charging_charge_point.id"],
        ),
        sa.PrimaryKeyConstraint("charge_point_id", "connector_id"),
    )
    op.create_table(
        "charging_device_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charge_point_id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("generated_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charging_charge_point.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("charging_device_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charging_device_event_charge_point_id"), ["charge_point_id"], unique=False
        )

    op.create_table(
        "charging_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charge_point_id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("transaction_ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("meter_start_wh", sa.BigInteger(), nullable=False),
        sa.Column("meter_start_known", sa.Boolean(), nullable=False),
        sa.Column("last_register_wh", sa.BigInteger(), nullable=False),
        sa.Column("energy_wh", sa.BigInteger(), nullable=False),
        sa.Column("started_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_reading_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", mobility.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("flag_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("last_seq_no", sa.Integer(), nullable=True),
        sa.Column("missing_seq_nos", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charging_charge_point.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("charge_point_id", "transaction_ref"),
    )
    with op.batch_alter_table("charging_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charging_session_charge_point_id"), ["charge_point_id"], unique=False
        )

    op.create_table(
        "ledger_approval",
        sa.Column("parent_id", sa.LargeBinary(), nullable=False),
        sa.Column("child_id", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["ledger_block.block_id"],
        ),
        sa.PrimaryKeyConstraint("parent_id", "child_id"),
    )
    op.create_table(
        "ledger_milestone",
        sa.Column("milestone_index", sa.BigInteger(), nullable=False),
        sa.Column("milestone_id", sa.LargeBinary(), nullable=False),
        sa.Column("block_id", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("inclusion_merkle_root", sa.LargeBinary(), nullable=False),
        sa.Column("applied_merkle_root", sa.LargeBinary(), nullable=False),
        sa.Column("referenced_count", sa.Integer(), nullable=False),
        sa.Column("applied_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["ledger_block.block_id"],
        ),
        sa.PrimaryKeyConstraint("milestone_index"),
        sa.UniqueConstraint("milestone_id"),
    )
    op.create_table(
        "ledger_spend",
        sa.Column("output_id", sa.LargeBinary(), nullable=False),
        sa.Column("transaction_id", sa.LargeBinary(), nullable=False),
        sa.Column("milestone_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["output_id"],
            ["ledger_output.output_id"],
        ),
        sa.PrimaryKeyConstraint("output_id"),
    )
    with op.batch_alter_table("ledger_spend", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_spend_transaction_id"), ["transaction_id"], unique=False)

    op.create_table(
        "payment_channel",
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payer_address", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("deposit", sa.BigInteger(), nullable=False),
        sa.Column("claimed", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("voucher_nonce", sa.BigInteger(), nullable=False),
        sa.Column("voucher", sa.LargeBinary(), nullable=True),
        sa.Column("expiry", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["payment_account.id"],
        ),
        sa.PrimaryKeyConstraint("channel_id"),
    )
    with op.batch_alter_table("payment_channel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_channel_account_id"), ["account_id"], unique=False)

    op.create_table(
        "payment_id_token",
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["payment_account.id"],
        ),
        sa.PrimaryKeyConstraint("token"),
    )
    with op.batch_alter_table("payment_id_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_id_token_account_id"), ["account_id"], unique=False)

    op.create_table(
        "charging_meter_reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charge_point_id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("register_wh", sa.BigInteger(), nullable=False),
        sa.Column("context", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("taken_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charging_charge_point.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["charging_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("charging_meter_reading", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charging_meter_reading_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "payment_settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("voucher_nonce", sa.BigInteger(), nullable=False),
        sa.Column("close", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("block_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("block", sa.LargeBinary(), nullable=True),
        sa.Column("milestone_index", sa.Integer(), nullable=True),
        sa.Column("proof", sa.Text(), nullable=True),
        sa.Column("failure", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", mobility.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["payment_channel.channel_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment_settlement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_settlement_channel_id"), ["channel_id"], unique=False)

    op.create_table(
        "payment_session",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("charge_point_id", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("transaction_ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tariff_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("tariff_version", sa.Integer(), nullable=False),
        sa.Column("started_at", mobility.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("billed", sa.BigInteger(), nullable=False),
        sa.Column("energy_wh", sa.BigInteger(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("shortfall", sa.BigInteger(), nullable=False),
        sa.Column("enforcement", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("ended_at", mobility.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("settlement_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["payment_channel.channel_id"],
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["payment_settlement.id"],
        ),
        sa.PrimaryKeyConstraint("session_id"),
    )
    with op.batch_alter_table("payment_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_session_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_session_settlement_id"), ["settlement_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_session_settlement_id"))
        batch_op.drop_index(batch_op.f("ix_payment_session_channel_id"))

    op.drop_table("payment_session")
    with op.batch_alter_table("payment_settlement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_settlement_channel_id"))

    op.drop_table("payment_settlement")
    with op.batch_alter_table("charging_meter_reading", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charging_meter_reading_session_id"))

    op.drop_table("charging_meter_reading")
    with op.batch_alter_table("payment_id_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_id_token_account_id"))

    op.drop_table("payment_id_token")
    with op.batch_alter_table("payment_channel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_channel_account_id"))

    op.drop_table("payment_channel")
    with op.batch_alter_table("ledger_spend", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_spend_transaction_id"))

    op.drop_table("ledger_spend")
    op.drop_table("ledger_milestone")
    op.drop_table("ledger_approval")
    with op.batch_alter_table("charging_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charging_session_charge_point_id"))

    op.drop_table("charging_session")
    with op.batch_alter_table("charging_device_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charging_device_event_charge_point_id"))

    op.drop_table("charging_device_event")
    op.drop_table("charging_connector")
    op.drop_table("payment_tariff")
    op.drop_table("payment_account")
    with op.batch_alter_table("ledger_output", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_output_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_output_channel_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_output_address"))

    op.drop_table("ledger_output")
    with op.batch_alter_table("ledger_block", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_block_solid"))
        batch_op.drop_index(batch_op.f("ix_ledger_block_milestone_index"))
        batch_op.drop_index(batch_op.f("ix_ledger_block_carries_milestone"))

    op.drop_table("ledger_block")
    with op.batch_alter_table("charging_message_log", schema=None) as batch_op:
        batch_op.drop_index("ix_charging_message_log_cp_id")

    op.drop_table("charging_message_log")
    op.drop_table("charging_charge_point")
