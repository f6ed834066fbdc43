"""`mobility serve` as a real process: OCPP server, HTTP API and embedded ledger node from
MOBILITY_ settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from testkit.process import engine_env, mobility, serving
from tests.ocpp.conftest import raw_client
from tests.ocpp.frames import exchange, heartbeat


async def test_mobility_serve_accepts_a_registered_charge_point(tmp_path: Path) -> None:
    env = engine_env(tmp_path, f"sqlite:///{tmp_path / 'serve.db'}", ledger_milestone_interval_seconds="0.2")
    await asyncio.to_thread(mobility, env, "operators", "add", "op-1")
    await asyncio.to_thread(
        mobility, env, "chargers", "add", "CP1", "--operator", "op-1", "--password", "secret1-of-16-chars"
    )
    with serving(env):
        port, api_port = env["MOBILITY_OCPP_PORT"], env["MOBILITY_API_PORT"]
        async with raw_client(
            f"ws://127.0.0.1:{port}/ocpp/CP1", "1.6", password="secret1-of-16-chars"
        ) as websocket:
            assert (await exchange(websocket, heartbeat()))[0] == 3
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
            assert (await http.get("/health")).json() == {"status": "ok"}
            first = (await http.get("/ledger/info")).json()
            async with asyncio.timeout(30):  # the embedded coordinator issues milestones
                # Polling another process over HTTP, bounded by the timeout.
                while (await http.get("/ledger/info")).json() == first:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
    assert (tmp_path / "ledger" / "genesis.json").exists()
