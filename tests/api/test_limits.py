"""Request bodies and stream messages are bounded per route, and refused before they are read
(issue 14, point 1): a 100 MB body used to be read whole before any answer."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from mobility.api.limits import JSON_BODY_MAX, STREAM_MESSAGE_MAX, TARIFF_BODY_MAX
from mobility.engine import Engine
from mobility.wire.codec import MAX_BLOCK_LENGTH
from tests.api.conftest import driver, operator
from tests.api.test_operator_tariffs import energy_tariff

PROBLEM = "application/problem+json"
# Liveness bound on reading the answer: without the limit the engine waits for the body we
# never send, and the test fails here instead of hanging.
ANSWER_WITHIN = 30.0


async def _answer(engine: Engine, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send `head` (and `body`) on a raw connection and read the answer, without sending more."""
    reader, writer = await asyncio.open_connection("127.0.0.1", engine.api_port)
    try:
        writer.write(head + body)
        await writer.drain()
        async with asyncio.timeout(ANSWER_WITHIN):
            status_line = await reader.readline()
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            payload = await reader.readexactly(int(headers.get("content-length", "0")))
    finally:
        writer.close()
    return int(status_line.split()[1]), headers, payload


def _head(path: str, content_type: str, **fields: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _is_413_problem(status: int, headers: dict[str, str], payload: bytes, limit: int) -> None:
    assert status == 413
    assert headers["content-type"] == PROBLEM
    problem = json.loads(payload)
    assert problem["type"] == "urn:mobility:problem:body-too-large"
    assert problem["max_bytes"] == limit


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/driver/signup", "application/json", JSON_BODY_MAX),
        ("/operator/tariffs", "application/json", TARIFF_BODY_MAX),
        ("/ledger/blocks", "application/octet-stream", MAX_BLOCK_LENGTH),
        ("/ledger/blocks/pow", "application/octet-stream", MAX_BLOCK_LENGTH),
        ("/ledger/blocks", "application/json", 2 * MAX_BLOCK_LENGTH + 64),
    ],
)
async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    engine: Engine, path: str, content_type: str, limit: int
) -> None:
    head = _head(path, content_type, content_length=str(100_000_000))
    _is_413_problem(*await _answer(engine, head), limit)
    # And one byte over the route's limit, body sent: the same.
    head = _head(path, content_type, content_length=str(limit + 1))
    _is_413_problem(*await _answer(engine, head, b"0" * (limit + 1)), limit)


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(engine: Engine) -> None:
    chunk = b"x" * 4096
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(JSON_BODY_MAX // 4096 + 1))
    head = _head("/driver/signup", "application/json", transfer_encoding="chunked")
    # The terminating chunk never comes: the answer must not wait for it.
    _is_413_problem(*await _answer(engine, head, chunks), JSON_BODY_MAX)


async def test_bodies_within_the_limits_still_work(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await operator(engine, "op-limits")
    big = energy_tariff("big", 300_000)
    # About 26 KB: over the default, within the tariffs', and within the tariff bounds (at most
    # 100 elements of 8 components: mobility/limits.py).
    components = [
        {"type": kind, "price": 300_000, "vat_bp": 1900, "step_size": 60} for kind in ("TIME", "PARKING_TIME")
    ]
    big["elements"] = [{"price_components": [*big["elements"][0]["price_components"], *components]}] * 100
    body = json.dumps(big).encode()
    assert JSON_BODY_MAX < len(body) < TARIFF_BODY_MAX
    created = await http.post(
        "/operator/tariffs", content=body, headers={**headers, "content-type": "application/json"}
    )
    assert created.status_code == 201, created.text


async def _close_code(stream: ClientConnection) -> int | None:
    """How the engine closed the stream (messages before that are skipped)."""
    try:
        async with asyncio.timeout(ANSWER_WITHIN):
            while True:
                await stream.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


async def test_stream_messages_over_the_limit_close_the_stream(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    _, _, headers = await driver(http, 0x61)
    token = headers["Authorization"].removeprefix("Bearer ")
    url = f"ws://127.0.0.1:{engine.api_port}/driver/stream?token={token}"
    async with connect(url) as stream:
        assert json.loads(await stream.recv())["type"] == "ready"
        await stream.send(json.dumps({"type": "voucher", "id": 1, "pad": "x" * STREAM_MESSAGE_MAX}))
        assert await _close_code(stream) == 1009  # message too big
    fleet_url = f"ws://127.0.0.1:{engine.api_port}/fleet/stream"
    async with connect(fleet_url) as stream:  # the auth message is a message like any other
        await stream.send(json.dumps({"type": "auth", "token": "x" * (STREAM_MESSAGE_MAX + 1)}))
        assert await _close_code(stream) == 1009
    assert (await http.get("/health")).status_code == 200
