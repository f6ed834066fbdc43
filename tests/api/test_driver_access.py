"""Who may call the driver routes, bad input, chargers nearby, and the stream's own checks:
another driver gets 404, another role 403, bad input 422 with nothing written."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from mobility.engine import Engine
from mobility.payments.models import SessionPaymentRecord
from mobility.payments.tariff import Tariff
from ocpp_server._ocpp import call16
from tests.api.conftest import Headers, fleet, operator
from tests.api.driver_world import TARIFF, add_tariff, charger, driver_api, fund, open_channel, place_charger

Route = tuple[str, str, dict[str, Any] | None]


def routes(channel_id: str, session_id: int) -> list[Route]:
    """Every driver route, with a valid body for it."""
    start = {"charge_point_id": "CP-A1", "connector_id": 1, "channel_id": channel_id}
    return [
        ("GET", "/driver/operator", None),
        ("GET", "/driver/chargers?lat=52.5&lon=13.4", None),
        ("POST", "/driver/channels", {"channel_id": channel_id}),
        ("GET", "/driver/channels", None),
        ("GET", f"/driver/channels/{channel_id}", None),
        ("POST", f"/driver/channels/{channel_id}/refresh", None),
        ("POST", f"/driver/channels/{channel_id}/close", None),
        ("POST", "/driver/sessions", start),
        ("GET", "/driver/sessions", None),
        ("GET", f"/driver/sessions/{session_id}", None),
        ("POST", f"/driver/sessions/{session_id}/stop", None),
        ("GET", f"/driver/sessions/{session_id}/receipt", None),
    ]


async def test_every_route_refuses_other_roles_and_other_drivers(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    await add_tariff(engine)
    owner, stranger = await driver_api(http, 0x81), await driver_api(http, 0x82)
    await fund(engine, [owner.seed])
    channel = await open_channel(engine, owner, 1_000_000)
    await owner.register_channel(channel)
    store = engine.api.state.context.payment_store
    now = dt.datetime.now(dt.UTC)
    record = SessionPaymentRecord(
        session_id=4242,
        charge_point_id="CP-A1",
        connector_id=1,
        transaction_ref="7",
        channel_id=channel.hex(),
        tariff_id=TARIFF.id,
        tariff_version=1,
        started_at=now,
        ended_at=now,
        billed=1_000,
        energy_wh=10,
        status="paid",
    )
    await asyncio.to_thread(store.start_session, record)
    everything = routes(channel.hex(), 4242)

    others: list[Headers] = [await operator(engine, "op-x"), await fleet(engine, "fleet-x")]
    for method, path, body in everything:
        assert (await http.request(method, path, json=body)).status_code == 401, path
        for headers in others:
            response = await http.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (path, response.text)

    scoped = [route for route in everything if "/4242" in route[1] or f"/{channel.hex()}" in route[1]]
    assert len(scoped) == 6
    for method, path, body in scoped:
        response = await http.request(method, path, json=body, headers=stranger._headers())
        assert response.status_code == 404, (path, response.text)
        assert response.json()["type"] == "urn:mobility:problem:not-found"
    assert (await stranger.sessions())["total"] == 0
    assert (await stranger.channels())["total"] == 0
    mine = await owner.session(4242)
    assert (mine["billed"], mine["paid"]) == (1_000, 1_000)
    assert (await owner.receipt(4242))["session_id"] == 4242


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/driver/channels", {"channel_id": "zz"}),
        ("POST", "/driver/channels", {}),
        ("GET", "/driver/channels/not-hex", None),
        ("POST", "/driver/channels/12/refresh", None),
        ("GET", "/driver/channels?limit=0", None),
        ("GET", "/driver/chargers?lat=91&lon=0", None),
        ("GET", "/driver/chargers?lat=0", None),
        ("GET", "/driver/chargers?lat=0&lon=0&radius_km=0", None),
        ("POST", "/driver/sessions", {"charge_point_id": "", "connector_id": 1, "channel_id": "00" * 32}),
        ("POST", "/driver/sessions", {"charge_point_id": "CP", "connector_id": -1, "channel_id": "00" * 32}),
        ("GET", "/driver/sessions/0", None),
        ("GET", "/driver/sessions/abc/receipt", None),
        ("GET", "/driver/sessions?offset=-1", None),
    ],
)
async def test_bad_input_is_a_422_and_writes_nothing(
    engine: Engine, http: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    api = await driver_api(http, 0x83)
    response = await http.request(method, path, json=body, headers=api._headers())
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:mobility:problem:invalid-request"
    store = engine.api.state.context.payment_store
    assert await asyncio.to_thread(store.channels_of, api.account_id or "") == []


async def test_chargers_nearby_nearest_first_with_status_and_tariff(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    await add_tariff(engine)
    cheap = Tariff.model_validate({**TARIFF.model_dump(mode="json"), "id": "cheap", "currency": "EUR"})
    await add_tariff(engine, cheap)
    api = await driver_api(http, 0x84)
    place_charger(engine, "CP-NEAR", 52.5200, 13.4050, "Alexanderplatz")
    place_charger(engine, "CP-MID", 52.5300, 13.4100, "Prenzlauer Berg", tariff_id="cheap")
    place_charger(engine, "CP-FAR", 48.1372, 11.5756, "Munich")
    place_charger(engine, "CP-OFF", 52.5201, 13.4051, "disabled")
    await asyncio.to_thread(engine.api.state.context.charging.register_charge_point, "CP-OFF", None, False)

    async with charger(engine, "CP-NEAR") as cp:
        await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        found = await api.chargers(52.52, 13.405, radius_km=5)
    assert found["total"] == 2
    near, mid = found["items"]
    assert (near["charge_point_id"], mid["charge_point_id"]) == ("CP-NEAR", "CP-MID")
    assert near["distance_km"] == 0
    assert 1.0 < mid["distance_km"] < 1.5
    assert (near["online"], mid["online"]) == (True, False)
    assert [(c["connector_id"], c["status"]) for c in near["connectors"]] == [(1, "Available")]
    assert mid["connectors"] == []
    assert (near["tariff"]["id"], mid["tariff"]["id"]) == ("default", "cheap")
    assert near["site"] == "Alexanderplatz"
    second = (
        await http.get("/driver/chargers?lat=52.52&lon=13.405&limit=1&offset=1", headers=api._headers())
    ).json()
    assert (second["total"], [c["charge_point_id"] for c in second["items"]]) == (2, ["CP-MID"])
    assert (await api.chargers(0.0, 0.0, radius_km=50))["total"] == 0


async def _closed_with(url: str, first: dict[str, Any] | None = None) -> int:
    async with connect(url) as socket:
        if first is not None:
            await socket.send(json.dumps(first))
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_the_stream_checks_who_connects_and_what_they_send(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    await add_tariff(engine)
    api, other = await driver_api(http, 0x85), await driver_api(http, 0x86)
    await fund(engine, [other.seed])
    theirs = await open_channel(engine, other, 500_000)
    await other.register_channel(theirs)
    url = f"ws://127.0.0.1:{engine.api_port}/driver/stream"
    operator_key = (await operator(engine, "op-s"))["Authorization"].removeprefix("Bearer ")

    assert await _closed_with(url + "?token=forged") == 4401
    assert await _closed_with(url + f"?token={operator_key}") == 4403
    assert await _closed_with(url, {"type": "hello"}) == 4401
    assert await _closed_with(url, {"type": "auth", "token": operator_key}) == 4403

    async with connect(f"{url}?token={api.token}") as socket:
        assert json.loads(await socket.recv()) == {"type": "ready", "account_id": api.account_id}
        other_wallet = await other.wallet()
        voucher = other_wallet.pay(theirs, 100_000)
        fields = {
            "channel_id": theirs.hex(),
            "nonce": voucher.voucher.nonce,
            "amount": voucher.voucher.amount,
            "public_key": voucher.public_key.hex(),
            "signature": voucher.signature.hex(),
        }
        messages: list[dict[str, Any]] = [
            {"type": "voucher", "id": 1, "voucher": voucher.to_bytes().hex()},
            {"type": "voucher", "id": 2, **fields},
            {"type": "voucher", "id": 3, "voucher": "00"},
            {"type": "voucher", "id": 4, "channel_id": theirs.hex()},
        ]
        for message in messages:
            await socket.send(json.dumps(message))
        answers = [json.loads(await socket.recv()) for _ in messages]
        assert [(a["id"], a["accepted"], a["reason"]) for a in answers] == [
            (1, False, "wrong_channel"),
            (2, False, "wrong_channel"),
            (3, False, "malformed"),
            (4, False, "malformed"),
        ]
        await socket.send("not json")
        assert json.loads(await socket.recv())["type"] == "error"
        await socket.send(json.dumps({"type": "dance"}))
        assert json.loads(await socket.recv())["type"] == "error"
    store = engine.api.state.context.payment_store
    record = await asyncio.to_thread(store.channel, theirs.hex())
    assert record is not None
    assert (record.paid, record.voucher_nonce) == (0, 0)

    async with connect(f"{url}?token={other.token}") as socket:  # the owner's own voucher counts
        assert json.loads(await socket.recv())["type"] == "ready"
        await socket.send(json.dumps({"type": "voucher", "id": "x", **fields}))
        answer = json.loads(await socket.recv())
        assert (answer["id"], answer["accepted"], answer["paid"]) == ("x", True, 100_000)
        await socket.send(json.dumps({"type": "voucher", "id": "y", **fields}))
        replay = json.loads(await socket.recv())
        assert (replay["accepted"], replay["reason"]) == (False, "replayed")
