"""Transport: path, 404 / 401 before the upgrade, subprotocols, compression."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.extensions.permessage_deflate import PerMessageDeflate

from mobility.charging.events import ChargePointOffline, ChargePointOnline
from ocpp_server.handshake import charge_point_id_from_path
from ocpp_server.server import ServerConfig
from tests.ocpp.conftest import Harness, basic_auth, raw_client, start_harness
from tests.ocpp.frames import exchange, heartbeat, receive


async def _status_of_refused(url: str, headers: dict[str, str] | None = None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, subprotocols=["ocpp1.6"], additional_headers=headers):  # type: ignore[list-item]
            pass
    return refused.value.response.status_code


def test_path_parsing() -> None:
    assert charge_point_id_from_path("/ocpp/CP1") == "CP1"
    assert charge_point_id_from_path("/ocpp/CP%201%2Fa?x=1") == "CP 1/a"
    assert charge_point_id_from_path("/ocpp/" + "x" * 48) == "x" * 48
    assert charge_point_id_from_path("/ocpp/" + "x" * 49) is None
    assert charge_point_id_from_path("/ocpp/") is None
    assert charge_point_id_from_path("/ocpp/a/b") is None
    assert charge_point_id_from_path("/other/CP1") is None


async def test_unknown_charge_point_is_404_before_upgrade(harness: Harness) -> None:
    assert await _status_of_refused(harness.url("NOPE"), basic_auth("NOPE", "x")) == 404
    assert await _status_of_refused(harness.url("x" * 49)) == 404


async def test_unknown_charge_point_admitted_when_configured(sqlite_url: str) -> None:
    running = await start_harness(sqlite_url, ServerConfig(port=0, accept_unknown_chargers=True))
    try:
        async with raw_client(running.url("NEW%20ONE"), "1.6", user="NEW ONE") as websocket:
            assert (await exchange(websocket, heartbeat()))[0] == 3
        assert running.store.charge_point("NEW ONE") is not None
    finally:
        await running.central.stop()


async def test_basic_auth_is_checked_before_upgrade(harness: Harness) -> None:
    assert await _status_of_refused(harness.url()) == 401
    assert await _status_of_refused(harness.url(), basic_auth("CP1", "wrong")) == 401
    assert await _status_of_refused(harness.url(), basic_auth("CP2", "secret1")) == 401
    async with raw_client(harness.url(), "1.6") as websocket:
        assert (await exchange(websocket, heartbeat()))[0] == 3


async def test_password_is_stored_hashed(harness: Harness) -> None:
    record = harness.store.charge_point("CP1")
    assert record is not None
    assert record.password_hash is not None
    assert "secret1" not in record.password_hash
    assert record.password_hash.startswith("scrypt$")


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
async def test_subprotocol_is_negotiated_and_compression_on(harness: Harness, version: str) -> None:
    async with raw_client(harness.url(), version) as websocket:
        assert websocket.subprotocol == f"ocpp{version}"
        assert any(isinstance(extension, PerMessageDeflate) for extension in websocket.protocol.extensions)
        assert (await exchange(websocket, heartbeat()))[0] == 3


async def test_server_prefers_newest_offered_version(harness: Harness) -> None:
    offered = ["ocpp1.6", "ocpp2.0.1"]
    async with connect(
        harness.url(),
        subprotocols=offered,  # type: ignore[arg-type]
        additional_headers=basic_auth("CP1", "secret1"),
    ) as websocket:
        assert websocket.subprotocol == "ocpp2.0.1"


@pytest.mark.parametrize("offered", [["chat"], None])
async def test_no_agreed_subprotocol_completes_handshake_then_closes(
    harness: Harness, offered: list[str] | None
) -> None:
    async with connect(
        harness.url(),
        subprotocols=offered,  # type: ignore[arg-type]
        additional_headers=basic_auth("CP1", "secret1"),
    ) as websocket:
        assert websocket.subprotocol is None
        with pytest.raises(ConnectionClosed) as closed:
            await receive(websocket)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1002


async def test_reconnect_replaces_old_connection(harness: Harness) -> None:
    async with raw_client(harness.url(), "1.6") as first:
        await exchange(first, heartbeat())
        async with raw_client(harness.url(), "2.0.1") as second:
            with pytest.raises(ConnectionClosed):
                await receive(first)
            assert (await exchange(second, heartbeat()))[0] == 3
            assert harness.central.is_connected("CP1")
            record = harness.store.charge_point("CP1")
            assert record is not None
            assert record.online
            assert record.protocol == "ocpp2.0.1"
    await harness.wait_for(lambda: not harness.central.is_connected("CP1"))
    await harness.wait_for(lambda: len(harness.of_type(ChargePointOffline)) == 1)
    assert len(harness.of_type(ChargePointOnline)) == 2
    record = harness.store.charge_point("CP1")
    assert record is not None
    assert not record.online
