"""The repositories the OCPP management blocks store through, as interfaces.

The blocks (`configuration`, `firmware`, `diagnostics`, `reporting`, `data_transfer`) only
see these protocols; `mobility/charging/management_store.py` implements them on the engine's
database. Every method blocks: the blocks call them in a worker thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from mobility.charging.management_models import (
    ChargerReportRecord,
    DeviceVariable,
    DeviceVariableRecord,
    FirmwareUpdateRecord,
    LogUploadRecord,
    UploadOutcome,
)

__all__ = ["DeviceVariable", "ManagementStore", "UploadOutcome"]


class DeviceModelStore(Protocol):
    """A charger's device model: what it last reported of each variable."""

    def save_variables(self, charge_point_id: str, variables: list[DeviceVariable], at: datetime) -> None:
        """Insert or update each variable (by its key)."""
        ...

    def variables(
        self, charge_point_id: str, component: str | None, offset: int, limit: int
    ) -> tuple[list[DeviceVariableRecord], int]:
        """A page of the model by key, optionally of one component, and the total."""
        ...


class ReportStore(Protocol):
    """Messages a charger sent that the operator may want to read later."""

    def add_report(
        self,
        charge_point_id: str,
        action: str,
        status: str | None,
        request_id: int | None,
        payload: str,
        at: datetime,
    ) -> None:
        """Keep one (payload as sent, camelCase JSON)."""
        ...

    def reports(
        self, charge_point_id: str, action: str | None, offset: int, limit: int
    ) -> tuple[list[ChargerReportRecord], int]:
        """A page of them, newest first, optionally of one action, and the total."""
        ...


class FirmwareStore(Protocol):
    """Firmware updates asked of chargers and how they went."""

    def begin_firmware_update(
        self,
        charge_point_id: str,
        location: str,
        retrieve_at: datetime,
        install_at: datetime | None,
        signed: bool,
        at: datetime,
    ) -> int:
        """Record an update about to be asked for; its ID is the OCPP requestId."""
        ...

    def firmware_status(
        self, charge_point_id: str, request_id: int | None, status: str, at: datetime
    ) -> bool:
        """Apply a FirmwareStatusNotification to its update (None: the charger's latest, as 1.6
        names none); False if there is no such update."""
        ...

    def firmware_updates(
        self, charge_point_id: str, offset: int, limit: int
    ) -> tuple[list[FirmwareUpdateRecord], int]:
        """A page of the charger's updates, newest first, and the total."""
        ...


class LogUploadStore(Protocol):
    """Diagnostics and log requests, their status, and the files uploaded for them."""

    def begin_log_upload(
        self,
        charge_point_id: str,
        kind: str,
        log_type: str | None,
        token_hash: str,
        at: datetime,
        expires_at: datetime,
    ) -> int:
        """Record a request about to go out; its ID is the OCPP requestId."""
        ...

    def log_status(
        self, charge_point_id: str, request_id: int | None, kind: str, status: str, at: datetime
    ) -> bool:
        """Apply a Diagnostics/LogStatusNotification (None: the charger's latest of `kind`)."""
        ...

    def receive_log_file(
        self, token_hash: str, file_name: str, content_type: str, content: bytes, at: datetime
    ) -> UploadOutcome:
        """Keep the file uploaded with this token, once, before the token expires."""
        ...

    def log_uploads(self, charge_point_id: str, offset: int, limit: int) -> tuple[list[LogUploadRecord], int]:
        """A page of the charger's requests (without file contents), newest first, and the total."""
        ...

    def log_file(self, charge_point_id: str, upload_id: int) -> LogUploadRecord | None:
        """One request with its file."""
        ...


class ManagementStore(DeviceModelStore, ReportStore, FirmwareStore, LogUploadStore, Protocol):
    """Every repository the blocks use (one database implements them all)."""
