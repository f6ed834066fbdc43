"""Persistent state of the charging side: charge points, connectors, sessions, readings, raw log.

The tables come from the Alembic migrations (`migrations/`), never from these classes.
Energy is integer Wh; times are UTC-aware (`UTCDateTime`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from mobility.db import UTCDateTime


class ChargePointRecord(SQLModel, table=True):
    """A registered charge point. `password_hash` None means no Basic auth is required."""

    __tablename__ = "charging_charge_point"

    id: str = Field(primary_key=True, max_length=48)
    password_hash: str | None = Field(default=None, max_length=256)
    enabled: bool = True
    # Registered by connecting (pending unknown chargers): BootNotification answers Pending
    # until an operator registers it, which clears this.
    pending: bool = False
    vendor: str | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=50)
    firmware_version: str | None = Field(default=None, max_length=50)
    protocol: str | None = Field(default=None, max_length=16)
    online: bool = False
    last_seen: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set through the operator API: who runs it, where it stands, what it charges.
    operator_id: str | None = Field(default=None, index=True, max_length=64)
    site: str | None = Field(default=None, max_length=100)
    latitude: float | None = None
    longitude: float | None = None
    tariff_id: str | None = Field(default=None, max_length=36)


class ConnectorRecord(SQLModel, table=True):
    """Last known status of one connector (1.6) or EVSE/connector pair flattened to an EVSE (2.x)."""

    __tablename__ = "charging_connector"

    charge_point_id: str = Field(foreign_key="charging_charge_point.id", primary_key=True, max_length=48)
    connector_id: int = Field(primary_key=True)
    status: str = Field(max_length=32)
    error_code: str | None = Field(default=None, max_length=50)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class SessionRecord(SQLModel, table=True):
    """A charging session. `energy_wh` only ever grows; anomalies set `flagged`, never bill."""

    __tablename__ = "charging_session"
    __table_args__ = (UniqueConstraint("charge_point_id", "transaction_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charging_charge_point.id", index=True, max_length=48)
    connector_id: int
    transaction_ref: str = Field(max_length=64)
    id_token: str | None = Field(default=None, max_length=64)
    meter_start_wh: int = Field(sa_type=BigInteger)
    meter_start_known: bool = True
    last_register_wh: int = Field(sa_type=BigInteger)
    energy_wh: int = Field(default=0, sa_type=BigInteger)
    started_at: datetime = Field(sa_type=UTCDateTime)
    last_reading_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=32)
    flagged: bool = False
    flag_reason: str | None = Field(default=None, max_length=200)
    last_seq_no: int | None = None
    missing_seq_nos: int = 0


class MeterReadingRecord(SQLModel, table=True):
    """One register sample; `session_id` None for connector readings outside a session."""

    __tablename__ = "charging_meter_reading"

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charging_charge_point.id", max_length=48)
    connector_id: int
    session_id: int | None = Field(default=None, foreign_key="charging_session.id", index=True)
    register_wh: int = Field(sa_type=BigInteger)
    context: str | None = Field(default=None, max_length=32)
    taken_at: datetime = Field(sa_type=UTCDateTime)


class DeviceEventRecord(SQLModel, table=True):
    """A charging station's device-model event report (2.x NotifyEvent), kept as JSON."""

    __tablename__ = "charging_device_event"

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charging_charge_point.id", index=True, max_length=48)
    generated_at: datetime = Field(sa_type=UTCDateTime)
    seq_no: int
    events: str = Field(sa_column=Column(Text, nullable=False))


class MessageLogRecord(SQLModel, table=True):
    """A raw OCPP-J frame in or out, kept per charge point up to a bounded count."""

    __tablename__ = "charging_message_log"
    __table_args__ = (Index("ix_charging_message_log_cp_id", "charge_point_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(max_length=48)
    direction: str = Field(max_length=3)
    frame: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_type=UTCDateTime)
