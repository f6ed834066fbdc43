"""Vendor extensions a charger may call through DataTransfer, registered by vendor and message.

OCPP answers a vendor nobody registered `UnknownVendorId` and a known vendor's unregistered
message `UnknownMessageId`; a handler registered for a vendor without a message ID takes all
of that vendor's messages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

# (charge point ID, message ID, data) -> (status, data); status is a DataTransfer status.
DataTransferHandler = Callable[[str, str | None, Any], Awaitable[tuple[str, Any]]]


@dataclass(frozen=True, slots=True)
class DataTransferAnswer:
    """What to answer a DataTransfer with."""

    status: str
    data: Any = None


class DataTransferHandlers:
    """The registry; the engine registers none of its own."""

    def __init__(self) -> None:
        self._handlers: dict[str, dict[str | None, DataTransferHandler]] = {}

    def register(self, vendor_id: str, handler: DataTransferHandler, message_id: str | None = None) -> None:
        """Answer `vendor_id`'s `message_id` (every message of it, if None) with `handler`."""
        self._handlers.setdefault(vendor_id, {})[message_id] = handler

    async def answer(
        self, charge_point_id: str, vendor_id: str, message_id: str | None, data: Any
    ) -> DataTransferAnswer:
        """The answer OCPP specifies, or the registered handler's."""
        vendor = self._handlers.get(vendor_id)
        if vendor is None:
            return DataTransferAnswer("UnknownVendorId")
        handler = vendor.get(message_id) or vendor.get(None)
        if handler is None:
            return DataTransferAnswer("UnknownMessageId")
        status, answer = await handler(charge_point_id, message_id, data)
        return DataTransferAnswer(status, answer)
