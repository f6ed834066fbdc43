"""Reservations through the operator API, against simulated stations of every version over
real websockets: a reservation holds its connector for its token until it is used,
cancelled or expires (by the injected clocks), and the engine refuses another token's start
there even from a charger that ignored it."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from mobility.charging.reservations import ReservationState
from mobility.engine import Engine
from sims.chargers.clock import ManualClock as StationClock
from sims.chargers.station import default_ev
from testkit.clock import ManualClock
from tests.api.conftest import operator
from tests.api.station_world import LIMIT, START, VERSIONS, add_token, command, station_on


async def _reservations(http: httpx.AsyncClient, headers: dict[str, str], cp: str) -> list[dict[str, object]]:
    response = await http.get(f"/operator/chargers/{cp}/reservations", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_reservation_holds_its_connector_until_its_token_uses_it(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    headers = await operator(engine, "op-res")
    clock = ManualClock(START)
    engine.charging.reservations.clock = clock
    await add_token(http, headers, "RESV-A")
    await add_token(http, headers, "OTHER-B")
    cp = f"RES-{version}"
    async with station_on(engine, http, headers, cp, version, StationClock(START)) as station:
        expires = START + dt.timedelta(hours=1)
        body = {
            "type": "reserve_now",
            "connector_id": 1,
            "id_token": "RESV-A",
            "expires_at": expires.isoformat(),
        }
        answer = await command(http, headers, cp, body)
        assert (answer["outcome"], answer["status"]) == ("answered", "Accepted")
        reservation_id = answer["response"]["reservation_id"]
        (held,) = station.reservations.held
        assert (held.id, held.connector_id, held.id_token, held.expires_at) == (
            reservation_id,
            1,
            "RESV-A",
            expires,
        )
        (listed,) = await _reservations(http, headers, cp)
        assert (listed["id"], listed["state"], listed["connector_id"]) == (reservation_id, "active", 1)

        # Another token: refused by the engine before anything is sent, and by the station.
        other = {"type": "remote_start", "id_token": "OTHER-B", "connector_id": 1}
        refused = await command(http, headers, cp, other, expect=409)
        assert (refused["type"], refused["reservation_id"]) == (
            "urn:mobility:problem:connector-reserved",
            reservation_id,
        )
        assert await station.plug_in(1, default_ev(), "OTHER-B") is None
        # ... but the other connector is free for it.
        assert (await command(http, headers, cp, {**other, "connector_id": 2}))["status"] == "Accepted"

        own = await command(
            http, headers, cp, {"type": "remote_start", "id_token": "resv-a", "connector_id": 1}
        )
        assert own["status"] == "Accepted"
        await station.drained(LIMIT)
        mine = next(t for t in station.transactions if t.connector_id == 1)
        assert mine.reservation_id == reservation_id
        assert station.reservations.held == []
        (listed,) = await _reservations(http, headers, cp)
        session = await asyncio.to_thread(engine.charging.store.session_by_ref, cp, str(mine.ref))
        assert session is not None
        assert (listed["state"], listed["session_id"]) == ("used", session.id)
        # Operator tokens charge unbilled: the payment layer did not stop either session.
        assert engine.payments is not None
        await engine.payments.idle()
        assert all(t.stop_reason is None for t in station.transactions)


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_reservation_expires_by_the_clock_and_frees_its_connector(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    headers = await operator(engine, "op-exp")
    clock = ManualClock(START)
    engine.charging.reservations.clock = clock
    station_clock = StationClock(START)
    await add_token(http, headers, "RESV-A")
    await add_token(http, headers, "OTHER-B")
    cp = f"EXP-{version}"
    async with station_on(engine, http, headers, cp, version, station_clock) as station:
        expires = START + dt.timedelta(minutes=10)
        body = {
            "type": "reserve_now",
            "connector_id": 2,
            "id_token": "RESV-A",
            "expires_at": expires.isoformat(),
        }
        reservation_id = (await command(http, headers, cp, body))["response"]["reservation_id"]
        other = {"type": "remote_start", "id_token": "OTHER-B", "connector_id": 2}
        await command(http, headers, cp, other, expect=409)

        clock.advance(minutes=10)
        station_clock.advance(600)
        assert station.expire_reservations() == [reservation_id] or station.reservations.held == []
        repository = engine.charging.reservations.repository
        if version != "1.6":
            # 2.x: the station reports it (ReservationStatusUpdate Expired) and the row says so.
            async def reported() -> bool:
                found = await asyncio.to_thread(repository.get, cp, reservation_id)
                return found is not None and found.state is ReservationState.EXPIRED

            async with asyncio.timeout(LIMIT):
                # Written by the engine when the station's notice arrives, bounded by the timeout.
                while not await reported():  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
        (listed,) = await _reservations(http, headers, cp)
        assert listed["state"] == "expired"
        assert (await command(http, headers, cp, other))["status"] == "Accepted"
        await station.drained(LIMIT)
        assert [t.connector_id for t in station.transactions] == [2]


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_cancelled_reservation_frees_its_connector(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    headers = await operator(engine, "op-can")
    await add_token(http, headers, "OTHER-B")
    cp = f"CAN-{version}"
    async with station_on(engine, http, headers, cp, version) as station:
        now = engine.charging.reservations.clock()
        expires = (now + dt.timedelta(hours=2)).isoformat()
        body = {"type": "reserve_now", "connector_id": 1, "id_token": "RESV-A", "expires_at": expires}
        reservation_id = (await command(http, headers, cp, body))["response"]["reservation_id"]
        # The station's reservations run on its own clock (START): this one holds there too.
        assert [r.id for r in station.reservations.held] == [reservation_id]

        cancel = {"type": "cancel_reservation", "reservation_id": reservation_id}
        assert (await command(http, headers, cp, cancel))["status"] == "Accepted"
        assert station.reservations.held == []
        (listed,) = await _reservations(http, headers, cp)
        assert listed["state"] == "cancelled"
        # Cancelling again: the station no longer has it and says so; the row stays cancelled.
        assert (await command(http, headers, cp, cancel))["status"] == "Rejected"
        assert (await _reservations(http, headers, cp))[0]["state"] == "cancelled"
        await command(http, headers, cp, {**cancel, "reservation_id": reservation_id + 1000}, expect=404)
        other = {"type": "remote_start", "id_token": "OTHER-B", "connector_id": 1}
        assert (await command(http, headers, cp, other))["status"] == "Accepted"


async def test_a_reservation_the_charger_refuses_holds_nothing(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    headers = await operator(engine, "op-occ")
    await add_token(http, headers, "OTHER-B")
    async with station_on(engine, http, headers, "OCC-1", "2.0.1") as station:
        start = {"type": "remote_start", "id_token": "OTHER-B", "connector_id": 1}
        assert (await command(http, headers, "OCC-1", start))["status"] == "Accepted"
        await station.drained(LIMIT)
        expires = (engine.charging.reservations.clock() + dt.timedelta(hours=1)).isoformat()
        body = {"type": "reserve_now", "connector_id": 1, "id_token": "RESV-A", "expires_at": expires}
        answer = await command(http, headers, "OCC-1", body)
        assert answer["status"] == "Occupied"
        (listed,) = await _reservations(http, headers, "OCC-1")
        assert (listed["state"], listed["charger_status"]) == ("refused", "Occupied")
        # Expiry out of range: refused before anything is logged or sent.
        past = {
            **body,
            "expires_at": (engine.charging.reservations.clock() - dt.timedelta(minutes=1)).isoformat(),
        }
        await command(http, headers, "OCC-1", past, expect=422)
        log = (await http.get("/operator/chargers/OCC-1/commands", headers=headers)).json()
        assert [c["command"] for c in log["items"]] == ["reserve_now", "remote_start"]
