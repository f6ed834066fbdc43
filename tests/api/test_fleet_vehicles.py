"""Fleet vehicles and id tokens; every fleet route kept from other fleets and other roles;
bad input refused with nothing written."""

from __future__ import annotations

import asyncio

import httpx

from mobility.engine import Engine
from tests.api.conftest import Headers, driver, fleet, operator

PROBLEM = "application/problem+json"
PERIOD = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}


async def add_vehicle(http: httpx.AsyncClient, headers: Headers, label: str) -> str:
    response = await http.post("/fleet/vehicles", json={"label": label}, headers=headers)
    assert response.status_code == 201, response.text
    vehicle_id: str = response.json()["id"]
    return vehicle_id


async def test_vehicles_and_their_tokens(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await fleet(engine, "fleet-v1")
    van = await add_vehicle(http, headers, "Van 1")
    car = await add_vehicle(http, headers, "Car 2")
    listed = (await http.get("/fleet/vehicles", params={"limit": 1}, headers=headers)).json()
    assert listed["total"] == 2
    assert len(listed["items"]) == 1
    assert (await http.get(f"/fleet/vehicles/{van}", headers=headers)).json() == {"id": van, "label": "Van 1"}

    body = {"token": "04a2b3c4", "driver_name": "Ada"}
    added = await http.post(f"/fleet/vehicles/{van}/tokens", json=body, headers=headers)
    assert added.status_code == 201, added.text
    assert added.json() == {"token": "04A2B3C4", "vehicle_id": van, "driver_name": "Ada"}
    account = await asyncio.to_thread(engine.api.state.context.payment_store.account_for_token, "04a2b3c4")
    assert account is not None
    assert account.id == "fleet-v1"  # sessions with it are paid from the fleet's channels

    # Registering an own token again moves it to the other vehicle and driver.
    moved = await http.post(
        f"/fleet/vehicles/{car}/tokens", json={"token": "04A2B3C4", "driver_name": "Bob"}, headers=headers
    )
    assert moved.status_code == 201
    assert (await http.get(f"/fleet/vehicles/{van}/tokens", headers=headers)).json()["total"] == 0
    tokens = (await http.get(f"/fleet/vehicles/{car}/tokens", headers=headers)).json()
    assert tokens["items"] == [{"token": "04A2B3C4", "vehicle_id": car, "driver_name": "Bob"}]


async def test_a_token_of_another_account_is_a_conflict(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await fleet(engine, "fleet-v2")
    other = await fleet(engine, "fleet-v3")
    van = await add_vehicle(http, headers, "Van")
    theirs = await add_vehicle(http, other, "Theirs")
    taken = await http.post(
        f"/fleet/vehicles/{theirs}/tokens", json={"token": "CAFE01", "driver_name": "Eve"}, headers=other
    )
    assert taken.status_code == 201
    _, driver_account, _ = await driver(http, 0x61)
    store = engine.api.state.context.payment_store
    await asyncio.to_thread(store.add_id_token, "D0D0", driver_account)

    for token in ("cafe01", "D0D0"):
        response = await http.post(
            f"/fleet/vehicles/{van}/tokens", json={"token": token, "driver_name": "Mallory"}, headers=headers
        )
        assert response.status_code == 409, response.text
        assert response.json()["type"] == "urn:mobility:problem:token-taken"
    for token, owner in (("CAFE01", "fleet-v3"), ("D0D0", driver_account)):
        account = await asyncio.to_thread(store.account_for_token, token)
        assert account is not None
        assert account.id == owner
    assert (await http.get(f"/fleet/vehicles/{van}/tokens", headers=headers)).json()["total"] == 0


def fleet_routes(vehicle_id: str, session_id: int) -> list[tuple[str, str, dict[str, object] | None]]:
    """Every fleet route with a valid request: (method, path, JSON body)."""
    query = "?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"
    return [
        ("GET", "/fleet/vehicles", None),
        ("POST", "/fleet/vehicles", {"label": "x"}),
        ("GET", f"/fleet/vehicles/{vehicle_id}", None),
        ("POST", f"/fleet/vehicles/{vehicle_id}/tokens", {"token": "ABC", "driver_name": "x"}),
        ("GET", f"/fleet/vehicles/{vehicle_id}/tokens", None),
        ("GET", f"/fleet/reconciliation{query}", None),
        ("GET", f"/fleet/exports/cdrs{query}", None),
        ("GET", f"/fleet/exports/sessions.csv{query}", None),
        ("GET", f"/fleet/sessions/{session_id}/proof", None),
    ]


async def test_other_roles_are_forbidden_everywhere(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await fleet(engine, "fleet-v4")
    van = await add_vehicle(http, headers, "Van")
    _, _, driver_headers = await driver(http, 0x62)
    operator_headers = await operator(engine, "op-f")
    read_only = await fleet(engine, "fleet-v4", frozenset({"fleet:read"}))
    for method, path, body in fleet_routes(van, 1):
        for who, caller in (("driver", driver_headers), ("operator", operator_headers)):
            response = await http.request(method, path, json=body, headers=caller)
            assert response.status_code == 403, (who, method, path, response.text)
            assert response.json()["type"] == "urn:mobility:problem:wrong-role"
        assert (await http.request(method, path, json=body)).status_code == 401
        if method == "POST":
            response = await http.request(method, path, json=body, headers=read_only)
            assert response.status_code == 403
            assert response.json()["type"] == "urn:mobility:problem:missing-scope"
    assert (await http.get("/fleet/vehicles", headers=headers)).json()["total"] == 1


async def test_another_fleets_vehicle_is_not_found(engine: Engine, http: httpx.AsyncClient) -> None:
    mine = await fleet(engine, "fleet-v5")
    theirs = await fleet(engine, "fleet-v6")
    their_van = await add_vehicle(http, theirs, "Theirs")
    for method, path, body in fleet_routes(their_van, 1):
        if their_van not in path:
            continue
        response = await http.request(method, path, json=body, headers=mine)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert (await http.get("/fleet/vehicles", headers=mine)).json()["total"] == 0
    assert (await http.get(f"/fleet/vehicles/{their_van}/tokens", headers=theirs)).json()["total"] == 0


async def test_bad_input_is_a_422_and_writes_nothing(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await fleet(engine, "fleet-v7")
    van = await add_vehicle(http, headers, "Van")
    bad_posts: list[tuple[str, object]] = [
        ("/fleet/vehicles", {"label": ""}),
        ("/fleet/vehicles", {"label": "x" * 201}),
        ("/fleet/vehicles", {}),
        ("/fleet/vehicles", ["label"]),
        (f"/fleet/vehicles/{van}/tokens", {"token": "has space", "driver_name": "Ada"}),
        (f"/fleet/vehicles/{van}/tokens", {"token": "", "driver_name": "Ada"}),
        (f"/fleet/vehicles/{van}/tokens", {"token": "A" * 37, "driver_name": "Ada"}),
        (f"/fleet/vehicles/{van}/tokens", {"token": "ÄÖ", "driver_name": "Ada"}),
        (f"/fleet/vehicles/{van}/tokens", {"token": "ABC"}),
        (f"/fleet/vehicles/{van}/tokens", {"token": "ABC", "driver_name": ""}),
        ("/fleet/vehicles", {"label": "Van\u0000"}),  # PostgreSQL text refuses NUL
        (f"/fleet/vehicles/{van}/tokens", {"token": "ABC", "driver_name": "Ada\u0000"}),
    ]
    for path, body in bad_posts:
        response = await http.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["detail"]
    bad_gets = [
        "/fleet/reconciliation?from=2026-01-01T00:00:00&to=2026-02-01T00:00:00Z",  # no offset
        "/fleet/reconciliation?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",  # backwards
        "/fleet/reconciliation?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",  # too long
        "/fleet/reconciliation?to=2026-01-01T00:00:00Z",
        "/fleet/reconciliation?from=0001-01-01T00:00:00%2B01:00&to=0001-01-02T00:00:00Z",  # before year 1
        "/fleet/reconciliation?from=yesterday&to=2026-01-01T00:00:00Z",
        "/fleet/exports/cdrs?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&limit=0",
        "/fleet/exports/sessions.csv?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&offset=-1",
        "/fleet/sessions/0/proof",
        "/fleet/sessions/abc/proof",
        f"/fleet/sessions/{2**31}/proof",  # beyond the session ID column
        f"/fleet/vehicles/{'v' * 65}",
        "/fleet/vehicles/veh%00",
        "/fleet/vehicles/veh%00/tokens",
    ]
    for path in bad_gets:
        response = await http.get(path, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert (await http.get("/fleet/vehicles", headers=headers)).json()["total"] == 1
    assert (await http.get(f"/fleet/vehicles/{van}/tokens", headers=headers)).json()["total"] == 0


async def test_an_empty_period_reconciles_to_nothing(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await fleet(engine, "fleet-v8")
    report = (await http.get("/fleet/reconciliation", params=PERIOD, headers=headers)).json()
    assert report["sessions"]["items"] == []
    assert report["total"]["sessions"] == 0
    assert report["from"] == "2026-01-01T00:00:00Z"
    cdrs = await http.get("/fleet/exports/cdrs", params=PERIOD, headers=headers)
    assert cdrs.json()["data"] == []
    assert cdrs.headers["x-total-count"] == "0"
    sheet = await http.get("/fleet/exports/sessions.csv", params=PERIOD, headers=headers)
    assert sheet.headers["content-type"].startswith("text/csv")
    assert sheet.text.splitlines()[0].startswith("session_id,started_at")
    assert (await http.get("/fleet/sessions/1/proof", headers=headers)).status_code == 404
