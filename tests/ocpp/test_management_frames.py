"""Raw frames for every message a charger sends, on 1.6 (with its security extension), 2.0.1
and 2.1: each gets a CALLRESULT whose payload its version's response schema accepts (never
NotImplemented), and what the engine keeps of it is stored. DataTransfer is answered as the
spec says: UnknownVendorId, UnknownMessageId, or the registered handler's answer."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from ocpp_server.management.configuration import parse_key
from tests.ocpp.conftest import Harness, raw_client
from tests.ocpp.frames import NOW, boot, exchange
from tests.ocpp.schema_examples import minimal, request_schema, response_schema

SENT_BY_CHARGERS = {
    "1.6": [
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        # the security extension (OCPP 1.6 Security Whitepaper)
        "LogStatusNotification",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
    ],
    "2.0.1": [
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    ],
}
SENT_BY_CHARGERS["2.1"] = [
    *SENT_BY_CHARGERS["2.0.1"],
    "BatterySwap",
    "ClosePeriodicEventStream",
    "NotifyDERAlarm",
    "NotifyDERStartStop",
    "NotifyPriorityCharging",
    "NotifySettlement",
    "OpenPeriodicEventStream",
    "PullDynamicScheduleUpdate",
    "ReportDERControl",
    "VatNumberValidation",
]
# Needs an OCSP responder the engine does not have: recognised, answered NotSupported.
NOT_SUPPORTED = {"2.1": ["GetCertificateChainStatus"]}
KEPT = {
    "SecurityEventNotification",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "FirmwareStatusNotification",
}
CASES = [(version, action) for version, actions in SENT_BY_CHARGERS.items() for action in actions]


@pytest.mark.parametrize(("version", "action"), CASES)
async def test_every_charger_message_gets_a_valid_answer(quick: Harness, version: str, action: str) -> None:
    payload = minimal(request_schema(version, action))
    async with raw_client(quick.url(), version) as websocket:
        assert (await exchange(websocket, boot(version)))[0] == 3
        answer = await exchange(websocket, [2, "m1", action, payload])
        assert answer[:2] == [3, "m1"], answer
        jsonschema.validate(answer[2], response_schema(version, action))
    if action in KEPT:
        records, total = quick.central.management.store.reports("CP1", action, 0, 10)
        assert total == 1
        assert json.loads(records[0].payload) == payload


@pytest.mark.parametrize(
    ("version", "action"), [(v, a) for v, actions in NOT_SUPPORTED.items() for a in actions]
)
async def test_what_is_left_is_not_supported(quick: Harness, version: str, action: str) -> None:
    payload = minimal(request_schema(version, action))
    async with raw_client(quick.url(), version) as websocket:
        assert (await exchange(websocket, [2, "m1", action, payload]))[:3] == [4, "m1", "NotSupported"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
async def test_data_transfer_is_answered_as_the_spec_says(quick: Harness, version: str) -> None:
    async def echo(charge_point_id: str, message_id: str | None, data: Any) -> tuple[str, Any]:
        return "Accepted", f"{charge_point_id}:{message_id}:{data}"

    quick.central.management.data_transfer.register("org.example", echo, "Echo")
    async with raw_client(quick.url(), version) as websocket:
        unknown_vendor = await exchange(websocket, [2, "d1", "DataTransfer", {"vendorId": "com.other"}])
        assert unknown_vendor == [3, "d1", {"status": "UnknownVendorId"}]
        unknown_message = {"vendorId": "org.example", "messageId": "Nope"}
        assert await exchange(websocket, [2, "d2", "DataTransfer", unknown_message]) == [
            3,
            "d2",
            {"status": "UnknownMessageId"},
        ]
        known = {"vendorId": "org.example", "messageId": "Echo", "data": "hi"}
        assert await exchange(websocket, [2, "d3", "DataTransfer", known]) == [
            3,
            "d3",
            {"status": "Accepted", "data": "CP1:Echo:hi"},
        ]
    records, total = quick.central.management.store.reports("CP1", "DataTransfer", 0, 10)
    assert total == 3
    assert [record.status for record in records] == ["Accepted", "UnknownMessageId", "UnknownVendorId"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
async def test_certificate_signing_is_refused_until_the_engine_has_a_ca(quick: Harness, version: str) -> None:
    async with raw_client(quick.url(), version) as websocket:
        answer = await exchange(websocket, [2, "s1", "SignCertificate", {"csr": "x"}])
    assert answer == [3, "s1", {"status": "Rejected"}]


async def test_a_notify_report_fills_the_device_model(quick: Harness) -> None:
    part: dict[str, Any] = {
        "requestId": 7,
        "generatedAt": NOW,
        "seqNo": 0,
        "tbc": False,
        "reportData": [
            {
                "component": {"name": "EVSE", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "Power"},
                "variableAttribute": [
                    {"type": "Actual", "value": "0", "mutability": "ReadOnly"},
                    {"type": "MaxSet", "value": "22000"},
                ],
                "variableCharacteristics": {"unit": "W", "dataType": "decimal", "supportsMonitoring": True},
            },
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "variableAttribute": [{"value": "300"}],
                "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False},
            },
        ],
    }
    async with raw_client(quick.url(), "2.0.1") as websocket:
        assert await exchange(websocket, [2, "r1", "NotifyReport", part]) == [3, "r1", {}]
        again = {**part, "reportData": [{**part["reportData"][1], "variableAttribute": [{"value": "60"}]}]}
        assert await exchange(websocket, [2, "r2", "NotifyReport", again]) == [3, "r2", {}]
    records, total = quick.central.management.store.variables("CP1", None, 0, 10)
    assert total == 3
    assert [(r.key, r.value, r.mutability, r.unit) for r in records] == [
        ("EVSE@1.1/Power", "0", "ReadOnly", "W"),
        ("EVSE@1.1/Power#MaxSet", "22000", "ReadWrite", "W"),
        ("OCPPCommCtrlr/HeartbeatInterval", "60", "ReadWrite", None),
    ]


def test_keys_read_back_as_the_variables_they_name() -> None:
    for key in [
        "EVSE@1.1/Power",
        "EVSE@1.1/Power#MaxSet",
        "Ctrlr[a]/Var[b]",
        "OCPPCommCtrlr/HeartbeatInterval",
    ]:
        assert parse_key(key).key == key
