"""Firmware: UpdateFirmware (1.6, 1.6 security extension's SignedUpdateFirmware, 2.x with its
signing certificate and signature) and the FirmwareStatusNotifications that follow.

Each update is stored before it is asked for; its ID is the requestId, so a 2.x (or signed
1.6) status finds its update, and a plain 1.6 status, which names none, goes to the latest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mobility.charging.timeutil import format_timestamp
from ocpp_server._ocpp import call16, on, result16
from ocpp_server.commands import CommandResult
from ocpp_server.management.block import Block, NotOnThisVersionError

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FirmwareRequest:
    """Where the firmware is and when to fetch and install it; signed if both signing fields
    are given (a 2.x charger also takes either alone)."""

    location: str
    retrieve_at: datetime
    install_at: datetime | None = None
    retries: int | None = None
    retry_interval_s: int | None = None
    signing_certificate: str | None = None
    signature: str | None = None

    @property
    def signed(self) -> bool:
        """Carries signing fields."""
        return self.signing_certificate is not None or self.signature is not None

    def firmware(self) -> dict[str, Any]:
        """The 2.x / signed 1.6 `firmware` object (snake_case)."""
        firmware: dict[str, Any] = {
            "location": self.location,
            "retrieve_date_time": format_timestamp(self.retrieve_at),
        }
        if self.install_at is not None:
            firmware["install_date_time"] = format_timestamp(self.install_at)
        if self.signing_certificate is not None:
            firmware["signing_certificate"] = self.signing_certificate
        if self.signature is not None:
            firmware["signature"] = self.signature
        return firmware


class _Firmware(Block):
    async def _begin(self, request: FirmwareRequest) -> int:
        return await self.stored(
            self.management.store.begin_firmware_update,
            self.id,
            request.location,
            request.retrieve_at,
            request.install_at,
            request.signed,
            self.service.clock(),
        )

    async def _status(
        self, action: str, payload: dict[str, Any], status: str, request_id: int | None
    ) -> None:
        await self.keep(action, payload, status, request_id)
        found = await self.stored(
            self.management.store.firmware_status, self.id, request_id, status, self.service.clock()
        )
        if not found and status != "Idle":
            # Kept as a report all the same: an update asked for by someone else, or a triggered
            # status before any update.
            LOGGER.info(
                "%s: firmware status %s for no update of ours (request %s)", self.id, status, request_id
            )


class Firmware16(_Firmware):
    """1.6 UpdateFirmware, SignedUpdateFirmware and their status notifications."""

    async def update_firmware(self, request: FirmwareRequest) -> CommandResult:
        """UpdateFirmware, or SignedUpdateFirmware when signing fields are given (both needed)."""
        if request.signed and (request.signing_certificate is None or request.signature is None):
            raise NotOnThisVersionError("a signed 1.6 update needs both signing_certificate and signature")
        request_id = await self._begin(request)
        if request.signed:
            command = call16.SignedUpdateFirmware(
                request_id=request_id,
                firmware=request.firmware(),
                retries=request.retries,
                retry_interval=request.retry_interval_s,
            )
        else:
            if request.install_at is not None:
                raise NotOnThisVersionError("1.6 UpdateFirmware has no install date")
            command = call16.UpdateFirmware(
                location=request.location,
                retrieve_date=format_timestamp(request.retrieve_at),
                retries=request.retries,
                retry_interval=request.retry_interval_s,
            )
        result = await self.send_command(command)
        # A plain UpdateFirmware's answer is empty: the charger took the request.
        return CommandResult(result.status or "Accepted", {**result.payload, "request_id": request_id})

    @on("FirmwareStatusNotification")
    async def on_firmware_status_notification(self, status: str, **payload: Any) -> Any:
        await self._status("FirmwareStatusNotification", {"status": status, **payload}, status, None)
        return result16.FirmwareStatusNotification()

    @on("SignedFirmwareStatusNotification")
    async def on_signed_firmware_status_notification(
        self, status: str, request_id: int | None = None, **payload: Any
    ) -> Any:
        body = {"status": status, "request_id": request_id, **payload}
        await self._status("SignedFirmwareStatusNotification", body, status, request_id)
        return result16.SignedFirmwareStatusNotification()


class Firmware2x(_Firmware):
    """2.x UpdateFirmware (signed fields optional) and firmware status, including the local
    controller's PublishFirmwareStatusNotification (kept as a report)."""

    if TYPE_CHECKING:
        _call: Any
        _call_result: Any

    async def update_firmware(self, request: FirmwareRequest) -> CommandResult:
        """UpdateFirmware with this update's requestId."""
        request_id = await self._begin(request)
        command = self._call.UpdateFirmware(
            request_id=request_id,
            firmware=request.firmware(),
            retries=request.retries,
            retry_interval=request.retry_interval_s,
        )
        result = await self.send_command(command)
        return CommandResult(result.status, {**result.payload, "request_id": request_id})

    @on("FirmwareStatusNotification")
    async def on_firmware_status_notification(
        self, status: str, request_id: int | None = None, **payload: Any
    ) -> Any:
        body = {"status": status, "request_id": request_id, **payload}
        await self._status("FirmwareStatusNotification", body, status, request_id)
        return self._call_result.FirmwareStatusNotification()

    @on("PublishFirmwareStatusNotification")
    async def on_publish_firmware_status_notification(
        self, status: str, request_id: int | None = None, **payload: Any
    ) -> Any:
        body = {"status": status, "request_id": request_id, **payload}
        await self.keep("PublishFirmwareStatusNotification", body, status, request_id)
        return self._call_result.PublishFirmwareStatusNotification()
