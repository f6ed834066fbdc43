"""What an operator manages on a charge point beyond sessions, as stored by the OCPP blocks of
`ocpp_server/management`: the device model (2.x variables, 1.6 configuration keys), reports a
charger sends (security events, charging limits, customer information, ...), firmware updates
and log uploads with their status.

Foreign keys name `charging_charge_point`: a charge point's management rows go with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from mobility.db import UTCDateTime

CP_ID = "charging_charge_point.id"


@dataclass(frozen=True, slots=True)
class DeviceVariable:
    """One attribute of a device-model variable as a charger reported it (a 1.6 configuration key
    is a variable of component "")."""

    component: str
    variable: str
    value: str | None
    attribute_type: str = "Actual"
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str | None = None
    mutability: str | None = None
    data_type: str | None = None
    unit: str | None = None

    @property
    def key(self) -> str:
        """Its unique name on the charger: `Component[instance]@evse.connector/Variable[instance]`,
        with `#Type` for attributes other than Actual; a 1.6 key is its bare name."""
        if not self.component:
            return self.variable
        component = self.component + (f"[{self.component_instance}]" if self.component_instance else "")
        if self.evse_id is not None:
            component += f"@{self.evse_id}" + (
                f".{self.connector_id}" if self.connector_id is not None else ""
            )
        variable = self.variable + (f"[{self.variable_instance}]" if self.variable_instance else "")
        kind = "" if self.attribute_type == "Actual" else f"#{self.attribute_type}"
        return f"{component}/{variable}{kind}"


class UploadOutcome(StrEnum):
    """What became of a file a charger uploaded."""

    STORED = "stored"
    UNKNOWN = "unknown"  # no request holds this token
    EXPIRED = "expired"
    ALREADY = "already"  # a file came for this request already


class DeviceVariableRecord(SQLModel, table=True):
    """One attribute of one variable of the charger's device model, as it last reported it.

    `key` names it uniquely per charger (`Component[instance]@evse.connector/Variable[instance]`
    plus `#type` for non-Actual attributes; a 1.6 configuration key is its bare name), so a
    NotifyReport, GetVariables or GetConfiguration answer upserts on it.
    """

    __tablename__ = "charging_device_variable"
    __table_args__ = (UniqueConstraint("charge_point_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key=CP_ID, max_length=48)
    key: str = Field(max_length=300)
    component: str = Field(max_length=50)  # "" for a 1.6 configuration key
    component_instance: str | None = Field(default=None, max_length=50)
    evse_id: int | None = None
    connector_id: int | None = None
    variable: str = Field(max_length=50)
    variable_instance: str | None = Field(default=None, max_length=50)
    attribute_type: str = Field(default="Actual", max_length=16)
    value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    mutability: str | None = Field(default=None, max_length=16)  # ReadOnly, WriteOnly, ReadWrite
    data_type: str | None = Field(default=None, max_length=20)
    unit: str | None = Field(default=None, max_length=16)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ChargerReportRecord(SQLModel, table=True):
    """A message a charger sent that the engine keeps for the operator (security events, charging
    limits, customer information, firmware and log status, DataTransfer, ...): its action, the
    status and request ID it carried if any, and its payload as sent (camelCase JSON)."""

    __tablename__ = "charging_charger_report"
    __table_args__ = (Index("ix_charging_charger_report_cp_action", "charge_point_id", "action", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key=CP_ID, max_length=48)
    action: str = Field(max_length=64)
    status: str | None = Field(default=None, max_length=64)
    request_id: int | None = None
    received_at: datetime = Field(sa_type=UTCDateTime)
    payload: str = Field(sa_column=Column(Text, nullable=False))


class FirmwareUpdateRecord(SQLModel, table=True):
    """An UpdateFirmware sent to a charger; its ID is the OCPP requestId, `status` the last
    FirmwareStatusNotification about it ("Requested" until the first)."""

    __tablename__ = "charging_firmware_update"

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key=CP_ID, index=True, max_length=48)
    location: str = Field(sa_column=Column(Text, nullable=False))
    retrieve_at: datetime = Field(sa_type=UTCDateTime)
    install_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signed: bool = False
    status: str = Field(max_length=64)
    status_at: datetime = Field(sa_type=UTCDateTime)
    requested_at: datetime = Field(sa_type=UTCDateTime)


class LogUploadRecord(SQLModel, table=True):
    """A diagnostics (1.6 GetDiagnostics) or log (GetLog) request; its ID is the OCPP requestId.

    The charger uploads to the engine's URL holding a random token, of which only the SHA-256 is
    kept (`token_hash`); the file lands in `content`, bounded in size by the upload route.
    """

    __tablename__ = "charging_log_upload"

    id: int | None = Field(default=None, primary_key=True)
    charge_point_id: str = Field(foreign_key=CP_ID, index=True, max_length=48)
    kind: str = Field(max_length=16)  # "diagnostics" (1.6) or "log" (GetLog)
    log_type: str | None = Field(default=None, max_length=32)  # DiagnosticsLog, SecurityLog
    token_hash: str = Field(max_length=64, unique=True)
    status: str = Field(max_length=64)  # "Requested", then what the charger reports
    status_at: datetime = Field(sa_type=UTCDateTime)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    file_name: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=100)
    size: int | None = None
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    uploaded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
