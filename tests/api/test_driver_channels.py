"""Channels through the driver API: registered only when the ledger shows the driver paying
the operator, refreshed after a top-up (the payment layer then honours the new deposit), and
closed by the operator's closing claim, which refunds the rest to the driver."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from mobility.engine import Engine
from mobility.wire.codec import Ed25519Address
from testkit.clock import ManualClock
from tests.api.driver_world import add_tariff, driver_api, fund, milestone, open_channel


async def test_a_channel_is_registered_refreshed_and_closed(engine: Engine, http: httpx.AsyncClient) -> None:
    assert engine.settler is not None
    await add_tariff(engine)
    api, other = await driver_api(http, 0x71), await driver_api(http, 0x72)
    await fund(engine, [api.seed, other.seed])
    channel_id = await open_channel(engine, api, 1_000_000)
    path = f"/driver/channels/{channel_id.hex()}"
    store = engine.api.state.context.payment_store

    assert (await http.get(path, headers=api._headers())).status_code == 404  # not registered yet
    stolen = await http.post(
        "/driver/channels", json={"channel_id": channel_id.hex()}, headers=other._headers()
    )
    assert (stolen.status_code, stolen.json()["type"]) == (409, "urn:mobility:problem:wrong-payer")
    assert await asyncio.to_thread(store.channel, channel_id.hex()) is None

    first = await http.post("/driver/channels", json={"channel_id": channel_id.hex()}, headers=api._headers())
    assert first.status_code == 201
    body = first.json()
    assert (body["deposit"], body["paid"], body["claimed"], body["state"]) == (1_000_000, 0, 0, "open")
    again = await http.post("/driver/channels", json={"channel_id": channel_id.hex()}, headers=api._headers())
    assert again.status_code == 200
    assert (await other.channels())["total"] == 0
    for method in ("GET", "POST /refresh", "POST /close"):
        verb, _, suffix = method.partition(" ")
        response = await http.request(verb, path + suffix, headers=other._headers())
        assert response.status_code == 404, method

    await api.top_up(channel_id, 500_000)
    await milestone(engine)
    refreshed = await api.refresh_channel(channel_id)
    assert (refreshed["deposit"], refreshed["available"]) == (1_500_000, 1_500_000)
    async with api.stream(auto_pay=False) as stream:  # the payment layer sees the new deposit
        wallet = await api.wallet()
        await stream.send({"type": "voucher", "voucher": wallet.pay(channel_id, 1_200_000).to_bytes().hex()})
        verdict = await stream.until(lambda m: m["type"] == "voucher_result")
        assert (verdict["accepted"], verdict["paid"]) == (True, 1_200_000), verdict
    listed = await api.channels()
    assert listed["total"] == 1
    assert listed["items"][0]["paid"] == 1_200_000
    assert listed["items"][0]["available"] == 300_000

    before = await wallet.ledger.balance()
    closing = await http.post(path + "/close", headers=api._headers())
    assert closing.status_code == 202
    assert closing.json()["state"] == "closing"
    twice = await http.post(path + "/close", headers=api._headers())
    assert (twice.status_code, twice.json()["type"]) == (409, "urn:mobility:problem:channel-closing")
    for _ in range(2):
        await engine.settler.run_once()
    await milestone(engine)
    (claim,) = await engine.settler.run_once()
    assert (claim.status, claim.close, claim.amount) == ("confirmed", True, 1_200_000)
    closed = await api.channel(channel_id)
    assert (closed["state"], closed["claimed"], closed["available"]) == ("closed", 1_200_000, 0)
    assert await wallet.ledger.balance() == before + 300_000  # the rest came back
    gone = await http.post(path + "/refresh", headers=api._headers())
    assert (gone.status_code, gone.json()["type"]) == (409, "urn:mobility:problem:channel-not-on-ledger")


async def test_channels_that_do_not_pay_the_operator_now_are_refused(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    api = await driver_api(http, 0x73)
    await fund(engine, [api.seed])
    wallet = await api.wallet()
    elsewhere = Ed25519Address.from_public_key(bytes([0x44]) * 32)
    expiry = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)
    _, wrong_payee = await wallet.ledger.open_channel(elsewhere, 100_000, expiry)
    await milestone(engine)
    good = await open_channel(engine, api, 100_000, days=3)
    # The good channel's own expiry: open_channel reads the wall clock again, a second or more
    # after `expiry` above when mining and the milestone are slow.
    on_ledger = await wallet.ledger.client.channel(good)
    assert on_ledger is not None
    expiry = dt.datetime.fromtimestamp(on_ledger.expiry, dt.UTC)
    store = engine.api.state.context.payment_store

    async def register(channel_id: bytes) -> tuple[int, str]:
        response = await http.post(
            "/driver/channels", json={"channel_id": channel_id.hex()}, headers=api._headers()
        )
        return response.status_code, response.json().get("type", "")

    assert await register(wrong_payee) == (409, "urn:mobility:problem:wrong-payee")
    assert await register(bytes(32)) == (409, "urn:mobility:problem:channel-not-on-ledger")
    engine.api.state.context.clock = ManualClock(expiry + dt.timedelta(seconds=1))
    assert await register(good) == (409, "urn:mobility:problem:channel-expired")
    assert await asyncio.to_thread(store.channels_of, api.account_id or "") == []
    engine.api.state.context.clock = ManualClock(expiry - dt.timedelta(days=1))
    assert (await register(good))[0] == 201
    nothing = await http.post(f"/driver/channels/{good.hex()}/close", headers=api._headers())
    assert (nothing.status_code, nothing.json()["type"]) == (409, "urn:mobility:problem:nothing-to-claim")
