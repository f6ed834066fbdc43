"""A real central system on 127.0.0.1 (ephemeral port) over a fresh database, per test."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection, connect

from mobility.charging.authorization import AllowListAuthorizer
from mobility.charging.events import ChargingEvent
from mobility.charging.service import ChargingService
from mobility.charging.store import ChargingStore
from mobility.db import create_db_engine
from ocpp_server.server import CentralSystem, ServerConfig

E = TypeVar("E")
TIMEOUT = 5.0
ALLOWED_TOKEN = "ALLOWED01"


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Harness:
    """One running central system, its database, and every event it published."""

    engine: Engine
    store: ChargingStore
    service: ChargingService
    central: CentralSystem
    clock: FakeClock
    events: list[ChargingEvent] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, charge_point_id: str = "CP1") -> str:
        return f"ws://127.0.0.1:{self.central.port}/ocpp/{charge_point_id}"

    async def record(self, event: ChargingEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def of_type(self, kind: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, kind)]

    async def wait_for(self, predicate: Callable[[], bool], limit: float = TIMEOUT) -> None:
        """Until `predicate()` holds (re-checked on every event), or fail after `limit` seconds."""
        async with asyncio.timeout(limit):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def restart(self, config: ServerConfig | None = None) -> None:
        """Stop the server and start a new one on the same database (new service, new port)."""
        await self.central.stop()
        self.service = ChargingService(self.store, self.service.authorizer, self.clock)
        self.service.subscribe(self.record)
        self.central = CentralSystem(self.service, config or self.central.config)
        await self.central.start()


async def start_harness(database_url: str, config: ServerConfig) -> Harness:
    engine = create_db_engine(database_url)
    store = ChargingStore(engine)
    clock = FakeClock()
    service = ChargingService(store, AllowListAuthorizer([ALLOWED_TOKEN]), clock)
    central = CentralSystem(service, config)
    harness = Harness(engine, store, service, central, clock)
    service.subscribe(harness.record)
    await central.start()
    return harness


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    """A central system with charge point CP1 registered (password "secret1")."""
    running = await start_harness(database_url, ServerConfig(port=0, response_timeout=TIMEOUT))
    running.store.register_charge_point("CP1", "secret1")
    try:
        yield running
    finally:
        await running.central.stop()
        running.engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Any, migrated_sqlite: Callable[[Path], str]) -> str:
    """A migrated SQLite file, for protocol tests where the backend does not matter."""
    return migrated_sqlite(tmp_path / "ocpp.db")


@pytest.fixture
async def quick(sqlite_url: str) -> AsyncIterator[Harness]:
    """Like `harness`, on SQLite only, with a short response timeout for command tests."""
    running = await start_harness(sqlite_url, ServerConfig(port=0, response_timeout=0.5))
    running.store.register_charge_point("CP1", "secret1")
    try:
        yield running
    finally:
        await running.central.stop()
        running.engine.dispose()


def basic_auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def subprotocol(version: str) -> str:
    return f"ocpp{version}"


@contextlib.asynccontextmanager
async def raw_client(
    url: str, version: str, user: str = "CP1", password: str = "secret1"
) -> AsyncIterator[ClientConnection]:
    """A plain websocket speaking OCPP-J frames by hand."""
    async with connect(
        url,
        subprotocols=[subprotocol(version)],  # type: ignore[list-item]
        additional_headers=basic_auth(user, password),
    ) as websocket:
        yield websocket


@contextlib.asynccontextmanager
async def library_client(
    url: str, version: str, cls: type[Any], charge_point_id: str = "CP1", password: str = "secret1"
) -> AsyncIterator[Any]:
    """An `ocpp` library ChargePoint of class `cls`, running its receive loop."""
    async with connect(
        url,
        subprotocols=[subprotocol(version)],  # type: ignore[list-item]
        additional_headers=basic_auth(charge_point_id, password),
    ) as websocket:
        charge_point = cls(charge_point_id, websocket, response_timeout=TIMEOUT)
        task = asyncio.create_task(charge_point.start())
        try:
            yield charge_point
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
