"""What a simulated charge point manages besides sessions: settings (1.6 configuration keys,
2.x device-model variables), firmware updates, diagnostics and log uploads, DataTransfer,
the extra messages TriggerMessage can ask for, and the reports a charger sends (security
events, charging limits, ...).

`ManagedDevice` is the state, kept across connections like a charger's flash; the handler
mixins `Management16` / `Management2x` answer the central system and, once the answer is out
(`@after`), do the work: fetch the firmware over HTTP and report its progress, upload the log
file over HTTP PUT and report that, send a NotifyReport in parts.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from sims.chargers._ocpp import after, call16, call21, call201, on, result16
from sims.chargers.clock import SimClock, format_timestamp, parse_timestamp

LOGGER = logging.getLogger(__name__)
VENDOR_ID = "org.mobility.sims"  # the DataTransfer vendor the simulator answers ("Echo")
REPORT_PART = 4  # variables per NotifyReport part, so a report comes in several


class Station(Protocol):
    """The station as its device sees it."""

    id: str
    clock: SimClock
    heartbeat_interval_s: int

    async def call(self, payload: Any) -> Any:
        """Send a CALL on the current connection and return the answer."""
        ...


@dataclass
class Setting:
    """One setting: its value and whether the central system may change it."""

    value: str
    readonly: bool = False
    data_type: str = "string"


def _settings16(connectors: int) -> dict[str, Setting]:
    return {
        "HeartbeatInterval": Setting("300", data_type="integer"),
        "MeterValueSampleInterval": Setting("60", data_type="integer"),
        "ConnectionTimeOut": Setting("60", data_type="integer"),
        "AuthorizeRemoteTxRequests": Setting("false", data_type="boolean"),
        "NumberOfConnectors": Setting(str(connectors), readonly=True, data_type="integer"),
        "SupportedFeatureProfiles": Setting(
            "Core,FirmwareManagement,RemoteTrigger,SmartCharging", readonly=True, data_type="string"
        ),
    }


def _settings2x(model: str) -> dict[tuple[str, str], Setting]:
    return {
        ("OCPPCommCtrlr", "HeartbeatInterval"): Setting("300", data_type="integer"),
        ("SampledDataCtrlr", "TxUpdatedInterval"): Setting("60", data_type="integer"),
        ("AuthCtrlr", "AuthorizeRemoteStart"): Setting("false", data_type="boolean"),
        ("TxCtrlr", "EVConnectionTimeOut"): Setting("60", data_type="integer"),
        ("ChargingStation", "Model"): Setting(model, readonly=True),
        ("DeviceDataCtrlr", "ItemsPerMessage"): Setting(str(REPORT_PART), readonly=True, data_type="integer"),
    }


@dataclass
class ManagedDevice:
    """A station's settings, firmware and log state."""

    station: Station
    version: str
    connectors: int = 2
    model: str = "SimCharger"
    timeout_s: float = 10.0  # real seconds for an HTTP fetch or upload (the station's response timeout)
    settings16: dict[str, Setting] = field(default_factory=dict)
    settings2x: dict[tuple[str, str], Setting] = field(default_factory=dict)
    firmware_status: str = "Idle"
    firmware_request: int | None = None
    log_status: str = "Idle"
    log_request: int | None = None
    uploads: list[str] = field(default_factory=list)  # where files went, for tests
    answers: list[tuple[str, Any]] = field(default_factory=list)  # (action, answer) of sent reports
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.settings16 = self.settings16 or _settings16(self.connectors)
        self.settings2x = self.settings2x or _settings2x(self.model)

    @property
    def calls(self) -> Any:
        """The library's CALL classes of this version."""
        return {"1.6": call16, "2.0.1": call201, "2.1": call21}[self.version]

    def spawn(self, work: Any) -> None:
        """Run `work` in the background (after an answer went out); failures are logged."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOGGER.warning("%s: background work failed: %r", self.station.id, task.exception())

    async def idle(self) -> None:
        """Until every background job has finished (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def send(self, action: str, **fields: Any) -> Any:
        """Send any charger message of this version (snake_case fields); the answer is kept."""
        answer = await self.station.call(getattr(self.calls, action)(**fields))
        self.answers.append((action, answer))
        return answer

    # Settings ------------------------------------------------------------------------------

    def change16(self, key: str, value: str) -> str:
        """ChangeConfiguration's status."""
        setting = self.settings16.get(key)
        if setting is None:
            return "NotSupported"
        if setting.readonly:
            return "Rejected"
        setting.value = value
        if key == "HeartbeatInterval":
            self.station.heartbeat_interval_s = max(int(value), 1) if value.isdigit() else 300
        return "Accepted"

    def change2x(self, component: str, variable: str, value: str) -> str:
        """SetVariables' attributeStatus."""
        if component not in {name for name, _ in self.settings2x}:
            return "UnknownComponent"
        setting = self.settings2x.get((component, variable))
        if setting is None:
            return "UnknownVariable"
        if setting.readonly:
            return "Rejected"
        setting.value = value
        if (component, variable) == ("OCPPCommCtrlr", "HeartbeatInterval"):
            self.station.heartbeat_interval_s = max(int(value), 1) if value.isdigit() else 300
        return "Accepted"

    def report_data(self, report_base: str) -> list[dict[str, Any]]:
        """The device model as NotifyReport's reportData (ConfigurationInventory: writable only)."""
        data = []
        for (component, variable), setting in self.settings2x.items():
            if report_base == "ConfigurationInventory" and setting.readonly:
                continue
            data.append(
                {
                    "component": {"name": component},
                    "variable": {"name": variable},
                    "variable_attribute": [
                        {
                            "value": setting.value,
                            "mutability": "ReadOnly" if setting.readonly else "ReadWrite",
                        }
                    ],
                    "variable_characteristics": {
                        "data_type": setting.data_type,
                        "supports_monitoring": False,
                    },
                }
            )
        return data

    async def notify_report(self, request_id: int, report_base: str) -> None:
        """NotifyReport in parts of `REPORT_PART`, the last with tbc false."""
        data = self.report_data(report_base)
        parts = [data[i : i + REPORT_PART] for i in range(0, len(data), REPORT_PART)] or [[]]
        for seq_no, part in enumerate(parts):
            await self.send(
                "NotifyReport",
                request_id=request_id,
                generated_at=format_timestamp(self.station.clock.now()),
                seq_no=seq_no,
                tbc=seq_no < len(parts) - 1,
                report_data=part or None,
            )

    # Firmware ------------------------------------------------------------------------------

    async def firmware_status_notification(self, status: str) -> None:
        """Report the firmware status as this version (and a signed 1.6 update) does."""
        self.firmware_status = status
        if self.version == "1.6" and self.firmware_request is None:
            await self.send("FirmwareStatusNotification", status=status)
        elif self.version == "1.6":
            await self.send(
                "SignedFirmwareStatusNotification", status=status, request_id=self.firmware_request
            )
        else:
            await self.send("FirmwareStatusNotification", status=status, request_id=self.firmware_request)

    async def update_firmware(self, location: str, retrieve_at: datetime, signed: bool) -> None:
        """Wait for the retrieve date, fetch the image over HTTP, and "install" it, reporting
        each step; a fetch that fails is DownloadFailed (after the given retries, here one)."""
        await self.station.clock.sleep_until(retrieve_at)
        await self.firmware_status_notification("Downloading")
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.get(location)
                response.raise_for_status()
        except (httpx.HTTPError, ValueError) as error:
            LOGGER.info("%s: firmware download failed: %s", self.station.id, error)
            await self.firmware_status_notification("DownloadFailed")
            return
        await self.firmware_status_notification("Downloaded")
        if signed:
            # The image is not checked against the certificate: the simulator has no PKI.
            await self.firmware_status_notification("SignatureVerified")
        await self.firmware_status_notification("Installing")
        await self.firmware_status_notification("Installed")

    # Diagnostics and logs ------------------------------------------------------------------

    def log_file(self) -> tuple[str, bytes]:
        """A file name and the log a station of this kind would upload."""
        now = self.station.clock.now()
        name = f"{self.station.id}-{now.strftime('%Y%m%dT%H%M%SZ')}.log"
        lines = [
            f"{format_timestamp(now)} station {self.station.id} OCPP {self.version}",
            f"firmware status {self.firmware_status}",
            *(f"setting {key}={setting.value}" for key, setting in self.settings16.items()),
        ]
        return name, ("\n".join(lines) + "\n").encode()

    async def log_status_notification(self, status: str) -> None:
        """Report the upload status (1.6 GetDiagnostics: DiagnosticsStatusNotification)."""
        self.log_status = status
        if self.version == "1.6" and self.log_request is None:
            await self.send("DiagnosticsStatusNotification", status=status)
        else:
            await self.send("LogStatusNotification", status=status, request_id=self.log_request)

    async def upload(self, location: str, name: str, content: bytes) -> None:
        """PUT the file to `location/name` and report Uploading, then Uploaded or a failure."""
        await self.log_status_notification("Uploading")
        url = location.rstrip("/") + "/" + name
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.put(url, content=content)
                response.raise_for_status()
        except httpx.HTTPError as error:
            LOGGER.info("%s: upload failed: %s", self.station.id, error)
            failed = "UploadFailed" if self.version == "1.6" and self.log_request is None else "UploadFailure"
            await self.log_status_notification(failed)
            return
        self.uploads.append(url)
        await self.log_status_notification("Uploaded")

    # Triggers ------------------------------------------------------------------------------

    def trigger(self, message: str) -> str:
        """TriggerMessage for what the station itself does not send (it handles heartbeat,
        status and meter values): Accepted and sent after the answer, or NotImplemented."""
        sends: dict[str, tuple[str, dict[str, Any]]] = {
            "BootNotification": self._boot_fields(),
            "FirmwareStatusNotification": ("FirmwareStatusNotification", self._firmware_fields()),
            "LogStatusNotification": ("LogStatusNotification", self._log_fields()),
        }
        if self.version == "1.6":
            sends["DiagnosticsStatusNotification"] = (
                "DiagnosticsStatusNotification",
                {"status": self.log_status},
            )
            sends["SignChargePointCertificate"] = ("SignCertificate", {"csr": SIM_CSR})
        else:
            sends["SignChargingStationCertificate"] = ("SignCertificate", {"csr": SIM_CSR})
            sends["PublishFirmwareStatusNotification"] = (
                "PublishFirmwareStatusNotification",
                {"status": "Idle"},
            )
        found = sends.get(message)
        if found is None:
            return "NotImplemented"
        action, fields = found
        self.spawn(self.send(action, **fields))
        return "Accepted"

    def _boot_fields(self) -> tuple[str, dict[str, Any]]:
        if self.version == "1.6":
            return "BootNotification", {
                "charge_point_vendor": "MobilitySim",
                "charge_point_model": self.model,
                "firmware_version": "sim-1",
            }
        return "BootNotification", {
            "charging_station": {
                "vendor_name": "MobilitySim",
                "model": self.model,
                "firmware_version": "sim-1",
            },
            "reason": "Triggered",
        }

    def _firmware_fields(self) -> dict[str, Any]:
        if self.version == "1.6":
            return {"status": self.firmware_status}
        fields: dict[str, Any] = {"status": self.firmware_status}
        if self.firmware_request is not None:
            fields["request_id"] = self.firmware_request
        return fields

    def _log_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": self.log_status}
        if self.log_request is not None:
            fields["request_id"] = self.log_request
        return fields


# A certificate signing request's stand-in (PEM framing of nothing real): the engine refuses to
# sign until it has a CA, so no real key is needed yet.
SIM_CSR = "-----BEGIN CERTIFICATE REQUEST-----\nc2ltdWxhdG9y\n-----END CERTIFICATE REQUEST-----"


class _Device:
    target: Any

    @property
    def device(self) -> ManagedDevice:
        found: ManagedDevice = self.target.device
        return found


class Management16(_Device):
    """1.6 handlers: configuration, firmware (plain and signed), diagnostics, logs, DataTransfer,
    ExtendedTriggerMessage."""

    @on("GetConfiguration")
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        settings = self.device.settings16
        wanted = key if key else list(settings)
        known = [
            {"key": name, "readonly": settings[name].readonly, "value": settings[name].value}
            for name in wanted
            if name in settings
        ]
        unknown = [name for name in wanted if name not in settings]
        return result16.GetConfiguration(configuration_key=known or None, unknown_key=unknown or None)

    @on("ChangeConfiguration")
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        return result16.ChangeConfiguration(status=self.device.change16(key, value))

    @on("UpdateFirmware")
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> Any:
        return result16.UpdateFirmware()

    @after("UpdateFirmware")
    def after_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> None:
        self.device.firmware_request = None
        self.device.spawn(self.device.update_firmware(location, parse_timestamp(retrieve_date), signed=False))

    @on("SignedUpdateFirmware")
    def on_signed_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        return result16.SignedUpdateFirmware(status="Accepted")

    @after("SignedUpdateFirmware")
    def after_signed_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> None:
        self.device.firmware_request = request_id
        retrieve = parse_timestamp(firmware["retrieve_date_time"])
        self.device.spawn(self.device.update_firmware(firmware["location"], retrieve, signed=True))

    @on("GetDiagnostics")
    def on_get_diagnostics(self, location: str, **_: Any) -> Any:
        self._pending_log = self.device.log_file()
        return result16.GetDiagnostics(file_name=self._pending_log[0])

    @after("GetDiagnostics")
    def after_get_diagnostics(self, location: str, **_: Any) -> None:
        self.device.log_request = None
        name, content = self._pending_log
        self.device.spawn(self.device.upload(location, name, content))

    @on("GetLog")
    def on_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> Any:
        self._pending_log = self.device.log_file()
        return result16.GetLog(status="Accepted", filename=self._pending_log[0])

    @after("GetLog")
    def after_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> None:
        self.device.log_request = request_id
        name, content = self._pending_log
        self.device.spawn(self.device.upload(log["remote_location"], name, content))

    @on("DataTransfer")
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None, **_: Any
    ) -> Any:
        if vendor_id != VENDOR_ID:
            return result16.DataTransfer(status="UnknownVendorId")
        if message_id != "Echo":
            return result16.DataTransfer(status="UnknownMessageId")
        return result16.DataTransfer(status="Accepted", data=data)

    @on("ExtendedTriggerMessage")
    def on_extended_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> Any:
        status = self.target.trigger(requested_message, connector_id)
        return result16.ExtendedTriggerMessage(status=status)


class Management2x(_Device):
    """2.x handlers: variables, base reports, firmware, logs, DataTransfer."""

    _call_result: Any

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = []
        for item in get_variable_data:
            component, variable = item["component"]["name"], item["variable"]["name"]
            setting = self.device.settings2x.get((component, variable))
            answer: dict[str, Any] = {
                "attribute_status": "Accepted" if setting is not None else "UnknownVariable",
                "component": item["component"],
                "variable": item["variable"],
            }
            if setting is not None:
                answer["attribute_value"] = setting.value
            results.append(answer)
        return self._call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = [
            {
                "attribute_status": self.device.change2x(
                    item["component"]["name"], item["variable"]["name"], item["attribute_value"]
                ),
                "component": item["component"],
                "variable": item["variable"],
            }
            for item in set_variable_data
        ]
        return self._call_result.SetVariables(set_variable_result=results)

    @on("GetBaseReport")
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        return self._call_result.GetBaseReport(status="Accepted")

    @after("GetBaseReport")
    def after_get_base_report(self, request_id: int, report_base: str, **_: Any) -> None:
        self.device.spawn(self.device.notify_report(request_id, report_base))

    @on("UpdateFirmware")
    def on_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        return self._call_result.UpdateFirmware(status="Accepted")

    @after("UpdateFirmware")
    def after_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> None:
        self.device.firmware_request = request_id
        signed = "signature" in firmware
        retrieve = parse_timestamp(firmware["retrieve_date_time"])
        self.device.spawn(self.device.update_firmware(firmware["location"], retrieve, signed))

    @on("GetLog")
    def on_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> Any:
        self._pending_log = self.device.log_file()
        return self._call_result.GetLog(status="Accepted", filename=self._pending_log[0])

    @after("GetLog")
    def after_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> None:
        self.device.log_request = request_id
        name, content = self._pending_log
        self.device.spawn(self.device.upload(log["remote_location"], name, content))

    @on("DataTransfer")
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None, **_: Any
    ) -> Any:
        if vendor_id != VENDOR_ID:
            return self._call_result.DataTransfer(status="UnknownVendorId")
        if message_id != "Echo":
            return self._call_result.DataTransfer(status="UnknownMessageId")
        return self._call_result.DataTransfer(status="Accepted", data=data)


__all__ = ["VENDOR_ID", "ManagedDevice", "Management2x", "Management16"]
