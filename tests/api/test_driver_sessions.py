"""The driver's whole journey through the API against the real engine: a channel opened with
the driver's own wallet and registered, a remote start answered by a simulated 1.6 charge
point, vouchers over the live stream, a remote stop, history, and a signed receipt that
verifies offline, resists tampering and carries the ledger settlement once confirmed."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pytest

import pow_rs
from mobility.engine import Engine
from mobility.payments.accounts import app_id_token
from mobility.payments.pricing import MeterSample, price_session
from mobility.wallet.api_client import DriverApiError, DriverStream
from mobility.wire.receipts import verify_receipt
from ocpp_server._ocpp import call16, on, result16
from tests.api.driver_world import (
    TARIFF,
    WINDOW,
    add_tariff,
    charger,
    driver_api,
    fund,
    iso,
    meter,
    milestone,
    open_channel,
    place_charger,
)
from tests.ocpp.clients import Client16
from tests.ocpp.conftest import library_client

Message = dict[str, Any]


async def both(stream: DriverStream, first: str, second: str) -> dict[str, Message]:
    """Read until a message of each type arrived (their relative order is not fixed)."""
    seen: dict[str, Message] = {}
    while not {first, second} <= seen.keys():
        message = await stream.receive()
        seen.setdefault(message["type"], message)
    return seen


async def test_a_paid_session_started_and_stopped_through_the_api(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    assert engine.settler is not None
    await add_tariff(engine)
    api = await driver_api(http, 0x61)
    await fund(engine, [api.seed])
    channel_id = await open_channel(engine, api, 2_000_000)
    registered = await api.register_channel(channel_id)
    assert (registered["deposit"], registered["paid"], registered["available"]) == (2_000_000, 0, 2_000_000)
    place_charger(engine, "CP-D1", 52.52, 13.40, "Mitte")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    async with charger(engine, "CP-D1") as cp, api.stream() as stream:
        started = await api.start("CP-D1", 1, channel_id)
        assert started["command"]["status"] == "Accepted"
        token = started["id_token"]
        assert cp.received == [("RemoteStartTransaction", {"connector_id": 1, "id_tag": token})]
        assert engine.payments is not None
        pin = await asyncio.to_thread(engine.payments.store.remote_start_pin, "CP-D1", token)
        assert pin is not None  # on disk before the command went out
        assert pin.channel_id == channel_id.hex()
        begun = await cp.call(
            call16.StartTransaction(connector_id=1, id_tag=token, meter_start=7_000, timestamp=iso(now))
        )
        assert begun.id_tag_info["status"] == "Accepted"
        first = await both(stream, "session", "voucher_result")
        session_id = first["session"]["session_id"]
        assert first["session"]["status"] == "active"
        assert await asyncio.to_thread(engine.payments.store.remote_start_pin, "CP-D1", token) is None
        assert first["voucher_result"]["accepted"]
        assert first["voucher_result"]["paid"] == WINDOW  # the credit window, paid ahead

        samples = []
        for minute in range(1, 6):  # 12 kW: 200 Wh a minute
            at, energy = now + dt.timedelta(minutes=minute), 200 * minute
            samples.append(MeterSample(at, energy))
            await cp.call(
                call16.MeterValues(
                    connector_id=1, transaction_id=begun.transaction_id, meter_value=meter(at, 7_000 + energy)
                )
            )
            seen = await both(stream, "session", "voucher_result")
            update, verdict = seen["session"], seen["voucher_result"]
            assert (update["session_id"], update["energy_wh"]) == (session_id, energy)
            assert update["cost"] == price_session(TARIFF, now, samples).total_incl_vat
            if minute > 1:
                assert update["power_w"] == 12_000
            assert verdict["accepted"], verdict
            assert verdict["paid"] == update["cost"] + WINDOW

        stopped = await api.stop(session_id)
        assert stopped["command"]["status"] == "Accepted"
        assert cp.received[-1] == ("RemoteStopTransaction", {"transaction_id": begun.transaction_id})
        end = now + dt.timedelta(minutes=5)
        await cp.call(
            call16.StopTransaction(
                transaction_id=begun.transaction_id, meter_stop=8_000, timestamp=iso(end), reason="Remote"
            )
        )
        final = await stream.until(lambda m: m["type"] == "session" and m["status"] != "active")
        assert engine.payments is not None
        await engine.payments.commands_sent()
        assert [name for name, _ in cp.received] == ["RemoteStartTransaction", "RemoteStopTransaction"]
        assert stream.refused == []

    billed = price_session(TARIFF, now, samples, ended_at=end).total_incl_vat
    assert (final["status"], final["energy_wh"], final["cost"]) == ("paid", 1_000, billed)
    history = await api.sessions()
    assert history["total"] == 1
    (item,) = history["items"]
    assert (item["session_id"], item["billed"], item["paid"], item["energy_wh"]) == (
        session_id,
        billed,
        billed,
        1_000,
    )
    assert item["tariff_version"] == 1

    receipt = await api.receipt(session_id)  # verified by the SDK
    assert (receipt["energy_wh"], receipt["billed"], receipt["paid"]) == (1_000, billed, billed)
    assert receipt["settlement"] is None
    operator_key = engine.api.state.context.operator_key.public_key
    assert verify_receipt(receipt, operator_key)
    for field, value in [("billed", billed - 1), ("energy_wh", 999), ("session_id", session_id + 1)]:
        assert not verify_receipt({**receipt, field: value}, operator_key)
    assert not verify_receipt(receipt, pow_rs.SigningKey(bytes([9]) * 32).public_key)

    for _ in range(2):  # claim: intent -> built -> submitted
        await engine.settler.run_once()
    await milestone(engine)
    (confirmed,) = await engine.settler.run_once()
    assert confirmed.status == "confirmed"
    settled = await api.receipt(session_id)
    reference = settled["settlement"]
    assert reference["block_id"] == confirmed.block_id
    assert reference["milestone_index"] == confirmed.milestone_index
    proof = reference["inclusion_proof"]
    assert pow_rs.merkle_verify(
        bytes.fromhex(proof["inclusion_merkle_root"]),
        bytes.fromhex(reference["block_id"]),
        proof["index"],
        proof["count"],
        [bytes.fromhex(step) for step in proof["path"]],
    )
    tampered = json.loads(json.dumps(settled))
    tampered["settlement"]["milestone_index"] += 1
    assert not verify_receipt(tampered, operator_key)
    balance = await api.channel(channel_id)
    assert balance["claimed"] == confirmed.amount
    assert balance["owed"] == billed


async def test_a_refused_start_writes_nothing_and_sends_nothing(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    await add_tariff(engine)
    api = await driver_api(http, 0x62)
    other = await driver_api(http, 0x63)
    await fund(engine, [api.seed, other.seed])
    small = await open_channel(engine, api, WINDOW - 1)
    await api.register_channel(small)
    theirs = await open_channel(engine, other, 1_000_000)
    await other.register_channel(theirs)
    place_charger(engine, "CP-D2", 48.1, 11.5)
    place_charger(engine, "CP-OFF", 48.1, 11.6)
    store = engine.api.state.context.payment_store

    async with charger(engine, "CP-D2") as cp:
        with pytest.raises(DriverApiError) as refused:
            await api.start("CP-D2", 1, small)
        assert (refused.value.status, refused.value.kind) == (409, "payment-required")
        assert f"{WINDOW - 1} left" in refused.value.problem["detail"]
        for charge_point, channel, status, kind in [
            ("CP-D2", theirs, 404, "not-found"),  # another driver's channel
            ("CP-NOPE", small, 404, "not-found"),
            ("CP-OFF", small, 409, "charger-offline"),
        ]:
            with pytest.raises(DriverApiError) as error:
                await api.start(charge_point, 1, channel)
            assert (error.value.status, error.value.kind) == (status, kind)
        bad = await http.post(
            "/driver/sessions",
            json={"charge_point_id": "CP-D2", "connector_id": 0, "channel_id": small.hex()},
            headers=api._headers(),
        )
        assert bad.status_code == 422
        assert engine.payments is not None
        await engine.payments.commands_sent()
        assert cp.received == []
    assert await asyncio.to_thread(store.account_for_token, app_id_token(api.account_id or "")) is None
    assert (await api.sessions())["total"] == 0


class RefusingClient(Client16):
    """A 1.6 charge point that refuses remote starts (connector busy, say)."""

    @on("RemoteStartTransaction")
    def on_remote_start(self, **payload: Any) -> Any:
        self.received.append(("RemoteStartTransaction", payload))
        return result16.RemoteStartTransaction(status="Rejected")


async def test_a_start_the_charger_refuses_is_a_409_with_its_answer(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    assert engine.payments is not None
    await add_tariff(engine)
    api = await driver_api(http, 0x64)
    await fund(engine, [api.seed])
    channel = await open_channel(engine, api, 1_000_000)
    await api.register_channel(channel)
    place_charger(engine, "CP-NO", 50.0, 8.0)
    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/CP-NO"
    async with library_client(url, "1.6", RefusingClient, charge_point_id="CP-NO") as cp:
        with pytest.raises(DriverApiError) as refused:
            await api.start("CP-NO", 2, channel)
        assert cp.received == [
            ("RemoteStartTransaction", {"connector_id": 2, "id_tag": app_id_token(api.account_id or "")})
        ]
    assert (refused.value.status, refused.value.kind) == (409, "charger-refused")
    assert refused.value.problem["command"]["status"] == "Rejected"
    # The channel choice, on disk before the command went out, is dropped with the refused start.
    token = app_id_token(api.account_id or "")
    assert await asyncio.to_thread(engine.payments.store.remote_start_pin, "CP-NO", token) is None


async def test_an_app_token_pays_only_for_the_drivers_own_remote_start(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    """The app's id token is derived from the account ID (which anyone can compute from the
    driver's public key, public on the ledger): presented at a charger without the driver's
    remote start there, it must not charge on the driver's channel."""
    await add_tariff(engine)
    victim = await driver_api(http, 0x71)
    await fund(engine, [victim.seed])
    channel = await open_channel(engine, victim, 1_000_000)
    await victim.register_channel(channel)
    place_charger(engine, "CP-APP1", 48.2, 11.6)
    place_charger(engine, "CP-APP2", 48.2, 11.7)
    forged = app_id_token(victim.account_id or "")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    async with charger(engine, "CP-APP1") as own, charger(engine, "CP-APP2") as rogue:
        started = await victim.start("CP-APP1", 1, channel)  # the token now exists
        assert started["id_token"] == forged
        authorized = await rogue.call(call16.Authorize(id_tag=forged.lower()))
        assert authorized.id_tag_info["status"] != "Accepted"
        begun = await rogue.call(
            call16.StartTransaction(connector_id=1, id_tag=forged, meter_start=0, timestamp=iso(now))
        )
        assert begun.id_tag_info["status"] != "Accepted"
        # The driver's own remote start still goes through.
        mine = await own.call(
            call16.StartTransaction(connector_id=1, id_tag=forged, meter_start=0, timestamp=iso(now))
        )
        assert mine.id_tag_info["status"] == "Accepted"
    sessions = await victim.sessions()
    assert [item["charge_point_id"] for item in sessions["items"]] == ["CP-APP1"]


async def test_a_running_session_shows_nothing_paid_until_it_ends(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    """`paid` is what the vouchers covered of the bill, known when the session ends (as on the
    operator's and the fleet's routes); while charging with no voucher sent it is not the bill."""
    await add_tariff(engine)
    api = await driver_api(http, 0x72)
    await fund(engine, [api.seed])
    channel = await open_channel(engine, api, 1_000_000)
    await api.register_channel(channel)
    place_charger(engine, "CP-RUN", 48.3, 11.6)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    async with charger(engine, "CP-RUN") as cp:
        token = (await api.start("CP-RUN", 1, channel))["id_token"]
        begun = await cp.call(
            call16.StartTransaction(connector_id=1, id_tag=token, meter_start=0, timestamp=iso(now))
        )
        at = now + dt.timedelta(minutes=1)
        reading = meter(at, 100)
        await cp.call(
            call16.MeterValues(connector_id=1, transaction_id=begun.transaction_id, meter_value=reading)
        )
        assert engine.payments is not None
        await engine.payments.idle()  # the reading is priced after the charger's answer
        (item,) = (await api.sessions())["items"]
        assert (item["status"], item["energy_wh"]) == ("active", 100)
        assert item["billed"] > 0
        assert item["paid"] == 0  # no voucher was sent
        assert (await api.session(item["session_id"]))["paid"] == 0


async def test_a_final_bill_is_paid_from_the_stream_and_the_driver_starts_again(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    """A charger that reports energy only at the stop: the session ends owing nearly all of its
    bill, and the driver would be refused at the next start. The engine asks for the final bill
    on the stream, the SDK's wallet pays it (within its limits), and the session is paid."""
    await add_tariff(engine)
    api = await driver_api(http, 0x73)
    await fund(engine, [api.seed])
    channel = await open_channel(engine, api, 2_000_000)
    await api.register_channel(channel)
    place_charger(engine, "CP-FIN", 48.4, 11.6)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    end = now + dt.timedelta(minutes=20)
    billed = price_session(TARIFF, now, [MeterSample(end, 4_000)], ended_at=end).total_incl_vat

    async with charger(engine, "CP-FIN") as cp, api.stream() as stream, asyncio.timeout(20):
        token = (await api.start("CP-FIN", 1, channel))["id_token"]
        begun = await cp.call(
            call16.StartTransaction(connector_id=1, id_tag=token, meter_start=0, timestamp=iso(now))
        )
        opening = await stream.until(lambda m: m["type"] == "voucher_result")
        assert (opening["accepted"], opening["paid"]) == (True, WINDOW)
        session_id = (await api.sessions())["items"][0]["session_id"]
        await cp.call(
            call16.StopTransaction(
                transaction_id=begun.transaction_id, meter_stop=4_000, timestamp=iso(end), reason="Local"
            )
        )
        final = await stream.until(lambda m: m["type"] == "payment_request" and m["amount"] > WINDOW)
        assert (final["session_ids"], final["amount"], final["action"]) == ([session_id], billed, "continue")
        answer = await stream.until(lambda m: m["type"] == "voucher_result")  # the SDK paid it
        assert (answer["accepted"], answer["paid"]) == (True, billed)
        assert stream.refused == []
        item = await api.session(session_id)
        assert (item["status"], item["billed"], item["paid"], item["shortfall"]) == (
            "paid",
            billed,
            billed,
            0,
        )
        again = await api.start("CP-FIN", 1, channel)  # no debt left: not payment-required
        assert again["command"]["status"] == "Accepted"
