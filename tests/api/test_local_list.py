"""Local authorization through the operator API against simulated stations of every version:
the local list is the operator's tokens with their status (expired ones as Expired), versioned
per charger; the version can be read back; the cache cleared."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from mobility.charging.auth_order import AuthorizationOrder
from mobility.engine import Engine
from sims.chargers.station import default_ev
from testkit.clock import ManualClock
from tests.api.conftest import operator
from tests.api.station_world import LIMIT, START, VERSIONS, add_token, command, station_on


@pytest.mark.parametrize("version", VERSIONS)
async def test_the_local_list_is_the_operators_tokens(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    headers = await operator(engine, "op-ll")
    clock = ManualClock(START + dt.timedelta(days=2))
    engine.charging.clock = clock  # the local list's "now" (an Accepted token past expiry goes Expired)
    authorizer = engine.charging.authorizer
    assert isinstance(authorizer, AuthorizationOrder)
    authorizer.clock = clock
    await add_token(http, headers, "CARD-1")
    await add_token(http, headers, "CARD-2", status="Blocked")
    await add_token(http, headers, "CARD-3", expires_at=START.isoformat())  # expired by now
    cp = f"LL-{version}"
    async with station_on(engine, http, headers, cp, version) as station:
        version_key = "list_version" if version == "1.6" else "version_number"
        empty = await command(http, headers, cp, {"type": "get_local_list_version"})
        assert (empty["status"], empty["response"][version_key]) == ("Accepted", 0)

        sent = await command(http, headers, cp, {"type": "send_local_list"})
        assert (sent["status"], sent["response"]["version"], sent["response"]["entries"]) == (
            "Accepted",
            1,
            3,
        )
        assert station.local_auth.entries == {"CARD-1": "Accepted", "CARD-2": "Blocked", "CARD-3": "Expired"}
        held = await command(http, headers, cp, {"type": "get_local_list_version"})
        assert held["response"][version_key] == 1

        await add_token(http, headers, "CARD-4")
        again = await command(http, headers, cp, {"type": "send_local_list"})
        assert (again["response"]["version"], again["response"]["entries"]) == (2, 4)
        assert station.local_auth.version == 2
        assert station.local_auth.entries["CARD-4"] == "Accepted"

        cleared = await command(http, headers, cp, {"type": "clear_cache"})
        assert cleared["status"] == "Accepted"
        assert station.local_auth.cache_clears == 1

        # Offline, the station refuses a badge its list blocks, and trusts the others.
        station.go_offline(3600)
        await station.wait_until(lambda: not station.online, LIMIT)
        assert await station.plug_in(1, default_ev(), "CARD-2") is None
        assert await station.plug_in(2, default_ev(), "CARD-1") is not None

    log = (await http.get(f"/operator/chargers/{cp}/commands", headers=headers)).json()
    assert [c["command"] for c in reversed(log["items"])] == [
        "get_local_list_version",
        "send_local_list",
        "get_local_list_version",
        "send_local_list",
        "clear_cache",
    ]
