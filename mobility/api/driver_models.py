"""Response bodies of the driver routes that the engine builds from its records. Their shapes
are `mobility.wire.payer_api`'s, shared with the SDK; here they gain the constructors that read
the payment layer's rows. Money in micro-units, energy in Wh."""

from __future__ import annotations

from pydantic import BaseModel

from mobility.api.schemas import ConnectorOut
from mobility.payments.accounts import ChannelBalance
from mobility.payments.models import SessionPaymentRecord
from mobility.payments.tariff import Tariff
from mobility.wire import payer_api


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


class ChannelOut(payer_api.ChannelOut):
    """A registered channel and its balance, from the payment layer's records."""

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


class SessionOut(payer_api.SessionOut):
    """A session paid from one of the driver's channels, from the payment layer's records."""

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
