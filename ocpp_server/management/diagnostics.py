"""Diagnostics and logs: 1.6 GetDiagnostics, GetLog (2.x, and 1.6's security extension), and
the Diagnostics/LogStatusNotifications that follow.

Each request is stored before it goes out with the SHA-256 of a fresh random token; the
charger is told to upload to the engine's upload URL ending in that token, which the upload
route (`mobility/api/ocpp_uploads.py`) checks, once, before the token expires. The request's
ID is the OCPP requestId; a 1.6 DiagnosticsStatusNotification, which names none, goes to the
charger's latest diagnostics request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mobility.charging.timeutil import format_timestamp
from ocpp_server._ocpp import call16, on, result16
from ocpp_server.commands import CommandResult
from ocpp_server.management.block import Block, NotOnThisVersionError

LOG_TYPES = ("DiagnosticsLog", "SecurityLog")


def token_hash(token: str) -> str:
    """What the engine keeps of an upload token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LogRequest:
    """Which log, of which period, and how hard the charger should try to upload it."""

    log_type: str = "DiagnosticsLog"
    oldest: datetime | None = None
    latest: datetime | None = None
    retries: int | None = None
    retry_interval_s: int | None = None


class _Logs(Block):
    if TYPE_CHECKING:
        _call: Any
        _call_result: Any

    async def _slot(self, kind: str, log_type: str | None) -> tuple[int, str]:
        """A stored request and the URL the charger uploads its file to."""
        base = self.management.upload_base_url
        if base is None:
            raise NotOnThisVersionError("this engine has no upload URL for chargers (its API is not running)")
        token = secrets.token_urlsafe(32)
        now = self.service.clock()
        request_id = await self.stored(
            self.management.store.begin_log_upload,
            self.id,
            kind,
            log_type,
            token_hash(token),
            now,
            now + self.management.upload_ttl,
        )
        return request_id, base + token

    async def _get_log(self, request: LogRequest, call: Any) -> CommandResult:
        if request.log_type not in LOG_TYPES:
            raise NotOnThisVersionError(f"log_type is one of {', '.join(LOG_TYPES)}")
        request_id, location = await self._slot("log", request.log_type)
        log: dict[str, Any] = {"remote_location": location}
        if request.oldest is not None:
            log["oldest_timestamp"] = format_timestamp(request.oldest)
        if request.latest is not None:
            log["latest_timestamp"] = format_timestamp(request.latest)
        result = await self.send_command(
            call.GetLog(
                log=log,
                log_type=request.log_type,
                request_id=request_id,
                retries=request.retries,
                retry_interval=request.retry_interval_s,
            )
        )
        return CommandResult(result.status, {**result.payload, "request_id": request_id})

    async def _log_status(
        self, action: str, kind: str, status: str, request_id: int | None, payload: Any
    ) -> None:
        await self.keep(action, {"status": status, "request_id": request_id, **payload}, status, request_id)
        await self.stored(
            self.management.store.log_status, self.id, request_id, kind, status, self.service.clock()
        )


class Diagnostics16(_Logs):
    """1.6 GetDiagnostics, and the security extension's GetLog."""

    async def get_diagnostics(self, request: LogRequest) -> CommandResult:
        """GetDiagnostics; the answer's `file_name` is what the charger will upload (none: no
        diagnostics available)."""
        if request.log_type != "DiagnosticsLog":
            raise NotOnThisVersionError("1.6 GetDiagnostics has no log type: use get_log")
        request_id, location = await self._slot("diagnostics", None)
        result = await self.send_command(
            call16.GetDiagnostics(
                location=location,
                retries=request.retries,
                retry_interval=request.retry_interval_s,
                start_time=format_timestamp(request.oldest) if request.oldest else None,
                stop_time=format_timestamp(request.latest) if request.latest else None,
            )
        )
        status = "Accepted" if result.payload.get("file_name") else "NoDiagnosticsAvailable"
        return CommandResult(status, {**result.payload, "request_id": request_id})

    async def get_log(self, request: LogRequest) -> CommandResult:
        """GetLog (1.6 security extension)."""
        return await self._get_log(request, call16)

    @on("DiagnosticsStatusNotification")
    async def on_diagnostics_status_notification(self, status: str, **payload: Any) -> Any:
        await self._log_status("DiagnosticsStatusNotification", "diagnostics", status, None, payload)
        return result16.DiagnosticsStatusNotification()

    @on("LogStatusNotification")
    async def on_log_status_notification(
        self, status: str, request_id: int | None = None, **payload: Any
    ) -> Any:
        await self._log_status("LogStatusNotification", "log", status, request_id, payload)
        return result16.LogStatusNotification()


class Diagnostics2x(_Logs):
    """2.x GetLog."""

    async def get_diagnostics(self, request: LogRequest) -> CommandResult:
        """1.6 only: 2.x asks for a DiagnosticsLog with GetLog."""
        raise NotOnThisVersionError("GetDiagnostics is OCPP 1.6: use get_log (DiagnosticsLog)")

    async def get_log(self, request: LogRequest) -> CommandResult:
        """GetLog."""
        return await self._get_log(request, self._call)

    @on("LogStatusNotification")
    async def on_log_status_notification(
        self, status: str, request_id: int | None = None, **payload: Any
    ) -> Any:
        await self._log_status("LogStatusNotification", "log", status, request_id, payload)
        return self._call_result.LogStatusNotification()
