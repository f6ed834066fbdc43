"""Malformed OCPP a faulty or hostile charger sends (issue 14, points 6 and 7): each gets the
CALLERROR its version names, nothing of it is applied, and the connection stays up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mobility.charging.events import MeterReading, SessionStarted
from tests.ocpp.conftest import Harness, raw_client
from tests.ocpp.frames import NOW, exchange, heartbeat

VERSIONS = ["1.6", "2.0.1", "2.1"]
UNPARSEABLE = {"1.6": "FormationViolation", "2.0.1": "RpcFrameworkError", "2.1": "RpcFrameworkError"}


async def _assert_still_up(websocket: Any) -> None:
    answer = await exchange(websocket, heartbeat("still-up"))
    assert answer[:2] == [3, "still-up"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_deeply_nested_frame_is_unparseable_not_a_crash(quick: Harness, version: str) -> None:
    # 200 KB of brackets made json.loads raise RecursionError: the connection closed with 1011.
    async with raw_client(quick.url(), version) as websocket:
        answer = await exchange(websocket, "[" * 200_000)
        assert answer[:3] == [4, "-1", UNPARSEABLE[version]]
        await _assert_still_up(websocket)


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_nesting_that_parses_but_is_absurd_is_refused(quick: Harness, version: str) -> None:
    # customData takes any properties, so the schema lets this through; it parsed (under the
    # recursion limit) and then broke the handler's key conversion: InternalError.
    deep = "[" * 900 + "]" * 900
    frame = f'[2,"h1","Heartbeat",{{"customData":{{"vendorId":"v","x":{deep}}}}}]'
    async with raw_client(quick.url(), version) as websocket:
        answer = await exchange(websocket, frame)
        assert answer[:3] == [4, "-1", UNPARSEABLE[version]]
        await _assert_still_up(websocket)


@pytest.mark.parametrize("version", VERSIONS)
async def test_message_id_over_36_characters_is_refused_and_not_cached(quick: Harness, version: str) -> None:
    long_id = "x" * 37
    async with raw_client(quick.url(), version) as websocket:
        for _ in range(2):
            answer = await exchange(websocket, heartbeat(long_id))
            assert answer[:3] == [4, "-1", UNPARSEABLE[version]]
        assert (await exchange(websocket, heartbeat("x" * 36)))[:2] == [3, "x" * 36]
        await _assert_still_up(websocket)


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        # Every message a charger sends is handled (tests/ocpp/test_management_frames.py): what
        # is left are the central system's own messages sent the wrong way, and 2.1's
        # certificate chain status, which needs OCSP.
        ("1.6", "Reset", {"type": "Soft"}),
        ("1.6", "GetDiagnostics", {"location": "ftp://example.com/"}),
        ("2.0.1", "Reset", {"type": "Immediate"}),
        ("2.0.1", "ClearCache", {}),
        ("2.1", "Reset", {"type": "Immediate"}),
        ("2.1", "GetCertificateChainStatus", {"certificateStatusRequests": []}),
    ],
)
async def test_known_but_unhandled_action_is_not_supported(
    quick: Harness, version: str, action: str, payload: dict[str, Any]
) -> None:
    # NotImplemented says "unknown action"; these are known to the version (OCPP-J: NotSupported
    # is "recognized but not supported", in 1.6 and 2.x alike).
    async with raw_client(quick.url(), version) as websocket:
        assert (await exchange(websocket, [2, "n1", action, payload]))[:3] == [4, "n1", "NotSupported"]
        assert (await exchange(websocket, [2, "n2", "FooBar", {}]))[:3] == [4, "n2", "NotImplemented"]
        await _assert_still_up(websocket)


def _start_16(**changes: Any) -> dict[str, Any]:
    return {"connectorId": 1, "idTag": "ALLOWED01", "meterStart": 0, "timestamp": NOW, **changes}


def _meter_values_16(value: str, unit: str = "Wh", **changes: Any) -> dict[str, Any]:
    sample = {"value": value, "measurand": "Energy.Active.Import.Register", "unit": unit}
    return {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [sample]}], **changes}


BAD_16 = [
    ("StartTransaction", _start_16(timestamp="yesterday")),
    ("StartTransaction", _start_16(timestamp="9999-12-31T23:59:59Z")),
    ("StartTransaction", _start_16(connectorId=-1)),
    ("StartTransaction", _start_16(connectorId=2**31)),
    ("StartTransaction", _start_16(meterStart=-5)),
    ("StartTransaction", _start_16(meterStart=2**70)),
    ("StatusNotification", {"connectorId": -1, "errorCode": "NoError", "status": "Available"}),
    ("StatusNotification", {"connectorId": 2**31, "errorCode": "NoError", "status": "Available"}),
    (
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "yesterday"},
    ),
    ("MeterValues", _meter_values_16("1e308", "kWh")),
    ("MeterValues", _meter_values_16(str(2**70))),
    ("MeterValues", _meter_values_16("-5")),
    ("MeterValues", _meter_values_16("lots")),
    ("MeterValues", _meter_values_16("1e-999999999")),
    ("MeterValues", _meter_values_16("10", connectorId=-1)),
    (
        "MeterValues",
        _meter_values_16(
            "10", meterValue=[{"timestamp": "9999-01-01T00:00:00Z", "sampledValue": [{"value": "1"}]}]
        ),
    ),
    (
        "StopTransaction",
        {"transactionId": 1, "meterStop": -5, "timestamp": NOW},
    ),
    (
        "StopTransaction",
        {"transactionId": 1, "meterStop": 10, "timestamp": "tomorrow"},
    ),
]


@pytest.mark.parametrize(("action", "payload"), BAD_16)
async def test_16_values_out_of_bounds_are_property_violations(
    quick: Harness, action: str, payload: dict[str, Any]
) -> None:
    async with raw_client(quick.url(), "1.6") as websocket:
        answer = await asyncio.wait_for(exchange(websocket, [2, "m1", action, payload]), 5)
        assert answer[:3] == [4, "m1", "PropertyConstraintViolation"], answer
        await _assert_still_up(websocket)
    assert quick.of_type(SessionStarted) == []
    assert quick.of_type(MeterReading) == []
    assert quick.store.sessions("CP1") == []


def _event(**changes: Any) -> dict[str, Any]:
    return {
        "eventType": "Started",
        "timestamp": NOW,
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "tx-1"},
        "evse": {"id": 1, "connectorId": 1},
        **changes,
    }


def _reading(value: float, multiplier: int = 0, unit: str = "Wh") -> list[dict[str, Any]]:
    sample = {"value": value, "unitOfMeasure": {"unit": unit, "multiplier": multiplier}}
    return [{"timestamp": NOW, "sampledValue": [sample]}]


_EVENT = {
    "eventId": 1,
    "timestamp": NOW,
    "trigger": "Alerting",
    "actualValue": "x",
    "eventNotificationType": "HardWiredNotification",
    "component": {"name": "C"},
    "variable": {"name": "V"},
}
BAD_2X = [
    ("TransactionEvent", _event(timestamp="yesterday")),
    ("TransactionEvent", _event(timestamp="9999-12-31T23:59:59Z")),
    ("TransactionEvent", _event(seqNo=-1)),
    ("TransactionEvent", _event(seqNo=2**40)),
    ("TransactionEvent", _event(evse={"id": -1})),
    ("TransactionEvent", _event(evse={"id": 2**31})),
    ("TransactionEvent", _event(meterValue=_reading(1e308, unit="kWh"))),
    ("TransactionEvent", _event(meterValue=_reading(2**70))),
    ("TransactionEvent", _event(meterValue=_reading(10, multiplier=999_999_999))),
    ("MeterValues", {"evseId": -1, "meterValue": _reading(10)}),
    ("MeterValues", {"evseId": 1, "meterValue": _reading(1e308, unit="kWh")}),
    (
        "StatusNotification",
        {"timestamp": "yesterday", "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
    ),
    (
        "StatusNotification",
        {"timestamp": NOW, "connectorStatus": "Available", "evseId": 2**31, "connectorId": 1},
    ),
    ("NotifyEvent", {"generatedAt": "yesterday", "seqNo": 0, "eventData": [_EVENT]}),
    ("NotifyEvent", {"generatedAt": NOW, "seqNo": 2**31, "eventData": [_EVENT]}),
]


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
@pytest.mark.parametrize(("action", "payload"), BAD_2X)
async def test_2x_values_out_of_bounds_are_property_violations(
    quick: Harness, version: str, action: str, payload: dict[str, Any]
) -> None:
    async with raw_client(quick.url(), version) as websocket:
        answer = await asyncio.wait_for(exchange(websocket, [2, "m1", action, payload]), 5)
        assert answer[:3] == [4, "m1", "PropertyConstraintViolation"], answer
        await _assert_still_up(websocket)
    assert quick.of_type(SessionStarted) == []
    assert quick.store.sessions("CP1") == []


async def test_values_at_the_bounds_are_accepted(quick: Harness) -> None:
    async with raw_client(quick.url(), "1.6") as websocket:
        start = _start_16(meterStart=10**12 - 1000, timestamp="2000-01-01T00:00:00Z", connectorId=2**31 - 1)
        answer = await exchange(websocket, [2, "s1", "StartTransaction", start])
        assert answer[0] == 3
        signed = _meter_values_16("not a number here")
        signed["meterValue"][0]["sampledValue"][0]["format"] = "SignedData"
        assert (await exchange(websocket, [2, "v1", "MeterValues", signed]))[0] == 3
