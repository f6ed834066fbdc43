"""Operator charge points and commands against the whole engine: register, connect with the
password, change settings, send commands to a simulated charge point and read their log;
other tenants get 404, other roles and keys without the scope 403, bad input 422."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from mobility.api.auth import OPERATOR_SCOPES
from mobility.engine import Engine
from ocpp_server._ocpp import ChargePoint16, call16
from tests.api.conftest import driver, fleet, operator
from tests.api.operator_world import PASSWORD, PROBLEM, connected, register


async def test_a_registered_charger_connects_with_its_password(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    headers = await operator(engine, "op-a")
    created = await register(http, headers, "CP-A1", site="Depot", latitude=52.52, longitude=13.405)
    assert created["online"] is False
    assert (created["site"], created["latitude"], created["longitude"]) == ("Depot", 52.52, 13.405)
    stored = await engine.charging.charge_point("CP-A1")
    assert stored is not None
    assert stored.operator_id == "op-a"
    assert stored.password_hash is not None
    assert PASSWORD not in stored.password_hash

    with pytest.raises(InvalidStatus) as refused:
        async with connected(engine, "CP-A1", password="wrong-password-1234"):
            pass
    assert refused.value.response.status_code == 401

    async with connected(engine, "CP-A1") as cp:
        await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        seen = (await http.get("/operator/chargers/CP-A1", headers=headers)).json()
        assert (seen["online"], seen["protocol"], seen["vendor"]) == (True, "ocpp1.6", "sim")
        assert [(c["connector_id"], c["status"]) for c in seen["connectors"]] == [(1, "Available")]
        page = (await http.get("/operator/chargers", headers=headers)).json()
        assert (page["total"], [c["id"] for c in page["items"]]) == (1, ["CP-A1"])
        assert page["items"][0]["online"] is True

    new_password = "another-secret-0042"
    response = await http.put(
        "/operator/chargers/CP-A1/password", json={"password": new_password}, headers=headers
    )
    assert response.status_code == 204
    with pytest.raises(InvalidStatus):
        async with connected(engine, "CP-A1"):
            pass
    async with connected(engine, "CP-A1", password=new_password):
        pass


async def test_patch_changes_only_what_is_given(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await operator(engine, "op-b")
    await register(http, headers, "CP-B1", site="Yard", latitude=1.0, longitude=2.0)
    tariff = {
        "id": "op-b-tariff",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 250_000}]}],
    }
    assert (await http.post("/operator/tariffs", json=tariff, headers=headers)).status_code == 201
    response = await http.patch(
        "/operator/chargers/CP-B1", json={"enabled": False, "tariff_id": "op-b-tariff"}, headers=headers
    )
    assert response.status_code == 200, response.text
    charger = response.json()
    assert (charger["enabled"], charger["tariff_id"], charger["site"]) == (False, "op-b-tariff", "Yard")
    async with connected(engine, "CP-B1") as cp:  # a disabled charge point's boot is rejected
        boot = await cp.call(call16.BootNotification(charge_point_vendor="sim", charge_point_model="m1"))
        assert boot.status == "Rejected"
    cleared = await http.patch(
        "/operator/chargers/CP-B1",
        json={"site": None, "latitude": None, "longitude": None, "enabled": True},
        headers=headers,
    )
    assert cleared.status_code == 200
    assert [cleared.json()[k] for k in ("site", "latitude", "enabled", "tariff_id")] == [
        None,
        None,
        True,
        "op-b-tariff",
    ]


async def test_ids_are_taken_once_and_bad_input_writes_nothing(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    mine, theirs = await operator(engine, "op-c"), await operator(engine, "op-d")
    await register(http, theirs, "CP-D1")
    taken = await http.post("/operator/chargers", json={"id": "CP-D1", "password": PASSWORD}, headers=mine)
    assert taken.status_code == 409
    assert taken.headers["content-type"] == PROBLEM
    again = await http.post("/operator/chargers", json={"id": "CP-D1", "password": PASSWORD}, headers=theirs)
    assert again.status_code == 409
    their_tariff = {
        "id": "op-d-tariff",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "FLAT", "price": 1_000_000}]}],
    }
    assert (await http.post("/operator/tariffs", json=their_tariff, headers=theirs)).status_code == 201

    bad_bodies = [
        {"id": "X" * 49, "password": PASSWORD},
        {"id": "CP C", "password": PASSWORD},
        {"id": "CP-C1", "password": "short"},
        {"id": "CP-C1"},
        {"id": "CP-C1", "password": PASSWORD, "latitude": 10.0},
        {"id": "CP-C1", "password": PASSWORD, "latitude": 91.0, "longitude": 0.0},
        {"id": "CP-C1", "password": PASSWORD, "owner": "op-d"},
        {"id": "CP-C1", "password": PASSWORD, "tariff_id": "op-d-tariff"},
        {"id": "CP-C1", "password": PASSWORD, "tariff_id": "no-such-tariff"},
        {"id": "CP-C1", "password": PASSWORD, "site": "nul\x00byte"},
    ]
    for body in bad_bodies:
        response = await http.post("/operator/chargers", json=body, headers=mine)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    await register(http, mine, "CP-C2", site="Here")
    for patch in [{"enabled": None}, {"latitude": 1.0}, {"site": ""}, {"tariff_id": "op-d-tariff"}, {"x": 1}]:
        response = await http.patch("/operator/chargers/CP-C2", json=patch, headers=mine)
        assert response.status_code == 422, (patch, response.text)
    assert (await http.get("/operator/chargers/CP%00C2", headers=mine)).status_code == 422
    short = await http.put("/operator/chargers/CP-C2/password", json={"password": "short"}, headers=mine)
    assert short.status_code == 422
    assert await engine.charging.charge_point("CP-C1") is None
    unchanged = (await http.get("/operator/chargers/CP-C2", headers=mine)).json()
    assert (unchanged["site"], unchanged["enabled"], unchanged["tariff_id"]) == ("Here", True, None)
    async with connected(engine, "CP-C2"):  # the password is still the first one
        pass


async def test_a_command_round_trip_to_a_simulated_charger(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await operator(engine, "op-e")
    await register(http, headers, "CP-E1")
    offline = await http.post("/operator/chargers/CP-E1/commands", json={"type": "reset"}, headers=headers)
    assert offline.status_code == 409
    assert offline.json()["type"] == "urn:mobility:problem:charger-offline"
    async with connected(engine, "CP-E1") as cp:
        commands: list[tuple[dict[str, object], str, tuple[str, dict[str, object]]]] = [
            ({"type": "reset", "kind": "hard"}, "Accepted", ("Reset", {"type": "Hard"})),
            (
                {"type": "unlock_connector", "connector_id": 1},
                "Unlocked",
                ("UnlockConnector", {"connector_id": 1}),
            ),
            (
                {"type": "availability", "connector_id": 2, "state": "inoperative"},
                "Accepted",
                ("ChangeAvailability", {"connector_id": 2, "type": "Inoperative"}),
            ),
            ({"type": "clear_charging_profile"}, "Unknown", ("ClearChargingProfile", {"id": 901})),
        ]
        for body, status, received in commands:
            response = await http.post("/operator/chargers/CP-E1/commands", json=body, headers=headers)
            assert response.status_code == 200, response.text
            result = response.json()
            assert (result["outcome"], result["status"], result["command"]) == (
                "answered",
                status,
                body["type"],
            )
            assert cp.received[-1] == received
        limit = {"type": "charging_profile", "connector_id": 1, "limit_w": 7_400}
        response = await http.post("/operator/chargers/CP-E1/commands", json=limit, headers=headers)
        assert response.json()["status"] == "Accepted"
        name, payload = cp.received[-1]
        assert name == "SetChargingProfile"
        profile = payload["cs_charging_profiles"]
        assert profile["charging_profile_id"] == 901
        assert profile["charging_schedule"]["charging_schedule_period"] == [
            {"start_period": 0, "limit": 7400}
        ]

        for bad in [
            {"type": "reboot"},
            {"type": "reset", "kind": "gentle"},
            {"type": "unlock_connector"},
            {"type": "charging_profile", "limit_w": -1},
            {"type": "availability", "state": "broken"},
        ]:
            response = await http.post("/operator/chargers/CP-E1/commands", json=bad, headers=headers)
            assert response.status_code == 422, (bad, response.text)
        assert len(cp.received) == 5

    log = (await http.get("/operator/chargers/CP-E1/commands?limit=2", headers=headers)).json()
    assert (log["total"], log["limit"]) == (5, 2)
    assert [c["command"] for c in log["items"]] == ["charging_profile", "clear_charging_profile"]
    assert log["items"][0]["request"] == limit
    assert log["items"][0]["response"]["status"] == "Accepted"
    rest = (await http.get("/operator/chargers/CP-E1/commands?offset=2", headers=headers)).json()
    assert [c["command"] for c in rest["items"]] == ["availability", "unlock_connector", "reset"]


async def test_a_charger_answering_with_an_error_is_a_502_and_logged(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    headers = await operator(engine, "op-e2")
    await register(http, headers, "CP-E2")
    async with connected(engine, "CP-E2", cls=ChargePoint16):  # handles no command: CALLERROR
        response = await http.post(
            "/operator/chargers/CP-E2/commands", json={"type": "reset"}, headers=headers
        )
    assert response.status_code == 502
    problem = response.json()
    assert problem["type"] == "urn:mobility:problem:charger-error"
    assert (problem["command"]["outcome"], problem["command"]["status"]) == ("error", "NotImplemented")
    log = (await http.get("/operator/chargers/CP-E2/commands", headers=headers)).json()
    assert [(c["command"], c["outcome"]) for c in log["items"]] == [("reset", "error")]


async def test_other_tenants_get_404_and_other_roles_403(engine: Engine, http: httpx.AsyncClient) -> None:
    owner = await operator(engine, "op-f")
    stranger = await operator(engine, "op-g")
    _, _, driver_headers = await driver(http, 0x61)
    fleet_headers = await fleet(engine, "fleet-f")
    await register(http, owner, "CP-F1")
    async with connected(engine, "CP-UNOWNED"):  # admitted as unknown: nobody's charge point
        pass
    routes: list[tuple[str, str, dict[str, object] | None, str]] = [
        ("GET", "/operator/chargers/{id}", None, "chargers:read"),
        ("PATCH", "/operator/chargers/{id}", {"site": "Mine now"}, "chargers:write"),
        ("PUT", "/operator/chargers/{id}/password", {"password": "stolen-password-99"}, "chargers:write"),
        ("POST", "/operator/chargers/{id}/commands", {"type": "reset"}, "commands"),
        ("GET", "/operator/chargers/{id}/commands", None, "commands"),
    ]
    for method, template, body, scope in routes:
        for charge_point_id in ("CP-F1", "CP-UNOWNED", "CP-NONE"):
            path = template.format(id=charge_point_id)
            response = await http.request(method, path, json=body, headers=stranger)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["type"] == "urn:mobility:problem:not-found"
        path = template.format(id="CP-F1")
        for headers in (driver_headers, fleet_headers):
            response = await http.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
        unscoped = await operator(engine, "op-f", OPERATOR_SCOPES - {scope})
        response = await http.request(method, path, json=body, headers=unscoped)
        assert response.status_code == 403, (method, path)
        assert response.json()["type"] == "urn:mobility:problem:missing-scope"
    for headers in (
        driver_headers,
        fleet_headers,
        await operator(engine, "op-f", frozenset({"chargers:read"})),
    ):
        response = await http.post(
            "/operator/chargers", json={"id": "CP-F2", "password": PASSWORD}, headers=headers
        )
        assert response.status_code == 403
    for headers in (driver_headers, fleet_headers, await operator(engine, "op-f", frozenset({"commands"}))):
        assert (await http.get("/operator/chargers", headers=headers)).status_code == 403
    assert (await http.get("/operator/chargers", headers=stranger)).json()["total"] == 0
    seen = (await http.get("/operator/chargers/CP-F1", headers=owner)).json()
    assert seen["site"] is None  # the stranger's PATCH changed nothing
    async with connected(engine, "CP-F1"):  # nor the password
        pass


async def test_registering_a_pending_charger_approves_it(engine: Engine, http: httpx.AsyncClient) -> None:
    store = engine.charging.store
    store.ensure_charge_point("CP-NEW", pending=True)  # connected unknown, waiting for approval
    # Registered outside the API with a password (someone chose its credentials): out of reach.
    # (One admitted unknown, without a password, is claimable: tests/api/test_unclaimed_chargers.py.)
    store.register_charge_point("CP-CLI", "chosen-elsewhere")
    first, second = await operator(engine, "op-p1"), await operator(engine, "op-p2")
    approved = await register(http, first, "CP-NEW", site="Hall")
    assert approved["site"] == "Hall"
    record = store.charge_point("CP-NEW")
    assert record is not None
    assert (record.pending, record.operator_id) == (False, "op-p1")
    assert (
        await http.post("/operator/chargers", json={"id": "CP-NEW", "password": PASSWORD}, headers=second)
    ).status_code == 409
    assert (
        await http.post("/operator/chargers", json={"id": "CP-CLI", "password": PASSWORD}, headers=first)
    ).status_code == 409
    async with connected(engine, "CP-NEW") as cp:
        boot = await cp.call(call16.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        assert boot.status == "Accepted"
