"""What the operator API tests share: registering a charge point through the API and
connecting a simulated 1.6 charge point to the engine with its password."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from mobility.engine import Engine
from ocpp_server._ocpp import call16
from tests.api.conftest import Headers
from tests.ocpp.clients import Client16
from tests.ocpp.conftest import library_client

PASSWORD = "correct-horse-battery"
PROBLEM = "application/problem+json"


async def register(
    http: httpx.AsyncClient, headers: Headers, charge_point_id: str, **fields: Any
) -> dict[str, Any]:
    """Register a charge point through the API (password `PASSWORD` unless given)."""
    body = {"id": charge_point_id, "password": PASSWORD, **fields}
    response = await http.post("/operator/chargers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    charger: dict[str, Any] = response.json()
    return charger


@contextlib.asynccontextmanager
async def connected(
    engine: Engine, charge_point_id: str, password: str = PASSWORD, cls: type[Any] = Client16
) -> AsyncIterator[Any]:
    """A booted 1.6 charge point (a `Client16` unless `cls`) on the engine, with Basic auth."""
    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/{charge_point_id}"
    async with library_client(url, "1.6", cls, charge_point_id, password) as cp:
        await cp.call(call16.BootNotification(charge_point_vendor="sim", charge_point_model="m1"))
        yield cp
