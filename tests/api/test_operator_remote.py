"""Operator remote start and stop (a support desk's) against simulated stations of every
version: the same charger commands as the drivers' own, the session authorized in the usual
order, and refusals before anything is sent."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mobility.engine import Engine
from sims.chargers.connector import StopReason
from tests.api.conftest import operator
from tests.api.station_world import LIMIT, VERSIONS, add_token, command, station_on


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_support_desk_starts_and_stops_a_session(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    headers = await operator(engine, "op-desk")
    await add_token(http, headers, "DESK-1")
    cp = f"DESK-{version}"
    async with station_on(engine, http, headers, cp, version) as station:
        started = await command(
            http, headers, cp, {"type": "remote_start", "id_token": "DESK-1", "connector_id": 2}
        )
        assert (started["outcome"], started["status"]) == ("answered", "Accepted")
        await station.drained(LIMIT)
        (transaction,) = station.transactions
        assert (transaction.connector_id, transaction.id_token) == (2, "DESK-1")
        assert transaction.ref is not None
        session = await asyncio.to_thread(engine.charging.store.session_by_ref, cp, transaction.ref)
        assert session is not None
        assert session.ended_at is None
        assert engine.payments is not None
        await engine.payments.idle()
        assert transaction.stop_reason is None  # the operator's token charges unbilled

        stop = {"type": "remote_stop", "transaction_id": transaction.ref}
        stopped = await command(http, headers, cp, stop)
        assert stopped["status"] == "Accepted"
        await station.drained(LIMIT)
        assert transaction.stop_reason is StopReason.REMOTE
        ended = await asyncio.to_thread(engine.charging.store.session_by_ref, cp, transaction.ref)
        assert ended is not None
        assert ended.ended_at is not None

        # Refused before anything is sent: an ended or unknown transaction, a driver's app token.
        await command(http, headers, cp, stop, expect=409)
        await command(http, headers, cp, {"type": "remote_stop", "transaction_id": "no-such"}, expect=404)
        app = {"type": "remote_start", "id_token": "APP0123456789ABCDEF", "connector_id": 1}
        await command(http, headers, cp, app, expect=422)
        # A blocked token: the station starts, the engine refuses the start and it stops again.
        blocked = await http.patch("/operator/id-tokens/DESK-1", json={"status": "Blocked"}, headers=headers)
        assert blocked.status_code == 200
        again = await command(
            http, headers, cp, {"type": "remote_start", "id_token": "DESK-1", "connector_id": 1}
        )
        assert again["status"] == "Accepted"
        await station.drained(LIMIT)
        assert station.transactions[-1].stop_reason is StopReason.DE_AUTHORIZED
    log = (await http.get(f"/operator/chargers/{cp}/commands", headers=headers)).json()
    assert [c["command"] for c in reversed(log["items"])] == ["remote_start", "remote_stop", "remote_start"]
