"""BootNotification's three answers: Accepted, Pending for a charge point that connected
unknown and awaits an operator's approval, Rejected for a disabled one; in every version."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ocpp_server.server import ServerConfig
from tests.ocpp.conftest import TIMEOUT, Harness, raw_client, start_harness
from tests.ocpp.frames import boot, exchange

VERSIONS = ("1.6", "2.0.1", "2.1")


@pytest.fixture
async def pending_harness(database_url: str) -> AsyncIterator[Harness]:
    """A central system that admits unknown charge points pending approval."""
    config = ServerConfig(
        port=0,
        response_timeout=TIMEOUT,
        accept_unknown_chargers=True,
        unknown_chargers_pending=True,
        heartbeat_interval=300,
        boot_retry_interval=45,
    )
    running = await start_harness(database_url, config)
    try:
        yield running
    finally:
        await running.central.stop()
        running.engine.dispose()


@pytest.mark.parametrize("version", VERSIONS)
async def test_unknown_is_pending_until_registered_then_disabled_is_rejected(
    pending_harness: Harness, version: str
) -> None:
    url = pending_harness.url("NEW-1")
    async with raw_client(url, version, user="NEW-1") as websocket:
        answer = (await exchange(websocket, boot(version)))[2]
        assert (answer["status"], answer["interval"]) == ("Pending", 45)
        again = (await exchange(websocket, boot(version, "boot2")))[2]
        assert again["status"] == "Pending"  # still waiting: nobody approved it
    record = pending_harness.store.charge_point("NEW-1")
    assert record is not None
    assert record.pending

    pending_harness.store.register_charge_point("NEW-1", "secret1")  # the operator approves it
    async with raw_client(url, version, user="NEW-1") as websocket:  # message IDs are never reused
        answer = (await exchange(websocket, boot(version, "boot3")))[2]
        assert (answer["status"], answer["interval"]) == ("Accepted", 300)

    pending_harness.store.register_charge_point("NEW-1", "secret1", enabled=False)
    async with raw_client(url, version, user="NEW-1") as websocket:
        assert (await exchange(websocket, boot(version, "boot4")))[2]["status"] == "Rejected"


async def test_admitting_unknown_outright_accepts_them(sqlite_url: str) -> None:
    running = await start_harness(sqlite_url, ServerConfig(port=0, accept_unknown_chargers=True))
    try:
        async with raw_client(running.url("DEV-1"), "1.6", user="DEV-1") as websocket:
            assert (await exchange(websocket, boot("1.6")))[2]["status"] == "Accepted"
    finally:
        await running.central.stop()
        running.engine.dispose()
