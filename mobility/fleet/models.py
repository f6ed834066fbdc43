"""Tables of fleets: their vehicles, the payer keys they proved they hold, and each
registration of one of their id tokens to a vehicle and driver (what sessions are attributed
to). `FleetStore` writes them; the tables come from the migrations.

A fleet's id tokens themselves are the payment layer's (`payment_id_token`, with the vehicle
and driver they carry now).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from mobility.db import UTCDateTime


class VehicleRecord(SQLModel, table=True):
    """A vehicle of a fleet; its id tokens point at it (`payment_id_token.vehicle_id`)."""

    __tablename__ = "fleet_vehicle"

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(foreign_key="payment_account.id", index=True, max_length=64)
    label: str = Field(default="", max_length=200)


class FleetPayerKeyRecord(SQLModel, table=True):
    """An Ed25519 key a fleet proved it holds (by signing its account ID): the fleet's channels
    must pay from one of these keys' addresses. A key belongs to at most one account."""

    __tablename__ = "fleet_payer_key"

    public_key: str = Field(primary_key=True, max_length=64)  # hex
    account_id: str = Field(foreign_key="payment_account.id", index=True, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class TokenAssignmentRecord(SQLModel, table=True):
    """Who drove with a fleet's id token from `valid_from` on: one row each time the token is
    registered to a vehicle and driver. A session is attributed to the assignment in force when
    it started, so registering a token again does not rewrite who charged before."""

    __tablename__ = "fleet_token_assignment"
    __table_args__ = (Index("ix_fleet_token_assignment_token", "token", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64)  # upper-case, as `payment_id_token.token`
    account_id: str = Field(foreign_key="payment_account.id", max_length=64)
    vehicle_id: str = Field(max_length=64)
    driver_name: str = Field(max_length=200)
    valid_from: datetime = Field(sa_type=UTCDateTime)
