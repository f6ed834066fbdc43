"""Helpers for raw OCPP-J frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection

TIMEOUT = 5.0
NOW = "2026-01-01T12:00:00Z"


async def exchange(websocket: ClientConnection, frame: Any) -> list[Any]:
    """Send a frame (a string is sent verbatim) and return the next frame received."""
    await websocket.send(frame if isinstance(frame, str) else json.dumps(frame))
    return await receive(websocket)


async def receive(websocket: ClientConnection) -> list[Any]:
    """The next frame, decoded; fails after TIMEOUT."""
    raw = await asyncio.wait_for(websocket.recv(), TIMEOUT)
    decoded: list[Any] = json.loads(raw)
    return decoded


def heartbeat(message_id: str = "hb") -> list[Any]:
    return [2, message_id, "Heartbeat", {}]


def boot(version: str, message_id: str = "boot") -> list[Any]:
    if version == "1.6":
        return [2, message_id, "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]
    return [
        2,
        message_id,
        "BootNotification",
        {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"},
    ]
