"""The payer streams take hostile input without going down (issue 14, point 6): nested brackets
(200 KB in the probe; 5 KB, under any message size limit, is as deep as it needs) raised
RecursionError in the JSON parser and closed the socket with 1011."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from mobility.engine import Engine
from tests.api.driver_world import driver_api

DEEP = "[" * 5_000  # far past the parser's recursion limit, well under a message size limit


async def test_deep_json_on_the_driver_stream_is_an_error_message(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    api = await driver_api(http, 0x61)
    url = f"ws://127.0.0.1:{engine.api_port}/driver/stream"
    async with connect(f"{url}?token={api.token}", max_size=None) as socket:
        assert json.loads(await socket.recv())["type"] == "ready"
        await socket.send(DEEP)
        assert json.loads(await socket.recv())["type"] == "error"
        await socket.send(json.dumps({"type": "dance"}))  # still up, still answering
        assert json.loads(await socket.recv())["type"] == "error"


async def test_deep_json_as_the_auth_message_closes_with_4401(engine: Engine) -> None:
    url = f"ws://127.0.0.1:{engine.api_port}/driver/stream"
    async with connect(url, max_size=None) as socket:
        await socket.send(DEEP)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
