"""Chargers admitted with MOBILITY_ACCEPT_UNKNOWN_CHARGERS (issue 14, point 15): they had no
owner or tariff, so every session on them was stopped and no operator could see or take them
(POST /operator/chargers answered 409). The engine says so at boot, lists them, and lets an
operator claim one by registering its ID."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from mobility.engine import Engine
from ocpp_server._ocpp import call16
from tests.api.conftest import operator, running_engine
from tests.ocpp.clients import Client16
from tests.ocpp.conftest import library_client

PASSWORD = "a-password-of-16+"


async def test_an_operator_claims_a_charger_admitted_unknown(
    engine: Engine, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/CP-STRAY"
    with caplog.at_level(logging.WARNING, logger="mobility.charging.service"):
        async with library_client(url, "1.6", Client16, charge_point_id="CP-STRAY", password="") as cp:
            boot = await cp.call(call16.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            assert boot.status == "Accepted"
    assert "CP-STRAY admitted unknown" in caplog.text
    first, second = await operator(engine, "op-c1"), await operator(engine, "op-c2")
    listed = (await http.get("/operator/unclaimed-chargers", headers=first)).json()
    assert [item["id"] for item in listed["items"]] == ["CP-STRAY"]
    assert (await http.get("/operator/chargers/CP-STRAY", headers=first)).status_code == 404

    body = {"id": "CP-STRAY", "password": PASSWORD, "site": "Depot"}
    claimed = await http.post("/operator/chargers", json=body, headers=first)
    assert claimed.status_code == 201, claimed.text
    assert (await http.get("/operator/chargers/CP-STRAY", headers=first)).json()["site"] == "Depot"
    assert (await http.post("/operator/chargers", json=body, headers=second)).status_code == 409
    assert (await http.get("/operator/unclaimed-chargers", headers=second)).json()["total"] == 0
    # Claimed, it authenticates with the operator's password like any registered charger.
    async with library_client(url, "1.6", Client16, charge_point_id="CP-STRAY", password=PASSWORD) as cp:
        assert (await cp.call(call16.Heartbeat())).current_time


async def test_the_engine_says_at_boot_that_unknown_chargers_are_let_in(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_engine(database_url, tmp_path) as engine:
        engine.charging.store.ensure_charge_point("CP-ADMITTED")
    with caplog.at_level(logging.WARNING, logger="mobility.engine"):
        async with running_engine(database_url, tmp_path):
            pass
    boot = [record.getMessage() for record in caplog.records if record.name == "mobility.engine"]
    assert any("MOBILITY_ACCEPT_UNKNOWN_CHARGERS is on" in line and "CP-ADMITTED" in line for line in boot)
