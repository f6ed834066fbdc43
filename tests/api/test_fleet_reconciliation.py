"""A fleet's sessions from the charger to the ledger: RFID tokens registered over the API, three
sessions over OCPP 1.6 paid by the fleet's vouchers (one in full, one with a meter going
backwards, one not at all), settlement confirmed by milestones issued by hand, then the
reconciliation, the exports and the audit proof, checked against the engine's own figures."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from fractions import Fraction
from typing import Any, Protocol

import httpx
from sqlmodel import Session

from mobility.charging.models import ChargePointRecord
from mobility.devnet import faucet_seed, operator_seed
from mobility.engine import Engine
from mobility.fleet.audit import BundleInvalidError, SettlementBundle, verify_settlement_bundle
from mobility.ledger.client import InProcessClient
from mobility.payments.models import ChannelRecord
from mobility.payments.pricing import MeterSample, price_session
from mobility.payments.service import PaymentRequest
from mobility.wallet.ledger import Wallet
from ocpp_server._ocpp import call16
from tests.api.conftest import Headers, fleet
from tests.api.test_fleet_vehicles import add_vehicle
from tests.ocpp.clients import Client16
from tests.ocpp.conftest import library_client
from tests.test_engine import TARIFF, iso, meter, milestone

FLEET_SEED = bytes([0xF1]) * 32
DEPOSIT = 3_000_000


async def fleet_channel(engine: Engine, account_id: str, now: dt.datetime) -> tuple[Wallet, bytes]:
    """A funded fleet wallet with a channel to the operator, tracked on the fleet's account."""
    client = InProcessClient(engine.node)
    data_dir = engine.settings.data_dir
    faucet, payer = Wallet(client, faucet_seed(data_dir)), Wallet(client, FLEET_SEED)
    operator = Wallet(client, operator_seed(data_dir))
    await faucet.transfer(payer.address, 5_000_000)
    await milestone(engine)
    _, channel_id = await payer.open_channel(operator.address, DEPOSIT, now + dt.timedelta(days=30))
    await milestone(engine)
    assert engine.payments is not None
    store = engine.payments.store
    await asyncio.to_thread(store.add_tariff, TARIFF, now)
    record = ChannelRecord(
        channel_id=channel_id.hex(),
        account_id=account_id,
        payer_address=payer.address.to_bytes().hex(),
        deposit=DEPOSIT,
        expiry=now + dt.timedelta(days=30),
    )
    await asyncio.to_thread(store.add_channel, record)
    return payer, channel_id


def place_at_site(engine: Engine, charge_point_id: str, site: str) -> None:
    """What the operator API does when it sets a charge point's site."""
    with Session(engine.api.state.context.payment_store.engine) as db:
        record = db.get(ChargePointRecord, charge_point_id)
        assert record is not None
        record.site = site
        db.add(record)
        db.commit()


class Fleet:
    """The paying side: vouchers for whatever the engine last asked."""

    def __init__(self, engine: Engine, wallet: Wallet, channel_id: bytes) -> None:
        self.engine, self.wallet, self.channel_id = engine, wallet, channel_id
        self.requests: list[PaymentRequest] = []
        self.nonce = 0

    async def remember(self, request: PaymentRequest) -> None:
        self.requests.append(request)

    async def pay(self) -> None:
        assert self.engine.payments is not None
        self.nonce += 1
        voucher = self.wallet.voucher(self.channel_id, self.nonce, self.requests[-1].amount)
        await self.engine.payments.submit_voucher(voucher)


class Payer(Protocol):
    """Whoever pays ahead of each reading in `charge` (in-process here, or over the fleet stream)."""

    async def pay(self) -> None: ...


async def charge(
    cp: Any,
    payer: Payer | None,
    tag: str,
    connector: int,
    start: dt.datetime,
    registers: list[int],
    meter_start: int = 50_000,
    meter_stop: int | None = None,
) -> tuple[int, list[MeterSample], dt.datetime]:
    """One session, a reading a minute; the payer (if any) pays ahead of each reading. The stop
    reports the highest register, unless `meter_stop` says otherwise."""
    assert (await cp.call(call16.Authorize(id_tag=tag))).id_tag_info["status"] == "Accepted"
    started = await cp.call(
        call16.StartTransaction(
            connector_id=connector, id_tag=tag, meter_start=meter_start, timestamp=iso(start)
        )
    )
    tx = started.transaction_id
    samples = []
    for minute, register in enumerate(registers, start=1):
        if payer is not None:
            await payer.pay()
        at = start + dt.timedelta(minutes=minute)
        samples.append(MeterSample(at, register - meter_start))
        await cp.call(
            call16.MeterValues(connector_id=connector, transaction_id=tx, meter_value=meter(at, register))
        )
    if payer is not None:
        await payer.pay()
    end = start + dt.timedelta(minutes=len(registers))
    stop_register = max(registers) if meter_stop is None else meter_stop
    await cp.call(call16.StopTransaction(transaction_id=tx, meter_stop=stop_register, timestamp=iso(end)))
    return tx, samples, end


async def settle_everything(engine: Engine) -> None:
    """Run the settler and issue milestones until no claim is in flight (a bounded number of steps)."""
    assert engine.settler is not None
    assert engine.payments is not None
    store = engine.payments.store
    for _ in range(6):
        for _ in range(2):
            await engine.settler.run_once()
        await milestone(engine)
        confirmed = await engine.settler.run_once()
        in_flight = await asyncio.to_thread(store.settlements_in_flight)
        channel = await asyncio.to_thread(store.all_channels)
        if confirmed and not in_flight and all(c.claimed == c.paid for c in channel):
            return
    raise AssertionError("settlement did not complete")


async def test_a_fleet_reconciles_its_sessions_from_meter_to_ledger(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    assert engine.payments is not None
    headers = await fleet(engine, "fleet-r")
    other = await fleet(engine, "fleet-s")
    van, car = await add_vehicle(http, headers, "Van"), await add_vehicle(http, headers, "Car")
    for vehicle, token, name in ((van, "F1EE7A", "Ada"), (van, "F1EE7C", "Cy"), (car, "F1EE7B", "Bob")):
        response = await http.post(
            f"/fleet/vehicles/{vehicle}/tokens", json={"token": token, "driver_name": name}, headers=headers
        )
        assert response.status_code == 201, response.text
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    wallet, channel_id = await fleet_channel(engine, "fleet-r", now)
    payer = Fleet(engine, wallet, channel_id)
    engine.payments.subscribe(payer.remember)

    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/CP-F1"
    async with library_client(url, "1.6", Client16, charge_point_id="CP-F1") as cp:
        await cp.call(call16.BootNotification(charge_point_vendor="sim", charge_point_model="m1"))
        await asyncio.to_thread(place_at_site, engine, "CP-F1", "Depot North")
        # Paid in full: 11 kW for ten minutes (183 Wh a minute), RFID read in lower case.
        paid_registers = [50_000 + 11_000 * minute // 60 for minute in range(1, 11)]
        _, paid_samples, paid_end = await charge(cp, payer, "f1ee7a", 1, now, paid_registers)
        # The meter goes backwards in the middle: flagged, whatever was paid.
        odd_start = now + dt.timedelta(minutes=20)
        await charge(cp, payer, "F1EE7C", 1, odd_start, [60_100, 60_200, 60_050, 60_300], meter_start=60_000)
        # Nobody pays: the engine stops it, and it ends with a shortfall.
        unpaid_start = now + dt.timedelta(minutes=40)
        await charge(cp, None, "F1EE7B", 2, unpaid_start, [71_000, 72_000], meter_start=70_000)
        await engine.payments.commands_sent()
    period = {"from": iso(now - dt.timedelta(hours=1)), "to": iso(now + dt.timedelta(hours=2))}
    before = (await http.get("/fleet/reconciliation", params=period, headers=headers)).json()
    assert [s["status"] for s in before["sessions"]["items"]] == ["unsettled", "meter anomaly", "unpaid"]
    assert before["sessions"]["items"][0]["settlement"] is None
    assert before["total"]["settled"] == 0
    await settle_everything(engine)

    report = (await http.get("/fleet/reconciliation", params=period, headers=headers)).json()
    sessions = report["sessions"]["items"]
    assert report["sessions"]["total"] == 3
    assert [s["status"] for s in sessions] == ["ok", "meter anomaly", "unpaid"]
    assert [s["driver_name"] for s in sessions] == ["Ada", "Cy", "Bob"]
    ok, odd, unpaid = sessions
    expected = price_session(TARIFF, now, paid_samples, ended_at=paid_end).total_incl_vat
    assert ok["metered_wh"] == 1_833
    assert ok["billed"] == ok["repriced"] == ok["paid"] == ok["settled"] == expected
    assert ok["vehicle_id"] == van
    assert ok["site"] == "Depot North"
    assert ok["id_token"] == "F1EE7A"
    assert ok["settlement"]["inclusion_proof"] is True
    assert "backwards" in odd["reason"]
    assert unpaid["paid"] < unpaid["billed"]
    assert unpaid["settled"] == unpaid["paid"]  # what was paid of it is on the ledger
    assert report["total"]["sessions"] == 3
    assert report["total"]["energy_wh"] == sum(s["metered_wh"] for s in sessions)
    assert report["total"]["by_status"] == {"ok": 1, "meter anomaly": 1, "unpaid": 1}
    by_vehicle = {group["key"]: group for group in report["vehicles"]}
    assert by_vehicle[van]["sessions"] == 2
    assert by_vehicle[car]["billed"] == unpaid["billed"]
    assert {group["key"] for group in report["drivers"]} == {"Ada", "Bob", "Cy"}
    assert [(g["key"], g["sessions"]) for g in report["sites"]] == [("Depot North", 3)]
    page = (
        await http.get("/fleet/reconciliation", params={**period, "limit": 1, "offset": 2}, headers=headers)
    ).json()
    assert [s["session_id"] for s in page["sessions"]["items"]] == [unpaid["session_id"]]
    assert page["total"] == report["total"]  # totals cover the whole period, not the page

    # Another fleet sees none of it.
    theirs = (await http.get("/fleet/reconciliation", params=period, headers=other)).json()
    assert theirs["sessions"]["total"] == 0
    assert (await http.get(f"/fleet/sessions/{ok['session_id']}/proof", headers=other)).status_code == 404

    # A bill that the readings do not support is a mismatch.
    store = engine.api.state.context.payment_store
    await asyncio.to_thread(store.update_session, ok["session_id"], billed=expected + 1)
    altered = (await http.get("/fleet/reconciliation", params={**period, "limit": 1}, headers=headers)).json()
    assert altered["sessions"]["items"][0]["status"] == "mismatch"
    assert str(expected) in altered["sessions"]["items"][0]["reason"]
    await asyncio.to_thread(store.update_session, ok["session_id"], billed=expected)

    await check_exports(http, headers, period, sessions, expected)
    await check_proof(engine, http, headers, ok["session_id"], channel_id, unpaid["session_id"])


async def test_a_final_bill_paid_after_the_end_reconciles_as_paid(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    """The register jumps at the stop (within the slack the charging layer allows): the session
    ends owing more than the fleet paid ahead. The fleet pays the request for the final bill
    that follows the end, and the session reconciles as paid in full and settled, not unpaid."""
    assert engine.payments is not None
    headers = await fleet(engine, "fleet-d")
    van = await add_vehicle(http, headers, "Van")
    body = {"token": "F1EE7D", "driver_name": "Di"}
    assert (await http.post(f"/fleet/vehicles/{van}/tokens", json=body, headers=headers)).status_code == 201
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    wallet, channel_id = await fleet_channel(engine, "fleet-d", now)
    payer = Fleet(engine, wallet, channel_id)
    engine.payments.subscribe(payer.remember)
    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/CP-F2"
    async with library_client(url, "1.6", Client16, charge_point_id="CP-F2") as cp:
        await cp.call(call16.BootNotification(charge_point_vendor="sim", charge_point_model="m1"))
        _, samples, end = await charge(cp, payer, "F1EE7D", 1, now, [50_100, 50_200], meter_stop=51_100)
        await engine.payments.commands_sent()
    expected = price_session(TARIFF, now, [*samples, MeterSample(end, 1_100)], ended_at=end).total_incl_vat
    period = {"from": iso(now - dt.timedelta(hours=1)), "to": iso(now + dt.timedelta(hours=1))}
    before = (await http.get("/fleet/reconciliation", params=period, headers=headers)).json()
    (owing,) = before["sessions"]["items"]
    assert (owing["status"], owing["billed"]) == ("unpaid", expected)
    assert owing["paid"] < expected

    await payer.pay()  # answers the request for the final bill
    await settle_everything(engine)
    report = (await http.get("/fleet/reconciliation", params=period, headers=headers)).json()
    (line,) = report["sessions"]["items"]
    assert (line["status"], line["reason"]) == ("ok", "")
    assert line["billed"] == line["repriced"] == line["paid"] == line["settled"] == expected
    assert report["total"]["by_status"] == {"ok": 1}
    assert report["total"]["paid"] == report["total"]["settled"] == expected


async def check_exports(
    http: httpx.AsyncClient,
    headers: Headers,
    period: dict[str, str],
    sessions: list[dict[str, Any]],
    billed: int,
) -> None:
    response = await http.get("/fleet/exports/cdrs", params=period, headers=headers)
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "3"
    assert b'"total_energy":1.833' in response.content  # exact kWh, never a float's digits
    document = json.loads(response.content, parse_float=Fraction)
    assert document["status_code"] == 1000
    cdr = document["data"][0]
    assert cdr["id"] == str(sessions[0]["session_id"])
    assert cdr["cdr_token"]["uid"] == "F1EE7A"
    assert cdr["currency"] == "EUR"
    assert cdr["total_energy"] == Fraction(1833, 1000)
    assert cdr["total_cost"]["incl_vat"] * 1_000_000 == billed
    assert cdr["total_time"] == Fraction(166_667, 1_000_000)  # ten minutes in hours, half up
    periods = cdr["charging_periods"]
    energy = sum(d["volume"] for p in periods for d in p["dimensions"] if d["type"] == "ENERGY")
    assert energy == cdr["total_energy"]
    assert all(p["tariff_id"] == "default" for p in periods)
    assert cdr["start_date_time"].endswith("Z")

    sheet = await http.get("/fleet/exports/sessions.csv", params=period, headers=headers)
    assert sheet.status_code == 200
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert [row["status"] for row in rows] == ["ok", "meter anomaly", "unpaid"]
    assert rows[0]["billed_micro"] == str(billed)
    assert rows[0]["settlement_block_id"] == sessions[0]["settlement"]["block_id"]
    second = await http.get(
        "/fleet/exports/sessions.csv", params={**period, "offset": 1, "limit": 1}, headers=headers
    )
    assert second.headers["x-total-count"] == "3"
    assert [row["session_id"] for row in csv.DictReader(io.StringIO(second.text))] == [rows[1]["session_id"]]


def _flip_hex(text: str, at: int = -1) -> str:
    """`text` with one hex digit changed at position `at`."""
    chars = list(text)
    chars[at] = "0" if chars[at] != "0" else "1"
    return "".join(chars)


async def check_proof(
    engine: Engine,
    http: httpx.AsyncClient,
    headers: Headers,
    session_id: int,
    channel_id: bytes,
    unpaid_id: int,
) -> None:
    response = await http.get(f"/fleet/sessions/{session_id}/proof", headers=headers)
    assert response.status_code == 200, response.text
    bundle = SettlementBundle.model_validate_json(response.content)
    keys = [bytes.fromhex(key) for key in bundle.coordinator_public_keys]
    assert set(keys) == set(engine.node.params.coordinator_public_keys)
    verified = verify_settlement_bundle(bundle, keys)
    assert verified.channel_id == channel_id
    assert verified.session_id == session_id
    # The unpaid session was covered by the same claim: it has a proof too.
    assert (await http.get(f"/fleet/sessions/{unpaid_id}/proof", headers=headers)).status_code == 200

    proof = bundle.inclusion_proof
    milestone = bundle.milestones[0]
    root_at = milestone.block.index(proof.inclusion_merkle_root) + 5
    tampered: dict[str, Callable[[], SettlementBundle]] = {
        "block bytes": lambda: bundle.model_copy(update={"block": _flip_hex(bundle.block, 200)}),
        "block id": lambda: bundle.model_copy(update={"block_id": _flip_hex(bundle.block_id)}),
        "channel": lambda: bundle.model_copy(update={"channel_id": _flip_hex(bundle.channel_id)}),
        "amount": lambda: bundle.model_copy(update={"amount": bundle.amount + 1}),
        "merkle path": lambda: bundle.model_copy(
            update={
                "inclusion_proof": proof.model_copy(
                    update={"path": [_flip_hex(step) for step in proof.path] or ["00" * 32]}
                )
            }
        ),
        # Only the position within the same tree: index and count shape the path and are not
        # committed to, so a path can also fit another (index, count) with the same leaf under
        # the same root, which proves the same inclusion.
        "leaf index": lambda: bundle.model_copy(
            update={
                "inclusion_proof": proof.model_copy(update={"index": (proof.index + 1) % max(proof.count, 2)})
            }
        ),
        "proof root": lambda: bundle.model_copy(
            update={
                "inclusion_proof": proof.model_copy(
                    update={"inclusion_merkle_root": _flip_hex(proof.inclusion_merkle_root)}
                )
            }
        ),
        "milestone signature": lambda: bundle.model_copy(
            update={"milestones": [milestone.model_copy(update={"block": _flip_hex(milestone.block, -20)})]}
        ),
        "milestone block parents": lambda: bundle.model_copy(
            update={"milestones": [milestone.model_copy(update={"block": _flip_hex(milestone.block, 30)})]}
        ),
        "milestone inclusion root": lambda: bundle.model_copy(
            update={
                "milestones": [milestone.model_copy(update={"block": _flip_hex(milestone.block, root_at)})]
            }
        ),
        "milestone missing": lambda: bundle.model_copy(update={"milestones": []}),
        "threshold": lambda: bundle.model_copy(update={"coordinator_threshold": len(keys) + 1}),
    }
    for what, make in tampered.items():
        try:
            verify_settlement_bundle(make(), keys)
        except BundleInvalidError:
            continue
        raise AssertionError(f"a bundle with tampered {what} verified")
    # Keys the fleet does not trust prove nothing, whatever the bundle says.
    strangers = [bytes([0xAB]) * 32]
    try:
        verify_settlement_bundle(bundle, strangers)
    except BundleInvalidError:
        pass
    else:
        raise AssertionError("a bundle verified against untrusted keys")
    assert verified.amount == bundle.amount
