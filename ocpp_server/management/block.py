"""What every management block shares: the repositories, the DataTransfer handlers, the
upload URL, and keeping a charger's message as a report."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from ocpp_server.framing import FramedConnection
from ocpp_server.keys import to_camel
from ocpp_server.management.data_transfer_handlers import DataTransferHandlers
from ocpp_server.management.stores import ManagementStore

T = TypeVar("T")


@dataclass
class Management:
    """The management blocks' shared parts, one per central system.

    `upload_base_url` is where chargers upload diagnostics and logs (the engine's
    `/ocpp-uploads/`, ending in "/"); without it the engine cannot ask for them.
    """

    store: ManagementStore
    data_transfer: DataTransferHandlers = field(default_factory=DataTransferHandlers)
    upload_base_url: str | None = None
    upload_ttl: timedelta = timedelta(hours=24)


class NotOnThisVersionError(ValueError):
    """The command has no OCPP operation on the charge point's version (or cannot be built)."""


class Block(FramedConnection):
    """Base of the block mixins; placed before `FramedConnection` in an adapter's bases."""

    @property
    def management(self) -> Management:
        """The central system's management parts."""
        management = self.context.management
        assert management is not None, "the central system builds one"
        return management

    async def stored(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking repository call off the event loop."""
        return await asyncio.to_thread(function, *args)

    async def keep(
        self, action: str, payload: dict[str, Any], status: str | None = None, request_id: int | None = None
    ) -> None:
        """Keep a charger's message for the operator (camelCase, as sent)."""
        text = json.dumps(to_camel(payload), separators=(",", ":"), default=str)
        await self.stored(
            self.management.store.add_report, self.id, action, status, request_id, text, self.service.clock()
        )
