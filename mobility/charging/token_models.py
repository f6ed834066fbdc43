"""Tables of three OCPP functional blocks: the operator's ID tokens (authorization and the
local list built from them), reservations, and the local list version each charger holds.

Each has one owner that writes it: `id_tokens.SqlIdTokens`, `reservations.SqlReservations`,
`local_list.SqlLocalLists`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from mobility.db import UTCDateTime


class OperatorIdTokenRecord(SQLModel, table=True):
    """An ID token an operator manages, with its OCPP status; honoured at that operator's
    charge points before any other authorization source. `id_token` is stored upper-case
    (RFID UIDs are compared case-insensitively)."""

    __tablename__ = "charging_operator_id_token"

    operator_id: str = Field(primary_key=True, max_length=64)
    id_token: str = Field(primary_key=True, max_length=36)
    status: str = Field(max_length=16)  # Accepted, Blocked, Expired, Invalid
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    token_type: str = Field(default="ISO14443", max_length=20)  # 2.x IdTokenEnumType
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ReservationRecord(SQLModel, table=True):
    """A connector held for one ID token until `expires_at`. The row's ID is the OCPP
    reservationId. `status`: requested (sent, no answer yet), active (the charger accepted),
    refused (see `charger_status`), cancelled, used (`session_id`), expired, removed."""

    __tablename__ = "charging_reservation"
    __table_args__ = (Index("ix_charging_reservation_cp_connector", "charge_point_id", "connector_id"),)

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charging_charge_point.id", max_length=48)
    connector_id: int
    id_token: str = Field(max_length=36)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=16)
    charger_status: str | None = Field(default=None, max_length=32)
    session_id: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class LocalListRecord(SQLModel, table=True):
    """The local authorization list version a charge point last accepted, and its size."""

    __tablename__ = "charging_local_list"

    charge_point_id: str = Field(foreign_key="charging_charge_point.id", primary_key=True, max_length=48)
    version: int
    entries: int
    sent_at: datetime = Field(sa_type=UTCDateTime)


TOKEN_TABLE_NAMES = ("charging_operator_id_token", "charging_reservation", "charging_local_list")
