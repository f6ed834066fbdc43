"""`mobility serve` as a real process: OCPP server, HTTP API and embedded ledger node from
MOBILITY_ settings."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx

from tests.ocpp.conftest import raw_client
from tests.ocpp.frames import exchange, heartbeat


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_mobility_serve_accepts_a_registered_charge_point(tmp_path: Path) -> None:
    port, api_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "MOBILITY_DATA_DIR": str(tmp_path),
        "MOBILITY_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "MOBILITY_OCPP_PORT": str(port),
        "MOBILITY_API_PORT": str(api_port),
        "MOBILITY_LEDGER_MILESTONE_INTERVAL_SECONDS": "0.2",
    }
    add = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mobility.cli", "chargers", "add", "CP1", "--password", "secret1", env=env
    )
    assert await asyncio.wait_for(add.wait(), 60) == 0
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mobility.cli", "serve", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert server.stderr is not None
        async with asyncio.timeout(60):  # until the server says it listens
            said: list[bytes] = []
            while b"engine listening on" not in (line := await server.stderr.readline()):
                assert line, b"mobility serve exited before listening:\n" + b"".join(said[-20:])
                said.append(line)
        async with raw_client(f"ws://127.0.0.1:{port}/ocpp/CP1", "1.6") as websocket:
            assert (await exchange(websocket, heartbeat()))[0] == 3
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
            assert (await http.get("/health")).json() == {"status": "ok"}
            first = (await http.get("/ledger/info")).json()
            async with asyncio.timeout(30):  # the embedded coordinator issues milestones
                # Polling another process over HTTP, bounded by the timeout.
                while (await http.get("/ledger/info")).json() == first:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        assert (tmp_path / "ledger" / "genesis.json").exists()
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
