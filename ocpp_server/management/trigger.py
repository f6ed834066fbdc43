"""Which messages TriggerMessage can ask for on each version, read from the library's schemas
(the spec's enumerations), and 1.6's ExtendedTriggerMessage for the security extension's."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ocpp_server._ocpp import call16
from ocpp_server.commands import CommandResult
from ocpp_server.management.block import Block, NotOnThisVersionError


def _schema(folder: str, name: str) -> Any:
    return json.loads((resources.files("ocpp") / folder / "schemas" / name).read_text())


def _enum(schema: Any) -> frozenset[str]:
    field = schema["properties"]["requestedMessage"]
    if "$ref" in field:
        field = schema["definitions"][field["$ref"].rsplit("/", 1)[-1]]
    return frozenset(field["enum"])


@cache
def trigger_messages(ocpp_version: str) -> frozenset[str]:
    """Every message `trigger_message` can ask for on `ocpp_version`."""
    if ocpp_version == "1.6":
        return triggerable_16() | extended_triggerable_16()
    folder = "v201" if ocpp_version == "2.0.1" else "v21"
    return _enum(_schema(folder, "TriggerMessageRequest.json"))


@cache
def triggerable_16() -> frozenset[str]:
    """1.6 TriggerMessage's messages."""
    return _enum(_schema("v16", "TriggerMessage.json"))


@cache
def extended_triggerable_16() -> frozenset[str]:
    """1.6 ExtendedTriggerMessage's messages that TriggerMessage lacks (security extension)."""
    return _enum(_schema("v16", "ExtendedTriggerMessage.json")) - triggerable_16()


class Trigger16(Block):
    """1.6 TriggerMessage, and ExtendedTriggerMessage for the security extension's messages."""

    async def trigger_message(
        self, message: str, connector_id: int | None = None, custom_trigger: str | None = None
    ) -> CommandResult:
        """Ask for `message` now (of one connector, if given)."""
        if custom_trigger is not None:
            raise NotOnThisVersionError("custom triggers are OCPP 2.1")
        kind = (
            call16.ExtendedTriggerMessage if message in extended_triggerable_16() else call16.TriggerMessage
        )
        return await self.send_command(kind(requested_message=message, connector_id=connector_id))


class Trigger2x(Block):
    """2.x TriggerMessage, optionally for one EVSE; 2.1's CustomTrigger names its message."""

    if TYPE_CHECKING:
        _call: Any

    async def trigger_message(
        self, message: str, connector_id: int | None = None, custom_trigger: str | None = None
    ) -> CommandResult:
        """Ask for `message` now (of one EVSE, if given)."""
        evse = {"id": connector_id} if connector_id else None
        extra = {} if custom_trigger is None else {"custom_trigger": custom_trigger}
        if extra and self.ocpp_version != "2.1":
            raise NotOnThisVersionError("custom triggers are OCPP 2.1")
        return await self.send_command(
            self._call.TriggerMessage(requested_message=message, evse=evse, **extra)
        )
