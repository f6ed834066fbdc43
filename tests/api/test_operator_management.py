"""What an operator manages on a charger besides sessions, on 1.6, 2.0.1 and 2.1: the whole
engine over loopback, the project's simulated charge point (`sims/chargers`) on real
websockets, commands through `POST /operator/chargers/{id}/commands`, and what the charger
reported read back through the operator routes. Firmware is fetched from a real HTTP server
and logs are uploaded to the engine's upload route."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from mobility.api.limits import UPLOAD_BODY_MAX
from mobility.charging.management_store import SqlManagementStore
from mobility.engine import Engine
from ocpp_server.management.diagnostics import token_hash
from sims.chargers.clock import ManualClock
from sims.chargers.management import VENDOR_ID
from sims.chargers.station import SimulatedChargePoint, StationConfig
from tests.api.conftest import Headers, operator
from tests.api.operator_world import PASSWORD, register
from tests.api.test_limits import _answer, _head, _is_413_problem

VERSIONS = ["1.6", "2.0.1", "2.1"]
LIMIT = 20.0  # real seconds any single wait may take before the test fails
FIRMWARE = b"\x7fELF firmware image " * 64
PAST = "2020-01-01T00:00:00Z"  # a retrieve date already reached: the station fetches at once


def slug(version: str) -> str:
    return version.replace(".", "")


@contextlib.asynccontextmanager
async def powered(engine: Engine, charge_point_id: str, version: str) -> AsyncIterator[SimulatedChargePoint]:
    """A simulated station of `version`, booted on the engine with the operator's password."""
    config = StationConfig(
        charge_point_id,
        version,
        url=f"ws://127.0.0.1:{engine.central.port}/ocpp",
        password=PASSWORD,
        response_timeout_s=LIMIT,
    )
    station = SimulatedChargePoint(config, ManualClock())
    task = asyncio.create_task(station.run())
    try:
        await station.wait_until(lambda: station.online, LIMIT)
        yield station
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextlib.contextmanager
def firmware_server() -> Iterator[str]:
    """A real HTTP server on loopback serving `/fw.bin` (anything else 404); its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the stdlib's name
            if self.path != "/fw.bin":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(FIRMWARE)))
            self.end_headers()
            self.wfile.write(FIRMWARE)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Operator:
    """One operator's API key and its charger, as the tests drive them."""

    def __init__(self, http: httpx.AsyncClient, headers: Headers, charge_point_id: str) -> None:
        self.http = http
        self.headers = headers
        self.id = charge_point_id

    async def command(self, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
        response = await self.http.post(
            f"/operator/chargers/{self.id}/commands", json=body, headers=self.headers
        )
        assert response.status_code == expect, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def get(self, what: str, **params: Any) -> dict[str, Any]:
        response = await self.http.get(
            f"/operator/chargers/{self.id}/{what}", params=params, headers=self.headers
        )
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page


async def an_operator(engine: Engine, http: httpx.AsyncClient, name: str) -> Operator:
    headers = await operator(engine, f"op-{name}")
    await register(http, headers, name)
    return Operator(http, headers, name)


@pytest.mark.parametrize("version", VERSIONS)
async def test_configuration_and_the_device_model(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    op = await an_operator(engine, http, f"CFG-{slug(version)}")
    async with powered(engine, op.id, version) as station:
        heartbeat, readonly = (
            ("HeartbeatInterval", "NumberOfConnectors")
            if version == "1.6"
            else ("OCPPCommCtrlr/HeartbeatInterval", "ChargingStation/Model")
        )
        everything = await op.command({"type": "get_configuration"})
        assert (everything["command"], everything["outcome"]) == ("get_configuration", "answered")
        reported = {item["key"]: item["value"] for item in everything["response"]["configuration_key"]}
        assert reported[heartbeat] == "300"

        changed = await op.command({"type": "set_configuration", "key": heartbeat, "value": "120"})
        assert changed["status"] == "Accepted"
        assert station.heartbeat_interval_s == 120
        refused = await op.command({"type": "set_configuration", "key": readonly, "value": "9"})
        assert refused["status"] == "Rejected"

        some = await op.command({"type": "get_configuration", "keys": [heartbeat, "Nope/Nope"]})
        assert [(k["key"], k["value"]) for k in some["response"]["configuration_key"]] == [(heartbeat, "120")]
        assert some["response"]["unknown_key"] == ["Nope/Nope"]

        if version == "1.6":
            problem = await op.command({"type": "get_base_report"}, expect=422)
            assert problem["type"] == "urn:mobility:problem:not-on-this-version"
        else:
            report = await op.command({"type": "get_base_report", "report_base": "FullInventory"})
            assert report["status"] == "Accepted"
            await station.device.idle()  # every NotifyReport part sent and answered (so stored)
            wrong = await op.command(
                {"type": "set_configuration", "key": "HeartbeatInterval", "value": "1"}, 422
            )
            assert "Component/Variable" in wrong["detail"]

    model = await op.get("device-model")
    stored = {item["key"]: item for item in model["items"]}
    assert stored[heartbeat]["value"] == "120"
    assert stored[readonly]["mutability"] == "ReadOnly"
    if version != "1.6":
        assert model["total"] == len(station.device.settings2x)
        assert stored["ChargingStation/Model"]["value"] == "SimCharger"
        assert stored[heartbeat]["data_type"] == "integer"
    log = await op.get("commands")
    assert log["items"][-1]["command"] == "get_configuration"


@pytest.mark.parametrize("version", VERSIONS)
async def test_every_triggerable_message(engine: Engine, http: httpx.AsyncClient, version: str) -> None:
    op = await an_operator(engine, http, f"TRG-{slug(version)}")
    common = ["BootNotification", "FirmwareStatusNotification", "Heartbeat", "StatusNotification"]
    accepted = {
        "1.6": [
            *common,
            "DiagnosticsStatusNotification",
            "LogStatusNotification",
            "SignChargePointCertificate",
        ],
        "2.0.1": [
            *common,
            "LogStatusNotification",
            "SignChargingStationCertificate",
            "PublishFirmwareStatusNotification",
        ],
    }
    accepted["2.1"] = accepted["2.0.1"]
    async with powered(engine, op.id, version) as station:
        for message in accepted[version]:
            answer = await op.command({"type": "trigger_message", "message": message})
            assert answer["status"] == "Accepted", (message, answer)
        # Nothing is charging: there are no meter values to send.
        idle = await op.command({"type": "trigger_message", "message": "MeterValues", "connector_id": 1})
        assert idle["status"] == "Rejected"
        await station.device.idle()
        signing = [answer for action, answer in station.device.answers if action == "SignCertificate"]
        assert [answer.status for answer in signing] == ["Rejected"]
        other = "SignV2GCertificate" if version == "1.6" else "DiagnosticsStatusNotification"
        problem = await op.command({"type": "trigger_message", "message": other}, expect=422)
        assert f"cannot trigger {other}" in problem["detail"]
    kept = await op.get("reports", action="FirmwareStatusNotification")
    assert [item["status"] for item in kept["items"]] == ["Idle"]
    assert (await op.get("reports", action="SignCertificate"))["total"] == 1


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("signed", [False, True])
async def test_a_firmware_update_is_tracked_to_installed(
    engine: Engine, http: httpx.AsyncClient, version: str, signed: bool
) -> None:
    op = await an_operator(engine, http, f"FW-{slug(version)}-{int(signed)}")
    signing = {"signing_certificate": "-----BEGIN CERTIFICATE-----", "signature": "c2ln"} if signed else {}
    with firmware_server() as base:
        async with powered(engine, op.id, version) as station:
            body = {"type": "update_firmware", "location": f"{base}/fw.bin", "retrieve_at": PAST, **signing}
            first = await op.command(body)
            assert first["status"] == "Accepted"
            await station.device.idle()
            missing = await op.command({**body, "location": f"{base}/missing.bin"})
            await station.device.idle()
    updates = (await op.get("firmware"))["items"]
    assert [(u["request_id"], u["status"], u["signed"]) for u in updates] == [
        (missing["response"]["request_id"], "DownloadFailed", signed),
        (first["response"]["request_id"], "Installed", signed),
    ]
    action = (
        "SignedFirmwareStatusNotification" if version == "1.6" and signed else "FirmwareStatusNotification"
    )
    statuses = [item["status"] for item in reversed((await op.get("reports", action=action))["items"])]
    verified = ["SignatureVerified"] if signed else []
    assert statuses == [
        "Downloading",
        "Downloaded",
        *verified,
        "Installing",
        "Installed",
        "Downloading",
        "DownloadFailed",
    ]


@pytest.mark.parametrize("version", VERSIONS)
async def test_logs_are_uploaded_to_the_engine_and_downloaded_by_the_operator(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    op = await an_operator(engine, http, f"LOG-{slug(version)}")
    kinds = ["get_diagnostics", "get_log"] if version == "1.6" else ["get_log"]
    async with powered(engine, op.id, version) as station:
        for kind in kinds:
            answer = await op.command({"type": kind})
            assert answer["status"] == "Accepted", answer
            await station.device.idle()
        if version != "1.6":
            problem = await op.command({"type": "get_diagnostics"}, expect=422)
            assert "use get_log" in problem["detail"]
    uploads = (await op.get("logs"))["items"]
    assert [(u["kind"], u["status"]) for u in uploads] == [
        ("log", "Uploaded"),
        *([("diagnostics", "Uploaded")] if version == "1.6" else []),
    ]
    for upload in uploads:
        response = await http.get(upload["download"], headers=op.headers)
        assert response.status_code == 200
        assert response.content.startswith(b"20")  # a timestamp first, as the simulator writes it
        assert f"station {op.id} OCPP {version}".encode() in response.content
        assert len(response.content) == upload["size"]

    # The token is the credential: once only, and nothing for a wrong one (the size bound is
    # tested with the other routes' in tests/api/test_limits.py).
    used = station.device.uploads[0]
    assert (await http.put(used, content=b"again")).status_code == 409
    forged = used.rsplit("/", 2)[0] + "/" + "A" * 43 + "/x.log"
    assert (await http.put(forged, content=b"x")).status_code == 404


@pytest.mark.parametrize("version", VERSIONS)
async def test_data_transfer_both_ways_and_reports_kept(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    op = await an_operator(engine, http, f"DT-{slug(version)}")
    async with powered(engine, op.id, version) as station:
        echo = await op.command(
            {"type": "data_transfer", "vendor_id": VENDOR_ID, "message_id": "Echo", "data": "ping"}
        )
        assert (echo["status"], echo["response"]["data"]) == ("Accepted", "ping")
        unknown = await op.command({"type": "data_transfer", "vendor_id": "com.example"})
        assert unknown["status"] == "UnknownVendorId"
        if version == "1.6":
            await op.command({"type": "data_transfer", "vendor_id": VENDOR_ID, "data": {"a": 1}}, expect=422)

        answer = await station.device.send("DataTransfer", vendor_id="com.example", message_id="Hello")
        assert answer.status == "UnknownVendorId"
        await station.device.send(
            "SecurityEventNotification", type="FirmwareUpdated", timestamp=PAST, tech_info="sim-2"
        )
        if version != "1.6":
            await station.device.send(
                "NotifyCustomerInformation", data="name: x", seq_no=0, generated_at=PAST, request_id=3
            )
            await station.device.send(
                "NotifyChargingLimit", charging_limit={"charging_limit_source": "EMS"}, evse_id=1
            )
    security = (await op.get("reports", action="SecurityEventNotification"))["items"]
    assert [(r["status"], r["payload"]["type"]) for r in security] == [("FirmwareUpdated", "FirmwareUpdated")]
    transfers = (await op.get("reports", action="DataTransfer"))["items"]
    assert [(r["status"], r["payload"]["vendorId"]) for r in transfers] == [
        ("UnknownVendorId", "com.example")
    ]
    if version != "1.6":
        everything = await op.get("reports")
        actions = [item["action"] for item in everything["items"]]
        assert {"NotifyCustomerInformation", "NotifyChargingLimit"} <= set(actions)


async def test_other_operators_see_nothing(engine: Engine, http: httpx.AsyncClient) -> None:
    op = await an_operator(engine, http, "MINE-1")
    other = await operator(engine, "op-other")
    for what in ["device-model", "reports", "firmware", "logs", "logs/1/file"]:
        response = await http.get(f"/operator/chargers/{op.id}/{what}", headers=other)
        assert response.status_code == 404, what
    assert (await http.get(f"/operator/chargers/{op.id}/logs/1/file", headers=op.headers)).status_code == 404


async def test_an_upload_over_the_bound_is_refused_before_it_is_read(engine: Engine) -> None:
    path = "/ocpp-uploads/" + "A" * 43 + "/diag.log"
    head = _head(path, "application/octet-stream", content_length=str(UPLOAD_BODY_MAX + 1))
    _is_413_problem(*await _answer(engine, head), UPLOAD_BODY_MAX)


async def test_a_form_upload_keeps_its_file_part(engine: Engine, http: httpx.AsyncClient) -> None:
    """Chargers that POST a multipart form (as many 1.6 ones do) get their file part stored."""
    op = await an_operator(engine, http, "FORM-1")
    store = SqlManagementStore(engine.charging.store.engine)
    now = engine.api.state.context.clock()
    request_id = await asyncio.to_thread(
        store.begin_log_upload,
        op.id,
        "diagnostics",
        None,
        token_hash("t" * 43),
        now,
        now + dt.timedelta(hours=1),
    )
    files = {"file": ("diag 1.log", b"line one\nline two\n", "text/plain")}
    response = await http.post("/ocpp-uploads/" + "t" * 43, files=files, data={"note": "x"})
    assert response.status_code == 201, response.text
    (upload,) = (await op.get("logs"))["items"]
    assert (upload["request_id"], upload["file_name"], upload["size"]) == (request_id, "diag_1.log", 18)
    download = await http.get(upload["download"], headers=op.headers)
    assert download.content == b"line one\nline two\n"
