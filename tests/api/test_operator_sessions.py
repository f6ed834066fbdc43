"""Operator sessions, revenue, settlements and metrics over real paid sessions: a driver pays
through a channel on the embedded ledger while simulated charge points of two operators
charge; each operator sees only its own sessions and its part of the settlement."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx

from mobility.api.app import create_api
from mobility.api.auth import OPERATOR_SCOPES
from mobility.engine import Engine
from mobility.payments.pricing import MeterSample, price_session
from mobility.payments.service import PaymentRequest
from mobility.payments.tariff import Tariff
from mobility.wallet.ledger import Wallet
from ocpp_server._ocpp import call16
from tests.api.conftest import admin, driver, fleet, operator
from tests.api.operator_world import connected, register
from tests.api.test_operator_tariffs import energy_tariff
from tests.ocpp.clients import Client16
from tests.test_engine import TARIFF, iso, meter, milestone, paying_driver

KW_11 = 11_000 // 60  # Wh a minute at 11 kW


class Payer:
    """The driver's side: answers each payment request with the next voucher."""

    def __init__(self, engine: Engine, wallet: Wallet, channel_id: bytes) -> None:
        assert engine.payments is not None
        self.payments = engine.payments
        self.wallet, self.channel_id = wallet, channel_id
        self.requests: list[PaymentRequest] = []
        self.nonce = 0
        self.payments.subscribe(self._remember)

    async def _remember(self, request: PaymentRequest) -> None:
        self.requests.append(request)

    async def pay(self) -> None:
        self.nonce += 1
        await self.payments.submit_voucher(
            self.wallet.voucher(self.channel_id, self.nonce, self.requests[-1].amount)
        )


async def charge(
    cp: Client16, payer: Payer, start: dt.datetime, minutes: int, stop: bool = True
) -> tuple[int, list[MeterSample]]:
    """A paid 1.6 session at 11 kW from `start`; its transaction ID and meter samples."""
    started = await cp.call(
        call16.StartTransaction(connector_id=1, id_tag="D71VER", meter_start=0, timestamp=iso(start))
    )
    tx: int = started.transaction_id
    samples = []
    for minute in range(1, minutes + 1):
        await payer.pay()
        at = start + dt.timedelta(minutes=minute)
        samples.append(MeterSample(at, KW_11 * minute))
        await cp.call(
            call16.MeterValues(connector_id=1, transaction_id=tx, meter_value=meter(at, KW_11 * minute))
        )
    await payer.pay()
    if stop:
        end = start + dt.timedelta(minutes=minutes)
        await cp.call(
            call16.StopTransaction(transaction_id=tx, meter_stop=KW_11 * minutes, timestamp=iso(end))
        )
    await payer.payments.commands_sent()
    assert cp.received == []  # never limited nor stopped: the driver pays ahead
    return tx, samples


def metric(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])


async def test_sessions_revenue_and_settlements_of_an_operator(
    engine: Engine, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    assert engine.settler is not None
    mine, theirs = await operator(engine, "op-s"), await operator(engine, "op-t")
    first_price = energy_tariff("op-s-city", 300_000)
    assert (await http.post("/operator/tariffs", json=first_price, headers=mine)).status_code == 201
    await register(http, mine, "CP-S1", tariff_id="op-s-city")
    await register(http, theirs, "CP-T1")  # the engine's default tariff
    wallet, _, channel_id, now = await paying_driver(engine, tmp_path)
    payer = Payer(engine, wallet, channel_id)

    async with connected(engine, "CP-S1") as cp:
        _, samples = await charge(cp, payer, now, 3)
        second_price = energy_tariff("op-s-city", 600_000)
        assert (await http.post("/operator/tariffs", json=second_price, headers=mine)).json()["version"] == 2
    async with connected(engine, "CP-T1") as cp:
        await charge(cp, payer, now + dt.timedelta(minutes=5), 2)

    sessions = (await http.get("/operator/sessions", headers=mine)).json()
    assert sessions["total"] == 1
    (first,) = sessions["items"]
    expected = price_session(
        Tariff.model_validate(first_price), now, samples, ended_at=now + dt.timedelta(minutes=3)
    )
    assert (first["charge_point_id"], first["status"], first["tariff_version"]) == ("CP-S1", "paid", 1)
    assert (first["billed"], first["paid"], first["shortfall"]) == (expected.total_incl_vat,) * 2 + (0,)
    assert first["energy_wh"] == 3 * KW_11
    before = (await http.get("/operator/revenue", headers=mine)).json()
    assert (before["paid"], before["settled"], before["unsettled"]) == (first["paid"], 0, first["paid"])

    for _ in range(2):
        await engine.settler.run_once()
    await milestone(engine)
    (confirmed,) = await engine.settler.run_once()
    assert confirmed.status == "confirmed"

    async with connected(engine, "CP-S1") as cp:  # a new session takes the tariff's new version
        await charge(cp, payer, now + dt.timedelta(minutes=10), 1, stop=False)
        active = (await http.get("/operator/sessions?status=active", headers=mine)).json()
        assert [(s["status"], s["tariff_version"]) for s in active["items"]] == [("active", 2)]
        scrape = await http.get("/metrics", headers=await admin(engine, "ops-team"))
        assert scrape.status_code == 200
        assert scrape.headers["content-type"].startswith("text/plain")
        assert metric(scrape.text, "mobility_ocpp_connections") == 1
        assert metric(scrape.text, "mobility_sessions_active") == 1
        assert metric(scrape.text, "mobility_energy_delivered_wh_total") == 6 * KW_11  # both operators'
        assert metric(scrape.text, 'mobility_vouchers_total{outcome="accepted",reason=""}') == payer.nonce
        assert metric(scrape.text, 'mobility_settlements{status="confirmed"}') == 1
        assert metric(scrape.text, "mobility_ledger_milestone_index") >= 1
        # How long the engine took to answer each CALL (three connections, each booted once and
        # three sessions started), engine-wide like the voucher counts.
        for action in ("BootNotification", "StartTransaction"):
            assert metric(scrape.text, f'mobility_ocpp_call_seconds_count{{action="{action}"}}') == 3
            every = f'mobility_ocpp_call_seconds_bucket{{action="{action}",le="+Inf"}}'
            assert metric(scrape.text, every) == 3
        assert metric(scrape.text, 'mobility_ocpp_call_seconds_sum{action="StartTransaction"}') > 0
        # An operator's key sees its own figures only (issue 14, point 13).
        own = await http.get("/metrics", headers=await operator(engine, "op-s", frozenset({"metrics"})))
        assert own.status_code == 200
        assert metric(own.text, "mobility_ocpp_connections") == 1
        assert metric(own.text, "mobility_sessions_active") == 1
        assert metric(own.text, "mobility_energy_delivered_wh_total") == 4 * KW_11
        assert metric(own.text, 'mobility_settlements{status="confirmed"}') == 1
        assert "mobility_vouchers" not in own.text  # counted engine-wide only
        assert "mobility_ocpp_call_seconds" not in own.text
        theirs_scrape = await http.get(
            "/metrics", headers=await operator(engine, "op-t", frozenset({"metrics"}))
        )
        assert metric(theirs_scrape.text, "mobility_ocpp_connections") == 0
        assert metric(theirs_scrape.text, "mobility_sessions_active") == 0
        assert metric(theirs_scrape.text, "mobility_energy_delivered_wh_total") == 2 * KW_11

    all_mine = (await http.get("/operator/sessions", headers=mine)).json()
    assert [(s["status"], s["tariff_version"]) for s in all_mine["items"]] == [("active", 2), ("paid", 1)]
    assert (await http.get("/operator/sessions?status=paid", headers=mine)).json()["total"] == 1
    assert (await http.get("/operator/sessions?status=unpaid", headers=mine)).json()["total"] == 0
    assert (await http.get("/operator/sessions?charge_point_id=CP-S1&limit=1", headers=mine)).json()[
        "total"
    ] == 2
    later = {"since": iso(now + dt.timedelta(minutes=5))}
    assert [
        s["status"]
        for s in (await http.get("/operator/sessions", params=later, headers=mine)).json()["items"]
    ] == ["active"]
    period = {"since": iso(now), "until": iso(now + dt.timedelta(minutes=5))}
    revenue = (await http.get("/operator/revenue", params=period, headers=mine)).json()
    assert (revenue["sessions"], revenue["active_sessions"], revenue["energy_wh"]) == (1, 0, 3 * KW_11)
    assert (revenue["billed"], revenue["paid"], revenue["shortfall"]) == (first["billed"], first["paid"], 0)
    assert (revenue["settled"], revenue["settling"], revenue["unsettled"]) == (first["paid"], 0, 0)
    whole = (await http.get("/operator/revenue", headers=mine)).json()
    assert (whole["sessions"], whole["active_sessions"], whole["energy_wh"]) == (2, 1, 4 * KW_11)

    settlements = (await http.get("/operator/settlements", headers=mine)).json()
    (settlement,) = settlements["items"]
    assert settlement["status"] == "confirmed"
    assert settlement["block_id"] == confirmed.block_id
    assert settlement["milestone_index"] == confirmed.milestone_index is not None
    assert (settlement["sessions"], settlement["operator_amount"]) == (1, first["paid"])
    theirs_settled = (await http.get("/operator/settlements", headers=theirs)).json()["items"]
    assert [s["id"] for s in theirs_settled] == [settlement["id"]]  # one claim covered both
    their_session = (await http.get("/operator/sessions", headers=theirs)).json()["items"]
    assert [s["charge_point_id"] for s in their_session] == ["CP-T1"]
    assert theirs_settled[0]["operator_amount"] == their_session[0]["paid"]
    assert settlement["amount"] >= first["paid"] + their_session[0]["paid"]
    assert (await http.get("/operator/settlements?status=failed", headers=mine)).json()["total"] == 0


async def test_a_final_bill_paid_after_the_end_is_paid_and_settled_revenue(
    engine: Engine, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The last reading jumps at the stop: the session ends owing more than was paid and shows
    as a shortfall. The driver pays the request for the final bill that follows the end; the
    operator's figures then show it paid, and settled once claimed, not as a shortfall."""
    assert engine.settler is not None
    mine = await operator(engine, "op-f")
    await register(http, mine, "CP-F1")  # the engine's default tariff
    wallet, _, channel_id, now = await paying_driver(engine, tmp_path)
    payer = Payer(engine, wallet, channel_id)
    async with connected(engine, "CP-F1") as cp:
        tx, samples = await charge(cp, payer, now, 2, stop=False)
        end = now + dt.timedelta(minutes=3)
        await cp.call(call16.StopTransaction(transaction_id=tx, meter_stop=3_000, timestamp=iso(end)))
    billed = price_session(TARIFF, now, [*samples, MeterSample(end, 3_000)], ended_at=end).total_incl_vat
    (owing,) = (await http.get("/operator/sessions", headers=mine)).json()["items"]
    assert (owing["status"], owing["billed"]) == ("unpaid", billed)
    assert owing["shortfall"] == billed - owing["paid"] > 0
    final = payer.requests[-1]
    assert (final.session_ids, final.amount, final.action) == ((owing["id"],), billed, "continue")

    await payer.pay()
    (paid,) = (await http.get("/operator/sessions", headers=mine)).json()["items"]
    assert (paid["status"], paid["paid"], paid["shortfall"]) == ("paid", billed, 0)
    revenue = (await http.get("/operator/revenue", headers=mine)).json()
    assert (revenue["billed"], revenue["paid"], revenue["shortfall"], revenue["unsettled"]) == (
        billed,
        billed,
        0,
        billed,
    )
    for _ in range(2):
        await engine.settler.run_once()
    await milestone(engine)
    (confirmed,) = await engine.settler.run_once()
    assert confirmed.amount == billed
    settled = (await http.get("/operator/revenue", headers=mine)).json()
    assert (settled["paid"], settled["shortfall"], settled["settled"], settled["unsettled"]) == (
        billed,
        0,
        billed,
        0,
    )
    (settlement,) = (await http.get("/operator/settlements", headers=mine)).json()["items"]
    assert (settlement["id"], settlement["sessions"], settlement["operator_amount"]) == (
        confirmed.id,
        1,
        billed,
    )


async def test_reports_are_only_for_the_operator_and_its_scope(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    owner, stranger = await operator(engine, "op-u"), await operator(engine, "op-v")
    _, _, driver_headers = await driver(http, 0x81)
    fleet_headers = await fleet(engine, "fleet-u")
    await register(http, owner, "CP-U1")
    routes = ["/operator/sessions", "/operator/revenue", "/operator/settlements"]
    for path in routes:
        assert (await http.get(path, headers=owner)).status_code == 200
        for headers in (
            driver_headers,
            fleet_headers,
            await operator(engine, "op-u", OPERATOR_SCOPES - {"sessions:read"}),
        ):
            assert (await http.get(path, headers=headers)).status_code == 403, path
    for path in routes[:2]:
        response = await http.get(path, params={"charge_point_id": "CP-U1"}, headers=stranger)
        assert response.status_code == 404, path
    bad_queries: list[dict[str, Any]] = [
        {"status": "lost"},
        {"since": "2026-01-01T00:00:00"},  # no time zone
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"limit": 0},
        {"charge_point_id": "x" * 49},
        {"charge_point_id": "CP\x00"},
        {"since": "0001-01-01T00:00:00+01:00"},
    ]
    for query in bad_queries:
        response = await http.get("/operator/sessions", params=query, headers=owner)
        assert response.status_code == 422, (query, response.text)
    assert (
        await http.get("/operator/settlements", params={"status": "lost"}, headers=owner)
    ).status_code == 422


async def test_metrics_need_a_key_with_the_metrics_scope(engine: Engine, http: httpx.AsyncClient) -> None:
    _, _, driver_headers = await driver(http, 0x91)
    assert (await http.get("/metrics")).status_code == 401
    assert (await http.get("/metrics", headers=driver_headers)).status_code == 403
    assert (await http.get("/metrics", headers=await fleet(engine, "fleet-m"))).status_code == 403
    no_scope = await operator(engine, "op-m", OPERATOR_SCOPES - {"metrics"})
    assert (await http.get("/metrics", headers=no_scope)).status_code == 403
    assert (await http.get("/metrics", headers=await admin(engine, "ops", frozenset()))).status_code == 403
    scraper = await admin(engine, "ops")
    first = await http.get("/metrics", headers=scraper)
    assert metric(first.text, "mobility_ocpp_connections") == 0
    # A second app over the same engine has its own registry: no clash, same figures.
    second_app = create_api(engine.api.state.context)
    transport = httpx.ASGITransport(app=second_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://second") as second:
        again = await second.get("/metrics", headers=scraper)
    assert again.status_code == 200
    assert metric(again.text, "mobility_sessions_active") == metric(first.text, "mobility_sessions_active")
