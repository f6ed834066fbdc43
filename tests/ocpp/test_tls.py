"""Security profile 2: TLS plus Basic auth, certificates configured by path."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ocpp_server.server import ServerConfig, tls_context
from tests.ocpp.conftest import basic_auth, start_harness
from tests.ocpp.frames import exchange, heartbeat

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _self_signed(directory: Path) -> tuple[str, str]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return str(cert), str(key)


async def test_profile_2_tls_and_basic_auth(tmp_path: Path, sqlite_url: str) -> None:
    cert, key = _self_signed(tmp_path)
    running = await start_harness(sqlite_url, ServerConfig(port=0, ssl_context=tls_context(cert, key)))
    running.store.register_charge_point("CP1", "secret1")
    client_tls = ssl.create_default_context(cafile=cert)
    url = f"wss://127.0.0.1:{running.central.port}/ocpp/CP1"
    try:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, ssl=client_tls, subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
                pass
        assert refused.value.response.status_code == 401
        async with connect(
            url,
            ssl=client_tls,
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth("CP1", "secret1"),
        ) as websocket:
            assert (await exchange(websocket, heartbeat()))[0] == 3
    finally:
        await running.central.stop()
        running.engine.dispose()
