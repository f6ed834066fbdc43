"""Tables of the API layer: operators (tenants owning charge points), API keys for operators
and fleets, drivers' public keys, which operator owns a tariff, and the commands operators sent.
`ApiStore` and `OperatorStore` write them.

Charge points carry their operator, site, location and tariff in `charging_charge_point`
(written by `ChargingStore`); fleets' vehicles, payer keys and token assignments are in
`mobility.fleet.models`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from mobility.db import UTCDateTime


class OperatorRecord(SQLModel, table=True):
    """A charge-point operator: a tenant of the operator API."""

    __tablename__ = "api_operator"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(default="", max_length=200)


class ApiKeyRecord(SQLModel, table=True):
    """An operator's or fleet's API key. Only a SHA-256 of the (random, 256-bit) secret is kept."""

    __tablename__ = "api_key"

    key_id: str = Field(primary_key=True, max_length=32)
    secret_sha256: str = Field(max_length=64)
    role: str = Field(max_length=16)  # "operator" or "fleet"
    tenant_id: str = Field(index=True, max_length=64)  # operator ID, or the fleet's account ID
    scopes: str = Field(default="", max_length=500)  # space-separated
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked: bool = False


class DriverKeyRecord(SQLModel, table=True):
    """A driver's Ed25519 public key: the driver logs in by signing a server challenge."""

    __tablename__ = "api_driver_key"

    public_key: str = Field(primary_key=True, max_length=64)  # hex
    account_id: str = Field(foreign_key="payment_account.id", unique=True, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class OperatorTariffRecord(SQLModel, table=True):
    """Which operator a tariff ID (all its versions) belongs to: whoever created version 1.

    A table of its own, so the payment layer's tariff versions stay as they are and a tariff ID
    is claimed once, by its primary key, even when two operators race for it.
    """

    __tablename__ = "api_operator_tariff"

    tariff_id: str = Field(primary_key=True, max_length=36)
    operator_id: str = Field(index=True, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ChargerCommandRecord(SQLModel, table=True):
    """A command an operator sent to a charge point, and how the charger answered.

    Written before the command goes out (`outcome` "pending") and completed after, so a
    command whose answer never came (the process stopped) still shows.
    """

    __tablename__ = "api_charger_command"
    __table_args__ = (Index("ix_api_charger_command_cp_id", "charge_point_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key="charging_charge_point.id", max_length=48)
    operator_id: str = Field(max_length=64)
    command: str = Field(max_length=32)
    request: str = Field(sa_type=Text)  # the command body as JSON
    outcome: str = Field(default="pending", max_length=16)  # pending, answered, error, timeout, lost
    status: str | None = Field(default=None, max_length=32)  # the charger's status
    response: str | None = Field(default=None, sa_type=Text)  # the charger's payload as JSON
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
