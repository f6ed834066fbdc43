"""DataTransfer both ways, on every version: a charger's is answered by the registered
handlers (`data_transfer_handlers.py`: UnknownVendorId / UnknownMessageId otherwise) and kept
as a report; the operator's goes out with `data_transfer`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_server._ocpp import call16, on
from ocpp_server.commands import CommandResult
from ocpp_server.management.block import Block


class _DataTransfer(Block):
    if TYPE_CHECKING:
        _call: Any

    def _calls(self) -> Any:
        return call16 if self.ocpp_version == "1.6" else self._call

    @on("DataTransfer")
    async def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None, **payload: Any
    ) -> Any:
        answer = await self.management.data_transfer.answer(self.id, vendor_id, message_id, data)
        body = {"vendor_id": vendor_id, "message_id": message_id, "data": data, **payload}
        await self.keep("DataTransfer", body, answer.status)
        result: dict[str, Any] = {"status": answer.status}
        if answer.data is not None:
            result["data"] = answer.data
        return result

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None
    ) -> CommandResult:
        """DataTransfer to the charger; its answer's `status` and `data`."""
        return await self.send_command(
            self._calls().DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        )


class DataTransfer16(_DataTransfer):
    """1.6 DataTransfer (data is a string)."""


class DataTransfer2x(_DataTransfer):
    """2.x DataTransfer (data is any JSON)."""
