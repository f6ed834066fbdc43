"""A real central system on loopback for the simulator to talk to, and helpers to drive time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import pytest

from mobility.charging.models import SessionRecord
from ocpp_server.server import ServerConfig
from sims.chargers.backoff import Backoff
from sims.chargers.clock import ManualClock
from sims.chargers.connector import Transaction
from sims.chargers.station import SimulatedChargePoint, StationConfig
from tests.ocpp.conftest import Harness, start_harness

LIMIT = 20.0
"""Real seconds any single wait in these tests may take before it fails."""


@pytest.fixture
async def central(database_url: str) -> AsyncIterator[Harness]:
    """The real CentralSystem on 127.0.0.1:<ephemeral>, admitting unknown charge points."""
    config = ServerConfig(port=0, response_timeout=5.0, accept_unknown_chargers=True)
    running = await start_harness(database_url, config)
    try:
        yield running
    finally:
        await running.central.stop()
        running.engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time, moved only by the test."""
    return ManualClock()


class Rig:
    """Stations powered (run) for one test, shut down after it."""

    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.stations: list[SimulatedChargePoint] = []

    async def power_on(self, station: SimulatedChargePoint) -> SimulatedChargePoint:
        """Run the station and wait until it has booted."""
        self.tasks[station.id] = asyncio.create_task(station.run())
        self.stations.append(station)
        await station.wait_until(lambda: station.online, LIMIT)
        return station

    async def close(self) -> None:
        """Cancel every station's run task."""
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    """Powered stations, stopped after the test."""
    running = Rig()
    try:
        yield running
    finally:
        await running.close()


def station_config(
    central: Harness, charge_point_id: str, version: str, **overrides: object
) -> StationConfig:
    """A station pointed at the test server, with short real-time timeouts."""
    values: dict[str, object] = {
        "charge_point_id": charge_point_id,
        "version": version,
        "url": f"ws://127.0.0.1:{central.central.port}/ocpp",
        "connectors": 2,
        "max_power_w": 22_000,
        "meter_interval_s": 60.0,
        "backoff": Backoff(base_s=2.0, cap_s=10.0),
        "response_timeout_s": 5.0,
    }
    values.update(overrides)
    return StationConfig(**values)  # type: ignore[arg-type]


async def wait_online(station: SimulatedChargePoint) -> None:
    """Until the station is booted and connected."""
    await station.wait_until(lambda: station.online, LIMIT)


async def step(clock: ManualClock, stations: Iterable[SimulatedChargePoint], seconds: float) -> None:
    """Move simulated time, let the woken loops run once, and wait until every queue is answered."""
    clock.advance(seconds)
    await asyncio.sleep(0)  # a yield, so the woken meter loops queue their samples
    for station in stations:
        await settled(station)


async def settled(station: SimulatedChargePoint) -> None:
    """Until the station's queue is answered, or it is offline (a fault woken by the same
    advance may have taken it down: then its queue waits for a later advance)."""
    await station.wait_until(lambda: not station.online or not station.outbox, LIMIT)


def stored(central: Harness, station: SimulatedChargePoint, transaction: Transaction) -> SessionRecord:
    assert transaction.ref is not None
    session = central.store.session_by_ref(station.id, transaction.ref)
    assert session is not None, f"{station.id} {transaction.ref} unknown to the server"
    return session


def assert_server_matches(central: Harness, station: SimulatedChargePoint) -> int:
    """Every simulated transaction is stored once, ended, unflagged, with exactly its energy."""
    total = 0
    sessions = central.store.sessions(station.id)
    assert len(sessions) == len(station.transactions)
    for transaction in station.transactions:
        session = stored(central, station, transaction)
        delivered = transaction.delivered_wh(0)
        assert session.energy_wh == delivered, (station.id, transaction.ref)
        assert not session.flagged, session.flag_reason
        assert session.ended_at is not None
        assert transaction.stop_reason is not None
        assert session.end_reason == str(transaction.stop_reason)
        total += delivered
    return total
