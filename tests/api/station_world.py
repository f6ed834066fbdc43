"""What the tests of the operator's reservation, token and remote-control commands share: a
simulated station (`sims/chargers`) registered through the operator API and connected to the
whole engine over real websockets, on a simulated clock the test moves."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx

from mobility.engine import Engine
from sims.chargers.backoff import Backoff
from sims.chargers.clock import ManualClock as StationClock
from sims.chargers.station import SimulatedChargePoint, StationConfig
from tests.api.conftest import Headers
from tests.api.operator_world import PASSWORD, register

VERSIONS = ("1.6", "2.0.1", "2.1")
LIMIT = 20.0
"""Real seconds a single wait may take before the test fails."""
START = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


@contextlib.asynccontextmanager
async def station_on(
    engine: Engine,
    http: httpx.AsyncClient,
    headers: Headers,
    charge_point_id: str,
    version: str,
    clock: StationClock | None = None,
) -> AsyncIterator[SimulatedChargePoint]:
    """A booted two-connector station of `version`, registered as the caller's."""
    await register(http, headers, charge_point_id)
    config = StationConfig(
        charge_point_id=charge_point_id,
        version=version,
        url=f"ws://127.0.0.1:{engine.central.port}/ocpp",
        password=PASSWORD,
        connectors=2,
        backoff=Backoff(base_s=2.0, cap_s=10.0),
        response_timeout_s=5.0,
    )
    station = SimulatedChargePoint(config, clock or StationClock(START))
    task = asyncio.create_task(station.run())
    try:
        await station.wait_until(lambda: station.online, LIMIT)
        yield station
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def command(
    http: httpx.AsyncClient, headers: Headers, charge_point_id: str, body: dict[str, Any], expect: int = 200
) -> dict[str, Any]:
    """POST a command; its answer (a CommandOut, or a problem when `expect` is not 200)."""
    response = await http.post(f"/operator/chargers/{charge_point_id}/commands", json=body, headers=headers)
    assert response.status_code == expect, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def add_token(http: httpx.AsyncClient, headers: Headers, token: str, **fields: Any) -> dict[str, Any]:
    """List an ID token (Accepted unless `status` is given)."""
    response = await http.post("/operator/id-tokens", json={"id_token": token, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    listed: dict[str, Any] = response.json()
    return listed
