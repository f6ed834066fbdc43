"""Version-neutral charging events: what every OCPP version is translated into.

The adapters in `ocpp_server` emit these; `mobility.charging` persists them and fans them out
to subscribers (in the engine, the payment layer). Energy is an integer in Wh, times are UTC-aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EndReason(StrEnum):
    """Why a session ended, merged over the 1.6 `Reason` and 2.x `stoppedReason` enums."""

    LOCAL = "Local"
    REMOTE = "Remote"
    EV_DISCONNECTED = "EVDisconnected"
    POWER_LOSS = "PowerLoss"
    REBOOT = "Reboot"
    DE_AUTHORIZED = "DeAuthorized"
    EMERGENCY_STOP = "EmergencyStop"
    OTHER = "Other"

    @classmethod
    def parse(cls, value: str | None) -> EndReason:
        """The matching reason; unknown or missing values become OTHER (1.6 defaults to Local)."""
        if value is None:
            return cls.LOCAL
        for member in cls:
            if member.value.lower() == value.lower():
                return member
        return cls.OTHER


@dataclass(frozen=True, slots=True)
class ChargePointOnline:
    """A charge point completed the websocket handshake."""

    charge_point_id: str
    protocol: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ChargePointOffline:
    """A charge point's connection closed (or was replaced by a newer one)."""

    charge_point_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ConnectorStatusChanged:
    """A connector reported a status; connector 0 is the charge point as a whole."""

    charge_point_id: str
    connector_id: int
    status: str
    error_code: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """A charging session began. `transaction_ref` is the charger's (2.x) or our (1.6) ID."""

    session_id: int
    charge_point_id: str
    connector_id: int
    transaction_ref: str
    id_token: str | None
    meter_start_wh: int
    at: datetime


@dataclass(frozen=True, slots=True)
class MeterReading:
    """A reading of the cumulative import register, in Wh.

    `session_id` is None when the reading could not be attached to a session (a connector
    reading). `energy_wh` is the session's billable energy after this reading.
    """

    charge_point_id: str
    connector_id: int
    session_id: int | None
    register_wh: int
    energy_wh: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """A session ended; `energy_wh` is final. `flagged` sessions need an operator's look."""

    session_id: int
    charge_point_id: str
    connector_id: int
    transaction_ref: str
    energy_wh: int
    reason: EndReason
    flagged: bool
    at: datetime


ChargingEvent = (
    ChargePointOnline
    | ChargePointOffline
    | ConnectorStatusChanged
    | SessionStarted
    | MeterReading
    | SessionEnded
)
