"""Sessions keep who charged at the time (issue 14, point 12): re-posting a vehicle token with
another `driver_name` changed the driver of every earlier session, in the CSV, the CDRs and the
reconciliation. A registration now takes effect from when it is made."""

from __future__ import annotations

import csv
import datetime as dt
import io

import httpx

from mobility.engine import Engine
from ocpp_server._ocpp import call16
from tests.api.conftest import fleet
from tests.api.driver_world import charger, iso, place_charger


async def _session(cp: object, token: str, at: dt.datetime) -> None:
    call = cp.call  # type: ignore[attr-defined]
    begun = await call(
        call16.StartTransaction(connector_id=1, id_tag=token, meter_start=0, timestamp=iso(at))
    )
    end = iso(at + dt.timedelta(minutes=5))
    await call(call16.StopTransaction(meter_stop=500, timestamp=end, transaction_id=begun.transaction_id))


async def test_re_registering_a_token_does_not_rewrite_earlier_sessions(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    headers = await fleet(engine, "fleet-history")
    vehicle = (await http.post("/fleet/vehicles", json={"label": "van 1"}, headers=headers)).json()["id"]
    other = (await http.post("/fleet/vehicles", json={"label": "van 2"}, headers=headers)).json()["id"]
    token = "04AABBCCDD"
    url = f"/fleet/vehicles/{vehicle}/tokens"
    assert (
        await http.post(url, json={"token": token, "driver_name": "Alice"}, headers=headers)
    ).status_code == 201
    place_charger(engine, "CP-HIST", 50.1, 8.6)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    async with charger(engine, "CP-HIST") as cp:
        await _session(cp, token, now - dt.timedelta(hours=1))  # Alice's, in van 1
        body = {"token": token, "driver_name": "Bob"}
        moved = await http.post(f"/fleet/vehicles/{other}/tokens", json=body, headers=headers)
        assert moved.status_code == 201, moved.text
        await _session(cp, token, now + dt.timedelta(minutes=1))  # Bob's, in van 2

    period = {"from": iso(now - dt.timedelta(days=1)), "to": iso(now + dt.timedelta(days=1))}
    report = (await http.get("/fleet/reconciliation", params=period, headers=headers)).json()
    lines = [(item["vehicle_id"], item["driver_name"]) for item in report["sessions"]["items"]]
    assert lines == [(vehicle, "Alice"), (other, "Bob")]
    assert sorted((group["key"], group["sessions"]) for group in report["drivers"]) == [
        ("Alice", 1),
        ("Bob", 1),
    ]
    sheet = await http.get("/fleet/exports/sessions.csv", params=period, headers=headers)
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert [(row["vehicle_id"], row["driver_name"]) for row in rows] == [(vehicle, "Alice"), (other, "Bob")]
    # Registering the same assignment again changes nothing.
    assert (await http.post(f"/fleet/vehicles/{other}/tokens", json=body, headers=headers)).status_code == 201
    again = (await http.get("/fleet/reconciliation", params=period, headers=headers)).json()
    assert [(i["vehicle_id"], i["driver_name"]) for i in again["sessions"]["items"]] == lines
