"""Fleet payer keys, channels and the fleet payment stream, against the whole engine.

A fleet proves it holds a payer key by signing its own account ID; only then are channels
paying from that key taken on the fleet's account. Another fleet cannot reuse the proof or
the channel; drivers and operators are refused; bad input changes nothing. The stream pushes
payment requests for the fleet's channels and takes vouchers only for them; end to end, an
RFID session over OCPP 1.6 is paid by the fleet's SDK on that stream and reconciles.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import pow_rs
from mobility.api.fleet_channels import payer_key_message
from mobility.engine import Engine
from mobility.wallet.api_client import ApiError, FleetApi, FleetStream, Message
from mobility.wire.codec import Ed25519Address
from testkit.clock import ManualClock
from tests.api.conftest import Headers, bearer, driver, fleet, operator
from tests.api.driver_world import add_tariff, charger, fund, milestone
from tests.api.test_fleet_reconciliation import charge, settle_everything
from tests.api.test_fleet_vehicles import add_vehicle

FLEET_SEED, OTHER_SEED = bytes([0xA1]) * 32, bytes([0xA2]) * 32
DEPOSIT = 2_000_000


def proof(seed: bytes, account_id: str) -> dict[str, str]:
    """A payer-key registration body: the key's signature over the fleet's message."""
    key = pow_rs.SigningKey(seed)
    return {"public_key": key.public_key.hex(), "signature": key.sign(payer_key_message(account_id)).hex()}


def api_key(headers: Headers) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def funded_fleet(engine: Engine, http: httpx.AsyncClient, account_id: str, seed: bytes) -> FleetApi:
    """A fleet with an API key and a funded payer key (not yet proven to the engine)."""
    headers = await fleet(engine, account_id)
    api = FleetApi(http, api_key(headers), seed)
    await fund(engine, [seed])
    return api


async def opened(engine: Engine, api: FleetApi, deposit: int = DEPOSIT, days: int = 30) -> bytes:
    """A channel from the fleet's key to the operator, confirmed on the ledger."""
    expiry = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=days)
    _, channel_id = await api.open_channel(deposit, expiry)
    await milestone(engine)
    return channel_id


def kind(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, str(response.json().get("type", "")).rsplit(":", 1)[-1]


async def test_a_fleet_proves_its_payer_keys(engine: Engine, http: httpx.AsyncClient) -> None:
    mine, theirs = await fleet(engine, "fleet-k1"), await fleet(engine, "fleet-k2")
    body = proof(FLEET_SEED, "fleet-k1")

    # The proof names fleet-k1: replayed by another fleet it verifies over nothing.
    assert kind(await http.post("/fleet/payer-keys", json=body, headers=theirs)) == (422, "invalid-proof")
    assert (await http.get("/fleet/payer-keys", headers=theirs)).json()["total"] == 0
    first = await http.post("/fleet/payer-keys", json=body, headers=mine)
    assert first.status_code == 201, first.text
    address = Ed25519Address.from_public_key(pow_rs.SigningKey(FLEET_SEED).public_key)
    assert first.json()["address"] == address.to_bytes().hex()
    assert (await http.post("/fleet/payer-keys", json=body, headers=mine)).status_code == 200
    # A proof of its own for a key fleet-k1 holds: still one account per key.
    taken = await http.post("/fleet/payer-keys", json=proof(FLEET_SEED, "fleet-k2"), headers=theirs)
    assert kind(taken) == (409, "key-taken")
    listed = (await http.get("/fleet/payer-keys", headers=mine)).json()
    assert (listed["total"], listed["items"][0]["public_key"]) == (1, body["public_key"])

    # A driver's key stays the driver's.
    driver_key, _, driver_headers = await driver(http, 0x5A)
    signed = driver_key.sign(payer_key_message("fleet-k2")).hex()
    as_fleet = {"public_key": driver_key.public_key.hex(), "signature": signed}
    assert kind(await http.post("/fleet/payer-keys", json=as_fleet, headers=theirs)) == (409, "key-taken")

    # Bad input: 422, nothing written.
    wrong_signature = {**proof(OTHER_SEED, "fleet-k2"), "signature": body["signature"]}
    not_a_point = {"public_key": "ff" * 32, "signature": "00" * 64}
    for bad in (
        wrong_signature,
        not_a_point,
        {"public_key": "zz" * 32, "signature": body["signature"]},
        {"public_key": body["public_key"]},
        {"public_key": body["public_key"][:-2], "signature": body["signature"]},
    ):
        response = await http.post("/fleet/payer-keys", json=bad, headers=theirs)
        assert response.status_code == 422, (bad, response.text)
    assert (await http.get("/fleet/payer-keys", headers=theirs)).json()["total"] == 0

    # Roles and scopes.
    reader = await fleet(engine, "fleet-k3", frozenset({"fleet:read"}))
    own_proof = proof(OTHER_SEED, "fleet-k3")
    assert kind(await http.post("/fleet/payer-keys", json=own_proof, headers=reader)) == (
        403,
        "missing-scope",
    )
    assert (await http.get("/fleet/payer-keys", headers=reader)).status_code == 200
    op = await operator(engine, "op-k")
    for headers in (driver_headers, op):
        assert (await http.post("/fleet/payer-keys", json=own_proof, headers=headers)).status_code == 403
        assert (await http.get("/fleet/payer-keys", headers=headers)).status_code == 403
    assert (await http.get("/fleet/payer-keys")).status_code == 401


async def test_fleet_channels_are_registered_only_from_the_fleets_keys(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    await add_tariff(engine)
    api = await funded_fleet(engine, http, "fleet-c1", FLEET_SEED)
    other = await funded_fleet(engine, http, "fleet-c2", OTHER_SEED)
    channel_id = await opened(engine, api)
    store = engine.api.state.context.payment_store
    path = f"/fleet/channels/{channel_id.hex()}"
    body = {"channel_id": channel_id.hex()}

    # Not before the fleet proved the key; never for another fleet, whatever it proved.
    with pytest.raises(ApiError) as unproven:
        await api.register_channel(channel_id)
    assert (unproven.value.status, unproven.value.kind) == (409, "wrong-payer")
    await other.register_payer_key()
    stolen = await http.post("/fleet/channels", json=body, headers=other._headers())
    assert kind(stolen) == (409, "wrong-payer")
    assert await asyncio.to_thread(store.channel, channel_id.hex()) is None

    await api.register_payer_key()
    first = await http.post("/fleet/channels", json=body, headers=api._headers())
    assert first.status_code == 201, first.text
    assert first.json()["deposit"] == DEPOSIT
    assert (await http.post("/fleet/channels", json=body, headers=api._headers())).status_code == 200
    assert (await asyncio.to_thread(store.channel, channel_id.hex())).account_id == "fleet-c1"
    shown = await api.channel(channel_id)
    assert {k: shown[k] for k in ("deposit", "paid", "claimed", "owed", "available")} == {
        "deposit": DEPOSIT,
        "paid": 0,
        "claimed": 0,
        "owed": 0,
        "available": DEPOSIT,
    }

    # Another fleet: 404 on every route of the channel, and an empty list.
    for method in ("GET", "POST /refresh", "POST /close"):
        verb, _, suffix = method.partition(" ")
        assert (await http.request(verb, path + suffix, headers=other._headers())).status_code == 404, method
    assert (await other.channels())["total"] == 0
    # Drivers and operators: 403.
    _, _, driver_headers = await driver(http, 0x5B)
    op = await operator(engine, "op-c")
    for headers in (driver_headers, op):
        assert (await http.get("/fleet/channels", headers=headers)).status_code == 403
        assert (await http.post("/fleet/channels", json=body, headers=headers)).status_code == 403
        assert (await http.get(path, headers=headers)).status_code == 403
    reader = await fleet(engine, "fleet-c1", frozenset({"fleet:read"}))
    assert (await http.get(path, headers=reader)).status_code == 200
    assert (await http.post(path + "/refresh", headers=reader)).status_code == 403

    # Bad input: 422, nothing written.
    for bad in ({"channel_id": "xyz"}, {"channel_id": channel_id.hex()[:-2]}, {}, {"channel": body}):
        assert (await http.post("/fleet/channels", json=bad, headers=api._headers())).status_code == 422
    assert (await http.get("/fleet/channels/not-hex", headers=api._headers())).status_code == 422

    # Not on the ledger, the wrong payee, expired.
    unknown = await http.post("/fleet/channels", json={"channel_id": "00" * 32}, headers=api._headers())
    assert kind(unknown) == (409, "channel-not-on-ledger")
    wallet = await api.wallet()
    elsewhere = Ed25519Address.from_public_key(bytes([0x44]) * 32)
    soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    _, wrong_payee = await wallet.ledger.open_channel(elsewhere, 100_000, soon)
    await milestone(engine)
    short = await opened(engine, api, 100_000, days=2)
    wrong = await http.post("/fleet/channels", json={"channel_id": wrong_payee.hex()}, headers=api._headers())
    assert kind(wrong) == (409, "wrong-payee")
    context = engine.api.state.context
    context.clock = ManualClock(soon + dt.timedelta(seconds=1))
    expired = await http.post("/fleet/channels", json={"channel_id": short.hex()}, headers=api._headers())
    assert kind(expired) == (409, "channel-expired")
    context.clock = ManualClock(soon - dt.timedelta(days=1))
    await api.register_channel(short)
    page = await api.channels(limit=1)
    assert (page["total"], len(page["items"]), page["items"][0]["channel_id"]) == (2, 1, short.hex())
    assert (await api.channels(limit=1, offset=1))["items"][0]["channel_id"] == channel_id.hex()
    nothing = await http.post(f"/fleet/channels/{short.hex()}/close", headers=api._headers())
    assert kind(nothing) == (409, "nothing-to-claim")

    # Top up, refresh, pay on the stream, close: the operator claims and refunds the rest.
    await api.top_up(channel_id, 500_000)
    await milestone(engine)
    refreshed = await api.refresh_channel(channel_id)
    assert (refreshed["deposit"], refreshed["available"]) == (DEPOSIT + 500_000, DEPOSIT + 500_000)
    async with api.stream(auto_pay=False) as stream:
        voucher = wallet.pay(channel_id, 2_200_000)
        await stream.send({"type": "voucher", "voucher": voucher.to_bytes().hex(), "id": 7})
        verdict = await stream.until(lambda m: m["type"] == "voucher_result")
        assert (verdict["accepted"], verdict["paid"], verdict["id"]) == (True, 2_200_000, 7), verdict
    before = await wallet.ledger.balance()
    closing = await http.post(path + "/close", headers=api._headers())
    assert (closing.status_code, closing.json()["state"]) == (202, "closing")
    assert engine.settler is not None
    for _ in range(2):
        await engine.settler.run_once()
    await milestone(engine)
    (claim,) = await engine.settler.run_once()
    assert (claim.status, claim.close, claim.amount) == ("confirmed", True, 2_200_000)
    closed = await api.channel(channel_id)
    assert (closed["state"], closed["claimed"]) == ("closed", 2_200_000)
    assert await wallet.ledger.balance() == before + 300_000


async def _closed_with(url: str, first: dict[str, Any] | None = None) -> int | None:
    """The close code of a stream that refuses its credentials (None if it opened)."""
    async with connect(url) as socket:
        if first is not None:
            await socket.send(json.dumps(first))
        try:
            message = json.loads(await socket.recv())
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        assert message["type"] == "ready"
        return None


async def test_the_fleet_stream_takes_vouchers_for_the_fleets_channels_only(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    await add_tariff(engine)
    api = await funded_fleet(engine, http, "fleet-s1", FLEET_SEED)
    other = await funded_fleet(engine, http, "fleet-s2", OTHER_SEED)
    for fleet_api in (api, other):
        await fleet_api.register_payer_key()
    mine, theirs = await opened(engine, api), await opened(engine, other)
    await api.register_channel(mine)
    await other.register_channel(theirs)

    base = f"ws://127.0.0.1:{engine.api_port}/fleet/stream"
    assert await _closed_with(f"{base}?token={api.api_key}") is None
    assert await _closed_with(base, {"type": "auth", "token": api.api_key}) is None
    _, _, driver_headers = await driver(http, 0x5C)
    op = await operator(engine, "op-s")
    assert await _closed_with(base, {"type": "auth", "token": api_key(driver_headers)}) == 4403
    assert await _closed_with(base, {"type": "auth", "token": api_key(op)}) == 4403
    assert await _closed_with(base, {"type": "auth", "token": "mob_0123456789abcdef_nope"}) == 4401
    assert await _closed_with(base, {"type": "hello"}) == 4401
    driver_stream = f"ws://127.0.0.1:{engine.api_port}/driver/stream"
    assert await _closed_with(driver_stream, {"type": "auth", "token": api.api_key}) == 4403

    wallet, their_wallet = await api.wallet(), await other.wallet()
    async with api.stream(auto_pay=False) as stream:
        # The stream is the fleet's: a voucher for another fleet's channel is refused.
        await stream.send({"type": "voucher", "voucher": their_wallet.pay(theirs, 1_000).to_bytes().hex()})
        refused = await stream.until(lambda m: m["type"] == "voucher_result")
        assert (refused["accepted"], refused["reason"]) == (False, "wrong_channel"), refused
        await stream.send({"type": "voucher", "voucher": "00ff"})
        malformed = await stream.until(lambda m: m["type"] == "voucher_result")
        assert (malformed["accepted"], malformed["reason"]) == (False, "malformed")
        await stream.send({"type": "voucher", "channel_id": "nothex"})
        assert (await stream.until(lambda m: m["type"] in ("error", "voucher_result")))["type"] == "error"
        voucher = wallet.pay(mine, 5_000)
        await stream.send(
            {
                "type": "voucher",
                "channel_id": mine.hex(),
                "nonce": voucher.voucher.nonce,
                "amount": voucher.voucher.amount,
                "public_key": voucher.public_key.hex(),
                "signature": voucher.signature.hex(),
            }
        )
        accepted = await stream.until(lambda m: m["type"] == "voucher_result")
        assert (accepted["accepted"], accepted["paid"]) == (True, 5_000), accepted
        await stream.send({"type": "voucher", "voucher": voucher.to_bytes().hex()})  # a replay
        replayed = await stream.until(lambda m: m["type"] == "voucher_result")
        assert replayed["accepted"] is False
    assert (await other.channel(theirs))["paid"] == 0  # the refused voucher changed nothing

    # A read-only key may watch, not pay.
    reader = await fleet(engine, "fleet-s1", frozenset({"fleet:read"}))
    watcher = FleetApi(http, api_key(reader), FLEET_SEED)
    watcher._wallet = wallet
    async with watcher.stream(auto_pay=False) as stream:
        await stream.send({"type": "voucher", "voucher": wallet.pay(mine, 6_000).to_bytes().hex()})
        forbidden = await stream.until(lambda m: m["type"] == "voucher_result")
        assert (forbidden["accepted"], forbidden["reason"]) == (False, "forbidden"), forbidden
    assert (await api.channel(mine))["paid"] == 5_000


class StreamPayer:
    """The fleet's SDK stream answering the engine, paced for `charge`: each `pay()` waits until
    the request for the last event (a start or a reading: its bill is higher than before) has
    come and the wallet's voucher for it was accepted."""

    def __init__(self, stream: FleetStream) -> None:
        self.stream = stream
        self.changed = asyncio.Condition()
        self.requests: list[Message] = []
        self.accepted = 0
        self.owed_seen = -1
        self.ended: Message | None = None

    async def read(self) -> None:
        while True:
            message = await self.stream.receive()  # auto-pays payment requests
            async with self.changed:
                if message["type"] == "payment_request":
                    self.requests.append(message)
                elif message["type"] == "voucher_result" and message["accepted"]:
                    self.accepted = max(self.accepted, int(message["paid"]))
                elif message["type"] == "session" and message["event"] == "SessionEnded":
                    self.ended = message
                self.changed.notify_all()

    def _answered(self) -> bool:
        fresh = [r for r in self.requests if r["owed"] > self.owed_seen]
        if not fresh:
            return False
        wanted = max(r["amount"] for r in fresh)
        if self.accepted < wanted:
            return False
        self.owed_seen = max(r["owed"] for r in fresh)
        return True

    async def pay(self) -> None:
        async with asyncio.timeout(20), self.changed:
            await self.changed.wait_for(self._answered)


async def test_an_rfid_session_is_paid_over_the_fleet_stream_end_to_end(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    await add_tariff(engine)
    api = await funded_fleet(engine, http, "fleet-e1", FLEET_SEED)
    headers = bearer(api.api_key)
    van = await add_vehicle(http, headers, "Van")
    await api.add_token(van, "F1EE7E", "Eve")
    await api.register_payer_key()
    channel_id = await opened(engine, api)
    await api.register_channel(channel_id)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    async with api.stream() as stream, charger(engine, "CP-FS") as cp:
        payer = StreamPayer(stream)
        reader = asyncio.create_task(payer.read())
        try:
            registers = [50_000 + 11_000 * minute // 60 for minute in range(1, 6)]
            await charge(cp, payer, "f1ee7e", 1, now, registers)
            async with asyncio.timeout(20), payer.changed:
                await payer.changed.wait_for(lambda: payer.ended is not None)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        assert not stream.refused
    assert payer.ended is not None
    assert payer.ended["status"] == "paid", payer.ended
    assert payer.requests
    assert all(r["channel_id"] == channel_id.hex() for r in payer.requests)
    await settle_everything(engine)

    period = {
        "from": (now - dt.timedelta(hours=1)).isoformat(),
        "to": (now + dt.timedelta(hours=1)).isoformat(),
    }
    report = (await http.get("/fleet/reconciliation", params=period, headers=headers)).json()
    (line,) = report["sessions"]["items"]
    assert line["status"] == "ok", line
    assert line["billed"] == line["paid"] == line["settled"] > 0
    assert (line["vehicle_id"], line["driver_name"]) == (van, "Eve")
    channel = await api.channel(channel_id)
    # The vouchers ran a credit window ahead of the bill; the claim takes all they signed.
    assert channel["claimed"] == channel["paid"] >= line["settled"]
    assert channel["owed"] == line["billed"]


def test_the_payer_key_message_names_the_fleet() -> None:
    assert payer_key_message("fleet-a") == b"mobility-fleet-payer-key:fleet-a"
    assert payer_key_message("fleet-a") != payer_key_message("fleet-b")
