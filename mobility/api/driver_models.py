"""Response bodies of the driver routes, built from the engine's records (what a payer sends is
`mobility.wire.payer_api`). Money in micro-units, energy in Wh."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mobility.api.schemas import ConnectorOut
from mobility.payments.accounts import ChannelBalance
from mobility.payments.models import SessionPaymentRecord
from mobility.payments.tariff import Tariff


class ChargerOut(BaseModel):
    """A charge point near the driver."""

    charge_point_id: str
    site: str | None
    latitude: float
    longitude: float
    distance_km: float
    online: bool
    connectors: list[ConnectorOut]
    tariff: Tariff | None


class ChannelOut(BaseModel):
    """A registered channel and its balance."""

    channel_id: str
    deposit: int
    paid: int = Field(description="the best voucher's cumulative amount")
    claimed: int = Field(description="claimed by the operator on the ledger")
    owed: int = Field(description="billed on this channel so far")
    owed_running: int = Field(description="billed so far by sessions still running")
    available: int = Field(description="what new sessions can draw on")
    voucher_nonce: int
    expiry: datetime
    state: str = Field(description="open, closing or closed")
    settlement_status: str | None

    @classmethod
    def of(cls, balance: ChannelBalance) -> ChannelOut:
        record = balance.record
        return cls(
            channel_id=record.channel_id,
            deposit=record.deposit,
            paid=record.paid,
            claimed=record.claimed,
            owed=balance.owed,
            owed_running=balance.owed_running,
            available=balance.available,
            voucher_nonce=record.voucher_nonce,
            expiry=record.expiry,
            state=balance.state,
            settlement_status=balance.settlement_status,
        )


class CommandOut(BaseModel):
    """The charge point's answer to a command."""

    status: str
    payload: dict[str, Any]


class StartOut(BaseModel):
    """The remote start was accepted: the session appears on the stream once it begins."""

    charge_point_id: str
    connector_id: int
    channel_id: str
    id_token: str
    command: CommandOut


class StopOut(BaseModel):
    """The remote stop was sent; the session ends when the charger reports it."""

    session_id: int
    command: CommandOut


class SessionOut(BaseModel):
    """A session paid from one of the driver's channels."""

    session_id: int
    charge_point_id: str
    connector_id: int
    channel_id: str
    tariff_id: str
    tariff_version: int
    status: str = Field(description="active, paid or unpaid")
    energy_wh: int
    billed: int
    paid: int = Field(description="what the vouchers covered of the bill, once ended; 0 while active")
    shortfall: int
    enforcement: str | None
    started_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, record: SessionPaymentRecord) -> SessionOut:
        return cls(
            session_id=record.session_id,
            charge_point_id=record.charge_point_id,
            connector_id=record.connector_id,
            channel_id=record.channel_id,
            tariff_id=record.tariff_id,
            tariff_version=record.tariff_version,
            status=record.status,
            energy_wh=record.energy_wh,
            billed=record.billed,
            # Known once the session ends (the shortfall is set then), as on the other routes.
            paid=record.billed - record.shortfall if record.status in ("paid", "unpaid") else 0,
            shortfall=record.shortfall,
            enforcement=record.enforcement,
            started_at=record.started_at,
            ended_at=record.ended_at,
        )
