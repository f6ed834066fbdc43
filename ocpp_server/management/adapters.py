"""The management blocks composed per version, for the adapters' bases (`v16.py`, `v2x.py`,
`v21.py`), and the command interface they give the operator API."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ocpp_server.commands import CommandResult
from ocpp_server.management.configuration import Configuration2x, Configuration16
from ocpp_server.management.data_transfer import DataTransfer2x, DataTransfer16
from ocpp_server.management.diagnostics import Diagnostics2x, Diagnostics16, LogRequest
from ocpp_server.management.firmware import Firmware2x, Firmware16, FirmwareRequest
from ocpp_server.management.reporting import Reporting2x, Reporting16, Reporting21
from ocpp_server.management.trigger import Trigger2x, Trigger16


class Management16(Configuration16, Firmware16, Diagnostics16, DataTransfer16, Reporting16, Trigger16):
    """Every management block of OCPP 1.6 (with its security extension)."""


class Management2x(Configuration2x, Firmware2x, Diagnostics2x, DataTransfer2x, Reporting2x, Trigger2x):
    """Every management block of OCPP 2.0.1 and 2.1."""


class Management21(Reporting21):
    """What 2.1 adds to 2.0.1's blocks."""


@runtime_checkable
class ManagementCommands(Protocol):
    """What the operator API asks of a charger's management blocks, whatever its version
    (a method with no operation on that version raises `NotOnThisVersionError`)."""

    ocpp_version: str

    async def get_configuration(self, keys: list[str] | None = None) -> CommandResult: ...
    async def set_configuration(self, key: str, value: str) -> CommandResult: ...
    async def get_base_report(self, report_base: str) -> CommandResult: ...
    async def trigger_message(
        self, message: str, connector_id: int | None = None, custom_trigger: str | None = None
    ) -> CommandResult: ...
    async def update_firmware(self, request: FirmwareRequest) -> CommandResult: ...
    async def get_diagnostics(self, request: LogRequest) -> CommandResult: ...
    async def get_log(self, request: LogRequest) -> CommandResult: ...
    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None
    ) -> CommandResult: ...
