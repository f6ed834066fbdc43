"""Operator commands for what a charger manages besides sessions (issue 16): configuration,
device-model reports, trigger message, firmware, diagnostics and logs, DataTransfer.

Each runs through `POST /operator/chargers/{id}/commands` like reset or unlock and is logged
the same way; `refusal` names why a command has no OCPP operation on the charger's version
(a 422 before anything is sent or logged). Which command serves which OCPP operation is in
`ocpp_server/README.md`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from ocpp_server.commands import ChargePointCommands, CommandResult
from ocpp_server.management.adapters import ManagementCommands
from ocpp_server.management.configuration import KEY, REPORT_BASES
from ocpp_server.management.diagnostics import LogRequest
from ocpp_server.management.firmware import FirmwareRequest
from ocpp_server.management.trigger import trigger_messages

Text50 = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f]+$")]
Key = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$")]
Value = Annotated[str, StringConstraints(max_length=2500, pattern=r"^[^\x00-\x1f\x7f]*$")]
Url = Annotated[
    str, StringConstraints(min_length=1, max_length=512, pattern=r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")
]
ALL_TRIGGERS = sorted(trigger_messages("1.6") | trigger_messages("2.0.1") | trigger_messages("2.1"))


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def refusal(self, ocpp_version: str) -> str | None:
        """Why this command has no operation on `ocpp_version`, or None."""
        return None

    @staticmethod
    def blocks(charger: ChargePointCommands) -> ManagementCommands:
        """The charger's management blocks (every adapter has them)."""
        assert isinstance(charger, ManagementCommands)
        return charger


class GetConfigurationCommand(_Command):
    """Read configuration: 1.6 GetConfiguration (`keys` or all); 2.x GetVariables of `keys` as
    the device model names them (`Component/Variable`), or without keys the
    ConfigurationInventory report. The result's `configuration_key` holds what the charger said."""

    type: Literal["get_configuration"]
    keys: list[Key] | None = Field(default=None, min_length=1, max_length=100)

    def refusal(self, ocpp_version: str) -> str | None:
        if ocpp_version != "1.6" and self.keys is not None:
            wrong = [key for key in self.keys if not KEY.match(key)]
            if wrong:
                return f"on OCPP 2.x a key is Component/Variable: {wrong[0]!r} is not"
        return None

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await self.blocks(charger).get_configuration(self.keys)


class SetConfigurationCommand(_Command):
    """Change one setting: 1.6 ChangeConfiguration of `key`; 2.x SetVariables of the variable
    `key` names (`Component/Variable`)."""

    type: Literal["set_configuration"]
    key: Key
    value: Value

    def refusal(self, ocpp_version: str) -> str | None:
        if ocpp_version != "1.6" and not KEY.match(self.key):
            return f"on OCPP 2.x a key is Component/Variable: {self.key!r} is not"
        return None

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await self.blocks(charger).set_configuration(self.key, self.value)


class GetBaseReportCommand(_Command):
    """2.x GetBaseReport: the NotifyReport parts that follow fill the stored device model
    (`GET /operator/chargers/{id}/device-model`)."""

    type: Literal["get_base_report"]
    report_base: Literal["ConfigurationInventory", "FullInventory", "SummaryInventory"] = "FullInventory"

    def refusal(self, ocpp_version: str) -> str | None:
        return "GetBaseReport is OCPP 2.x: use get_configuration" if ocpp_version == "1.6" else None

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        assert self.report_base in REPORT_BASES
        return await self.blocks(charger).get_base_report(self.report_base)


class TriggerMessageCommand(_Command):
    """TriggerMessage (1.6: ExtendedTriggerMessage for the security extension's messages), of one
    connector (EVSE on 2.x) if given; `custom_trigger` with 2.1's CustomTrigger."""

    type: Literal["trigger_message"]
    message: Literal[tuple(ALL_TRIGGERS)]  # type: ignore[valid-type]
    connector_id: int | None = Field(default=None, ge=0, le=1000)
    custom_trigger: Text50 | None = None

    def refusal(self, ocpp_version: str) -> str | None:
        if self.message not in trigger_messages(ocpp_version):
            return f"OCPP {ocpp_version} cannot trigger {self.message}"
        if (self.custom_trigger is not None) != (self.message == "CustomTrigger"):
            return "custom_trigger goes with the message CustomTrigger, and only with it"
        return None

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        blocks = self.blocks(charger)
        return await blocks.trigger_message(self.message, self.connector_id, self.custom_trigger)


class UpdateFirmwareCommand(_Command):
    """UpdateFirmware (signed: 1.6 SignedUpdateFirmware, 2.x with the signing fields); progress
    in `GET /operator/chargers/{id}/firmware`. The result carries the update's `request_id`."""

    type: Literal["update_firmware"]
    location: Url
    retrieve_at: AwareDatetime
    install_at: AwareDatetime | None = None
    retries: int | None = Field(default=None, ge=0, le=100)
    retry_interval_s: int | None = Field(default=None, ge=0, le=86_400)
    signing_certificate: str | None = Field(default=None, min_length=1, max_length=5500)
    signature: str | None = Field(default=None, min_length=1, max_length=800)

    def refusal(self, ocpp_version: str) -> str | None:
        signed = self.signing_certificate is not None or self.signature is not None
        if ocpp_version == "1.6" and signed and (self.signing_certificate is None or self.signature is None):
            return "a signed 1.6 update (SignedUpdateFirmware) needs signing_certificate and signature"
        if ocpp_version == "1.6" and not signed and self.install_at is not None:
            return "1.6 UpdateFirmware has no install date (a signed update has)"
        return None

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        request = FirmwareRequest(
            location=self.location,
            retrieve_at=self.retrieve_at,
            install_at=self.install_at,
            retries=self.retries,
            retry_interval_s=self.retry_interval_s,
            signing_certificate=self.signing_certificate,
            signature=self.signature,
        )
        return await self.blocks(charger).update_firmware(request)


class _LogCommand(_Command):
    oldest: AwareDatetime | None = None
    latest: AwareDatetime | None = None
    retries: int | None = Field(default=None, ge=0, le=100)
    retry_interval_s: int | None = Field(default=None, ge=0, le=86_400)

    def _request(self, log_type: str) -> LogRequest:
        return LogRequest(log_type, self.oldest, self.latest, self.retries, self.retry_interval_s)


class GetDiagnosticsCommand(_LogCommand):
    """1.6 GetDiagnostics: the charger uploads its diagnostics file to the engine; status and
    download in `GET /operator/chargers/{id}/logs`."""

    type: Literal["get_diagnostics"]

    def refusal(self, ocpp_version: str) -> str | None:
        return None if ocpp_version == "1.6" else "GetDiagnostics is OCPP 1.6: use get_log"

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await self.blocks(charger).get_diagnostics(self._request("DiagnosticsLog"))


class GetLogCommand(_LogCommand):
    """GetLog (2.x; 1.6 security extension): the charger uploads the log to the engine."""

    type: Literal["get_log"]
    log_type: Literal["DiagnosticsLog", "SecurityLog"] = "DiagnosticsLog"

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await self.blocks(charger).get_log(self._request(self.log_type))


class DataTransferCommand(_Command):
    """DataTransfer to the charger (vendor extension); 1.6 takes `data` as a string only."""

    type: Literal["data_transfer"]
    vendor_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    message_id: Text50 | None = None
    data: Any = None

    def refusal(self, ocpp_version: str) -> str | None:
        if ocpp_version == "1.6" and self.data is not None and not isinstance(self.data, str):
            return "1.6 DataTransfer data is a string"
        return None

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await self.blocks(charger).data_transfer(self.vendor_id, self.message_id, self.data)


ManagementCommand = (
    GetConfigurationCommand
    | SetConfigurationCommand
    | GetBaseReportCommand
    | TriggerMessageCommand
    | UpdateFirmwareCommand
    | GetDiagnosticsCommand
    | GetLogCommand
    | DataTransferCommand
)


def refusal(command: BaseModel, ocpp_version: str) -> str | None:
    """Why `command` cannot go to a charger speaking `ocpp_version` (None: it can)."""
    return command.refusal(ocpp_version) if isinstance(command, _Command) else None


__all__ = ["ManagementCommand", "refusal"]
