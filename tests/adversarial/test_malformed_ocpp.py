"""Probes of issue 14, points 6 and 7: malformed OCPP from a hostile or broken charger, against
`mobility serve` as a process on loopback. Each frame must get the CALLERROR its OCPP version
names (never InternalError, never a dropped connection), nothing of it applied, and the engine
must go on serving. Bounded: a few dozen frames, the largest 200 KB."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

import pow_rs
from mobility.wire.domains import LOGIN_DOMAIN
from testkit.process import Serving, engine_env, serving
from tests.adversarial.probe_support import BOUND, ProbeLog
from tests.api.conftest import signup_body

NOW = "2026-01-01T12:00:00Z"
UNPARSEABLE = {"1.6": "FormationViolation", "2.0.1": "RpcFrameworkError"}


class Engine:
    def __init__(self, serving: Serving, env: dict[str, str]) -> None:
        self.serving = serving
        self.api = f"http://127.0.0.1:{env['MOBILITY_API_PORT']}"
        self.ocpp = f"ws://127.0.0.1:{env['MOBILITY_OCPP_PORT']}/ocpp"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Payments on, unknown charge points admitted (no password: any ID connects)."""
    data: Path = tmp_path_factory.mktemp("malformed-ocpp")
    env = engine_env(
        data,
        f"sqlite:///{data / 'engine.db'}",
        payments_enabled="true",
        accept_unknown_chargers="true",
        ledger_min_pow_score="1",
        ledger_milestone_interval_seconds="3600",
    )
    with serving(env) as served:
        yield Engine(served, env)


@pytest.fixture(scope="module")
def probes(request: pytest.FixtureRequest) -> ProbeLog:
    log = ProbeLog("adversarial probes, malformed OCPP (issue 14, points 6 and 7)")
    log.report_at_the_end(request.config)
    return log


@pytest.fixture
def probe(probes: ProbeLog, request: pytest.FixtureRequest) -> ProbeLog:
    probes.current = request.node.name
    return probes


@asynccontextmanager
async def charger(engine: Engine, charge_point_id: str, version: str) -> AsyncIterator[ClientConnection]:
    protocols = [Subprotocol(f"ocpp{version}")]
    async with connect(f"{engine.ocpp}/{charge_point_id}", subprotocols=protocols, max_size=None) as ws:
        yield ws


async def ask(websocket: ClientConnection, frame: Any) -> list[Any]:
    await websocket.send(frame if isinstance(frame, str) else json.dumps(frame))
    answer: list[Any] = json.loads(await asyncio.wait_for(websocket.recv(), BOUND))
    return answer


async def still_up(probe: ProbeLog, websocket: ClientConnection) -> None:
    answer = await ask(websocket, [2, "alive", "Heartbeat", {}])
    probe.check("the connection still answers", [3, "alive"], answer[:2])


async def test_deep_nesting_is_unparseable_and_the_connection_stays(engine: Engine, probe: ProbeLog) -> None:
    for version in ("1.6", "2.0.1"):
        async with charger(engine, f"PROBE-DEEP-{version}", version) as ws:
            answer = await ask(ws, "[" * 200_000)
            probe.check(f"{version}: 200 KB of [[[[", [4, "-1", UNPARSEABLE[version]], answer[:3])
            deep = "[" * 900 + "]" * 900
            frame = f'[2,"d1","Heartbeat",{{"customData":{{"vendorId":"v","x":{deep}}}}}]'
            if version == "2.0.1":
                answer = await ask(ws, frame)
                probe.check("2.0.1: 900 levels in customData", [4, "-1", "RpcFrameworkError"], answer[:3])
            huge = '[2,"h1","StartTransaction",{"connectorId":1,"idTag":"X","meterStart":' + "9" * 5000
            answer = await ask(ws, huge + ',"timestamp":"' + NOW + '"}]')
            probe.check(f"{version}: a 5,000-digit integer", [4, "-1", UNPARSEABLE[version]], answer[:3])
            await still_up(probe, ws)


async def test_deep_nesting_on_the_driver_stream(engine: Engine, probe: ProbeLog) -> None:
    key = pow_rs.SigningKey(bytes([0x41]) * 32)
    async with httpx.AsyncClient(base_url=engine.api, timeout=BOUND) as http:
        assert (await http.post("/driver/signup", json=signup_body(key))).status_code == 201
        challenge = (
            await http.post("/driver/login/challenge", json={"public_key": key.public_key.hex()})
        ).json()
        signature = key.sign(LOGIN_DOMAIN + bytes.fromhex(challenge["challenge"])).hex()
        body = {
            "public_key": key.public_key.hex(),
            "challenge": challenge["challenge"],
            "signature": signature,
        }
        token = (await http.post("/driver/login", json=body)).json()["access_token"]
    url = engine.api.replace("http", "ws") + f"/driver/stream?token={token}"
    async with connect(url, max_size=None) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        # 5 KB: past the parser's recursion limit, under any message size limit of the stream.
        await ws.send("[" * 5_000)
        first = json.loads(await asyncio.wait_for(ws.recv(), BOUND))
        probe.check("5,000 levels of [[[[ on /driver/stream", "error", first["type"])
        await ws.send(json.dumps({"type": "dance"}))
        second = json.loads(await asyncio.wait_for(ws.recv(), BOUND))
        probe.check("the stream still answers", "error", second["type"])


def _start(**changes: Any) -> dict[str, Any]:
    return {"connectorId": 1, "idTag": "PROBE", "meterStart": 0, "timestamp": NOW, **changes}


def _meter_16(value: str, unit: str = "Wh") -> dict[str, Any]:
    sample = {"value": value, "measurand": "Energy.Active.Import.Register", "unit": unit}
    return {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [sample]}]}


BAD_16: list[tuple[str, str, dict[str, Any]]] = [
    ("timestamp 'yesterday'", "StartTransaction", _start(timestamp="yesterday")),
    ("timestamp in the year 9999", "StartTransaction", _start(timestamp="9999-12-31T23:59:59Z")),
    ("timestamp in 1970", "StartTransaction", _start(timestamp="1970-01-01T00:00:00Z")),
    ("connectorId -1", "StartTransaction", _start(connectorId=-1)),
    ("connectorId 2^31", "StartTransaction", _start(connectorId=2**31)),
    ("meterStart -5", "StartTransaction", _start(meterStart=-5)),
    ("meterStart 2^70", "StartTransaction", _start(meterStart=2**70)),
    (
        "status timestamp 'soon'",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "soon"},
    ),
    ("register 1e308 kWh", "MeterValues", _meter_16("1e308", "kWh")),
    ("register 2^70 Wh", "MeterValues", _meter_16(str(2**70))),
    ("register 'NaN'", "MeterValues", _meter_16("NaN")),
    ("register -5 Wh", "MeterValues", _meter_16("-5")),
    ("register 1e-999999999", "MeterValues", _meter_16("1e-999999999")),
    (
        "stop timestamp 'tomorrow'",
        "StopTransaction",
        {"transactionId": 1, "meterStop": 10, "timestamp": "tomorrow"},
    ),
]


def _event(**changes: Any) -> dict[str, Any]:
    return {
        "eventType": "Started",
        "timestamp": NOW,
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "probe-tx"},
        "evse": {"id": 1, "connectorId": 1},
        **changes,
    }


def _sample(value: Any, multiplier: int = 0, unit: str = "Wh") -> list[dict[str, Any]]:
    return [
        {
            "timestamp": NOW,
            "sampledValue": [{"value": value, "unitOfMeasure": {"unit": unit, "multiplier": multiplier}}],
        }
    ]


BAD_201: list[tuple[str, str, dict[str, Any]]] = [
    ("timestamp 'yesterday'", "TransactionEvent", _event(timestamp="yesterday")),
    ("timestamp in the year 9999", "TransactionEvent", _event(timestamp="9999-12-31T23:59:59Z")),
    ("seqNo 2^40", "TransactionEvent", _event(seqNo=2**40)),
    ("evse id -1", "TransactionEvent", _event(evse={"id": -1})),
    ("register 1e308 kWh", "TransactionEvent", _event(meterValue=_sample(1e308, unit="kWh"))),
    ("register 2^70 Wh", "TransactionEvent", _event(meterValue=_sample(2**70))),
    ("multiplier 10^9", "TransactionEvent", _event(meterValue=_sample(10, multiplier=999_999_999))),
    ("register NaN", "MeterValues", {"evseId": 1, "meterValue": _sample(float("nan"))}),
    ("register Infinity", "MeterValues", {"evseId": 1, "meterValue": _sample(float("inf"))}),
]


async def test_values_out_of_bounds_are_property_violations(engine: Engine, probe: ProbeLog) -> None:
    for version, cases in (("1.6", BAD_16), ("2.0.1", BAD_201)):
        async with charger(engine, f"PROBE-VAL-{version}", version) as ws:
            for n, (what, action, payload) in enumerate(cases):
                answer = await ask(ws, [2, f"v{n}", action, payload])
                probe.check(f"{version}: {what}", [4, f"v{n}", "PropertyConstraintViolation"], answer[:3])
            await still_up(probe, ws)


async def test_long_message_ids_are_refused_and_never_cached(engine: Engine, probe: ProbeLog) -> None:
    for version in ("1.6", "2.0.1"):
        async with charger(engine, f"PROBE-ID-{version}", version) as ws:
            for attempt in range(2):
                answer = await ask(ws, [2, "m" * 37, "Heartbeat", {}])
                probe.check(
                    f"{version}: a 37-character ID (try {attempt + 1})",
                    [4, "-1", UNPARSEABLE[version]],
                    answer[:3],
                )
            answer = await ask(ws, [2, "m" * 36, "Heartbeat", {}])
            probe.check(f"{version}: a 36-character ID", [3, "m" * 36], answer[:2])


# Every message a charger sends is answered (tests/ocpp/test_management_frames.py); a
# central system's own message sent by a charger is known to the version but not handled.
KNOWN_UNHANDLED = [
    ("1.6", "Reset", {"type": "Soft"}),
    ("1.6", "GetDiagnostics", {"location": "ftp://example.com/"}),
    ("2.0.1", "Reset", {"type": "Immediate"}),
    ("2.0.1", "ClearCache", {}),
]


async def test_known_but_unsupported_actions_are_not_supported(engine: Engine, probe: ProbeLog) -> None:
    for version in ("1.6", "2.0.1"):
        async with charger(engine, f"PROBE-NS-{version}", version) as ws:
            for n, (_, action, payload) in enumerate(c for c in KNOWN_UNHANDLED if c[0] == version):
                answer = await ask(ws, [2, f"n{n}", action, payload])
                probe.check(f"{version}: {action}", [4, f"n{n}", "NotSupported"], answer[:3])
            answer = await ask(ws, [2, "u1", "MakeCoffee", {}])
            probe.check(f"{version}: an action no version defines", [4, "u1", "NotImplemented"], answer[:3])
            await still_up(probe, ws)


async def test_the_engine_serves_on_after_the_probes(engine: Engine, probe: ProbeLog) -> None:
    async with httpx.AsyncClient(base_url=engine.api, timeout=BOUND) as http:
        probe.check("GET /ledger/info", 200, (await http.get("/ledger/info")).status_code)
    probe.check("the engine process is alive", None, engine.serving.process.poll())
    tracebacks = [line for line in engine.serving.since if "Traceback" in line or "RecursionError" in line]
    probe.check("no traceback in its log", [], tracebacks)
