"""Probes of issue 14, points 4, 9, 10, 11, 12 and 15, against `mobility serve` as a process on
loopback: unbounded money, junk blocks with invented parents, weak keys as identities, a token
claimed from under its owner, history rewritten by a re-registration, and chargers nobody owns.
Bounded: a few dozen requests and frames, 15 blocks of the minimum PoW."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

import pow_rs
from mobility.limits import MAX_PRICE
from mobility.payments.accounts import app_id_token
from mobility.wire.codec import Block, TaggedDataPayload
from testkit.process import Serving, engine_env, mobility, serving
from tests.adversarial.probe_support import BOUND, ProbeLog
from tests.api.conftest import signup_body
from tests.ocpp.conftest import basic_auth

HELD_CAP = 10
PASSWORD = "a-probe-password-16"


@dataclass
class Engine:
    serving: Serving
    api: str
    ocpp: str
    operator_a: dict[str, str]
    operator_b: dict[str, str]
    fleet: dict[str, str]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.strip()}"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Payments on, unknown charge points admitted, at most HELD_CAP held blocks; operators op-a
    and op-b, fleet fleet-p."""
    data: Path = tmp_path_factory.mktemp("bounds-ownership")
    env = engine_env(
        data,
        f"sqlite:///{data / 'engine.db'}",
        payments_enabled="true",
        accept_unknown_chargers="true",
        ledger_min_pow_score="1",
        ledger_milestone_interval_seconds="3600",
        ledger_held_max_count=str(HELD_CAP),
    )
    operator_a = bearer(mobility(env, "operators", "add", "op-a"))
    operator_b = bearer(mobility(env, "operators", "add", "op-b"))
    fleet = bearer(mobility(env, "fleets", "add", "fleet-p"))
    with serving(env) as served:
        yield Engine(
            served,
            f"http://127.0.0.1:{env['MOBILITY_API_PORT']}",
            f"ws://127.0.0.1:{env['MOBILITY_OCPP_PORT']}/ocpp",
            operator_a,
            operator_b,
            fleet,
        )


@pytest.fixture(scope="module")
def probes(request: pytest.FixtureRequest) -> ProbeLog:
    log = ProbeLog("adversarial probes, money, ledger and identities (issue 14, points 4, 9-12, 15)")
    log.report_at_the_end(request.config)
    return log


@pytest.fixture
def probe(probes: ProbeLog, request: pytest.FixtureRequest) -> ProbeLog:
    probes.current = request.node.name
    return probes


@asynccontextmanager
async def http(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=engine.api, timeout=BOUND) as client:
        yield client


@asynccontextmanager
async def charger(
    engine: Engine, charge_point_id: str, password: str | None = None
) -> AsyncIterator[ClientConnection]:
    headers = basic_auth(charge_point_id, password) if password else {}
    protocols = [Subprotocol("ocpp1.6")]
    async with connect(
        f"{engine.ocpp}/{charge_point_id}", subprotocols=protocols, additional_headers=headers
    ) as ws:
        yield ws


async def ask(websocket: ClientConnection, frame: list[Any]) -> list[Any]:
    """Send a CALL and return its answer; CALLs from the engine meanwhile (a payment stop) are
    accepted."""
    await websocket.send(json.dumps(frame))
    while True:
        message: list[Any] = json.loads(await asyncio.wait_for(websocket.recv(), BOUND))
        if message[0] == 2:
            await websocket.send(json.dumps([3, message[1], {"status": "Accepted"}]))
        elif message[1] == frame[1]:
            return message


def _tariff(component: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "probe", "currency": "EUR", "elements": [{"price_components": [component]}], **extra}


async def test_tariffs_are_bounded(engine: Engine, probe: ProbeLog) -> None:
    energy = {"type": "ENERGY", "price": 300_000, "vat_bp": 1900}
    attempts = [
        ("a price of 2^70 per kWh", _tariff({**energy, "price": 2**70})),
        ("a flat fee over 1,000 units", _tariff({"type": "FLAT", "price": MAX_PRICE + 1})),
        ("VAT of 1000 %", _tariff({**energy, "vat_bp": 100_000})),
        ("a step of 2^40 Wh", _tariff({**energy, "step_size": 2**40})),
        ("a minimum price of 2^63", _tariff(energy, min_price={"excl_vat": 2**63, "incl_vat": 2**63})),
        ("101 elements", {**_tariff(energy), "elements": [{"price_components": [energy]}] * 101}),
    ]
    async with http(engine) as client:
        for what, body in attempts:
            response = await client.post("/operator/tariffs", json=body, headers=engine.operator_a)
            probe.check(what, 422, response.status_code)
        listed = await client.get("/operator/tariffs", headers=engine.operator_a)
        probe.check("nothing stored", 0, listed.json()["total"])
        top = _tariff({"type": "ENERGY", "price": MAX_PRICE, "vat_bp": 10_000})
        probe.check(
            "a tariff at the bounds",
            201,
            (await client.post("/operator/tariffs", json=top, headers=engine.operator_a)).status_code,
        )


def _junk(n: int) -> bytes:
    parents = (pow_rs.blake2b_256(b"a parent nobody has %d" % n),)
    block = Block(2, parents, TaggedDataPayload(b"probe", b"%d" % n))
    return replace(block, nonce=pow_rs.mine(block.bytes_without_nonce(), 1.0)).to_bytes()


async def test_held_blocks_are_capped(engine: Engine, probe: ProbeLog) -> None:
    blocks = [_junk(n) for n in range(HELD_CAP + 5)]
    async with http(engine) as client:
        ids = []
        for data in blocks:
            response = await client.post(
                "/ledger/blocks", content=data, headers={"Content-Type": "application/octet-stream"}
            )
            assert response.status_code in (200, 201), response.text
            ids.append(response.json()["block_id"])
        kept = [
            (await client.get(f"/ledger/blocks/{block_id}/metadata")).status_code == 200 for block_id in ids
        ]
    probe.check(f"{len(blocks)} blocks with invented parents: how many are kept", HELD_CAP, sum(kept))
    probe.check("the oldest go first", [False] * 5 + [True] * HELD_CAP, kept)


ZERO = bytes(32)
IDENTITY = bytes([1]) + bytes(31)


async def test_weak_keys_name_nobody(engine: Engine, probe: ProbeLog) -> None:
    async with http(engine) as client:
        for name, key, signature in (
            ("all-zero", ZERO, bytes(64)),
            ("identity", IDENTITY, IDENTITY + bytes(32)),
        ):
            body = {"public_key": key.hex(), "signature": signature.hex(), "name": "mallory"}
            probe.check(
                f"sign up with the {name} key",
                422,
                (await client.post("/driver/signup", json=body)).status_code,
            )
            payer = {"public_key": key.hex(), "signature": signature.hex()}
            response = await client.post("/fleet/payer-keys", json=payer, headers=engine.fleet)
            probe.check(f"the {name} key as a fleet payer key", 422, response.status_code)


async def test_an_app_token_stays_the_drivers(engine: Engine, probe: ProbeLog) -> None:
    key = pow_rs.SigningKey(bytes([0x51]) * 32)
    async with http(engine) as client:
        account_id = (await client.post("/driver/signup", json=signup_body(key))).json()["account_id"]
        vehicle = (await client.post("/fleet/vehicles", json={"label": "van"}, headers=engine.fleet)).json()[
            "id"
        ]
        body = {"token": app_id_token(account_id), "driver_name": "mallory"}
        response = await client.post(f"/fleet/vehicles/{vehicle}/tokens", json=body, headers=engine.fleet)
        probe.check("a fleet registers a driver's app token", 409, response.status_code)


def _iso(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def _session(ws: ClientConnection, token: str, at: dt.datetime, n: int) -> None:
    start = {"connectorId": 1, "idTag": token, "meterStart": 0, "timestamp": _iso(at)}
    begun = await ask(ws, [2, f"start-{n}", "StartTransaction", start])
    stop = {
        "transactionId": begun[2]["transactionId"],
        "meterStop": 500,
        "timestamp": _iso(at + dt.timedelta(minutes=5)),
    }
    await ask(ws, [2, f"stop-{n}", "StopTransaction", stop])


async def test_re_registering_a_token_keeps_history(engine: Engine, probe: ProbeLog) -> None:
    token = "04C0FFEE01"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    async with http(engine) as client, charger(engine, "PROBE-HISTORY") as ws:
        van_1 = (await client.post("/fleet/vehicles", json={"label": "1"}, headers=engine.fleet)).json()["id"]
        van_2 = (await client.post("/fleet/vehicles", json={"label": "2"}, headers=engine.fleet)).json()["id"]
        alice = {"token": token, "driver_name": "Alice"}
        assert (
            await client.post(f"/fleet/vehicles/{van_1}/tokens", json=alice, headers=engine.fleet)
        ).status_code == 201
        await _session(ws, token, now - dt.timedelta(hours=1), 1)
        bob = {"token": token, "driver_name": "Bob"}
        assert (
            await client.post(f"/fleet/vehicles/{van_2}/tokens", json=bob, headers=engine.fleet)
        ).status_code == 201
        await _session(ws, token, now + dt.timedelta(minutes=1), 2)
        period = {"from": _iso(now - dt.timedelta(days=1)), "to": _iso(now + dt.timedelta(days=1))}
        report = (await client.get("/fleet/reconciliation", params=period, headers=engine.fleet)).json()
    drivers = [(item["vehicle_id"] == van_1, item["driver_name"]) for item in report["sessions"]["items"]]
    probe.check("who charged, session by session", [(True, "Alice"), (False, "Bob")], drivers)


async def test_an_unknown_charger_is_announced_and_claimable(engine: Engine, probe: ProbeLog) -> None:
    boot = "".join(engine.serving.boot)
    probe.check(
        "the boot log says unknown chargers are admitted",
        True,
        "MOBILITY_ACCEPT_UNKNOWN_CHARGERS is on" in boot,
    )
    async with charger(engine, "PROBE-STRAY") as ws:
        answer = await ask(
            ws, [2, "b", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]
        )
        probe.check("it boots", "Accepted", answer[2]["status"])
    async with http(engine) as client:
        unclaimed = (
            await client.get("/operator/unclaimed-chargers?limit=100", headers=engine.operator_a)
        ).json()
        probe.check(
            "an operator sees it unclaimed",
            True,
            "PROBE-STRAY" in [item["id"] for item in unclaimed["items"]],
        )
        body = {"id": "PROBE-STRAY", "password": PASSWORD}
        probe.check(
            "op-a claims it",
            201,
            (await client.post("/operator/chargers", json=body, headers=engine.operator_a)).status_code,
        )
        probe.check(
            "op-b cannot claim it too",
            409,
            (await client.post("/operator/chargers", json=body, headers=engine.operator_b)).status_code,
        )
        probe.check(
            "op-b cannot see it",
            404,
            (await client.get("/operator/chargers/PROBE-STRAY", headers=engine.operator_b)).status_code,
        )
    with pytest.raises(InvalidStatus) as refused:
        async with charger(engine, "PROBE-STRAY"):
            pass
    probe.check("claimed, it needs its password", 401, refused.value.response.status_code)
    async with charger(engine, "PROBE-STRAY", PASSWORD) as ws:
        answer = await ask(ws, [2, "h", "Heartbeat", {}])
        probe.check("and connects with it", 3, answer[0])
