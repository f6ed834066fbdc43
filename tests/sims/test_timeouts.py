"""A slow central system: an unanswered transaction message is asked again, not lost or doubled.

The real server always answers, so this uses a tiny hand-written 2.0.1 central system that
stays silent on the first TransactionEvent it receives.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from sims.chargers.clock import ManualClock
from sims.chargers.ev import EVBattery, EVSpec
from sims.chargers.station import SimulatedChargePoint, StationConfig
from tests.sims.conftest import LIMIT, Rig

ANSWERS = {
    "BootNotification": {"currentTime": "2026-01-01T08:00:00Z", "interval": 300, "status": "Accepted"},
    "StatusNotification": {},
    "Heartbeat": {"currentTime": "2026-01-01T08:00:00Z"},
    "Authorize": {"idTokenInfo": {"status": "Accepted"}},
    "TransactionEvent": {},
}


class SilentOnce:
    """Answers every CALL except the first TransactionEvent, which it ignores."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.ignored = False

    async def __call__(self, websocket: ServerConnection) -> None:
        async for raw in websocket:
            message_type, message_id, action, _payload = json.loads(raw)
            if message_type != 2:
                continue
            self.calls.append((message_id, action))
            if action == "TransactionEvent" and not self.ignored:
                self.ignored = True
                continue
            await websocket.send(json.dumps([3, message_id, ANSWERS[action]]))


@pytest.fixture
async def silent_once() -> AsyncIterator[tuple[SilentOnce, Server]]:
    central = SilentOnce()
    async with serve(central, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")]) as server:
        yield central, server


async def test_unanswered_message_is_asked_again_with_the_same_id(
    silent_once: tuple[SilentOnce, Server], rig: Rig
) -> None:
    central, server = silent_once
    port = next(iter(server.sockets)).getsockname()[1]
    config = StationConfig("SLOW", "2.0.1", url=f"ws://127.0.0.1:{port}/ocpp", response_timeout_s=0.3)
    station = await rig.power_on(SimulatedChargePoint(config, ManualClock()))
    ev = EVBattery(EVSpec(capacity_wh=60_000, max_power_w=11_000))
    assert await station.plug_in(1, ev, "TOKEN") is not None
    await station.drained(LIMIT)
    events = [message_id for message_id, action in central.calls if action == "TransactionEvent"]
    assert len(events) == 2
    assert Counter(events).most_common(1)[0][1] == 2  # the same message ID, twice
    assert station.stats.timeouts == 1
    assert station.stats.reconnects == 0
    assert station.online
