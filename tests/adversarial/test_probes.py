"""Probes of issue 14, points 1, 2, 3, 8, 13 and 14, against `mobility serve` as a process.

Every probe sends a bounded number of requests to 127.0.0.x and asserts what it observed
against what the engine promises (README, "Security"). No probe measures time: stall-freedom
is that a legitimate request completes while a flood is refused before any hashing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

import pow_rs
from mobility.wire.domains import LOGIN_DOMAIN
from tests.adversarial.conftest import CHARGER_PASSWORD, Served
from tests.adversarial.probe_support import ProbeLog
from tests.api.conftest import signup_body
from tests.ocpp.conftest import basic_auth
from tests.ocpp.frames import exchange, heartbeat

BOUND = 30.0  # liveness bound on any one answer: a probe fails rather than hangs
PROBLEM = "application/problem+json"


def client(served: Served, address: str = "127.0.0.1", **headers: str) -> httpx.AsyncClient:
    """An HTTP client calling from `address` (another device, to the engine's limits)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=served.api, transport=transport, headers=headers, timeout=BOUND)


async def raw_answer(served: Served, head: str, body: bytes = b"") -> tuple[int, str]:
    """Status and content type of the answer to `head` (+ `body`), the rest never sent."""
    port = int(served.api.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(BOUND):
            status = int((await reader.readline()).split()[1])
            content_type = ""
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-type":
                    content_type = value.strip()
    finally:
        writer.close()
    return status, content_type


async def handshake(served: Served, charge_point_id: str, password: str, source: str) -> int:
    """The HTTP status of an OCPP handshake (101: upgraded, then closed)."""
    try:
        async with connect(
            f"{served.ocpp}/{charge_point_id}",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth(charge_point_id, password),
            local_addr=(source, 0),
            open_timeout=BOUND,
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def close_code(stream: ClientConnection) -> int | None:
    try:
        async with asyncio.timeout(BOUND):
            while True:
                await stream.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


async def driver_token(http: httpx.AsyncClient, key: pow_rs.SigningKey) -> str:
    (await http.post("/driver/signup", json=signup_body(key))).raise_for_status()
    return await log_in(http, key)


async def log_in(http: httpx.AsyncClient, key: pow_rs.SigningKey) -> str:
    body = {"public_key": key.public_key.hex()}
    challenge = (await http.post("/driver/login/challenge", json=body)).json()["challenge"]
    signature = key.sign(LOGIN_DOMAIN + bytes.fromhex(challenge)).hex()
    answer = await http.post("/driver/login", json={**body, "challenge": challenge, "signature": signature})
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


# Point 1: bodies and stream messages ------------------------------------------------------------


async def test_oversized_bodies_are_refused_before_they_are_read(served: Served, probe: ProbeLog) -> None:
    for path, content_type in [
        ("/driver/signup", "application/json"),
        ("/ledger/blocks", "application/octet-stream"),
        ("/ledger/blocks", "application/json"),
        ("/operator/tariffs", "application/json"),
    ]:
        head = f"POST {path} HTTP/1.1\nHost: x\nContent-Type: {content_type}\nContent-Length: 100000000\n"
        observed = await raw_answer(served, head)  # not one byte of the 100 MB is sent
        probe.check(
            f"100 MB declared to {path} ({content_type})", (413, "application/problem+json"), observed
        )
    chunk = b"x" * 4096
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6))
    head = (
        "POST /driver/signup HTTP/1.1\nHost: x\nContent-Type: application/json\nTransfer-Encoding: chunked\n"
    )
    observed = await raw_answer(served, head, chunks)  # 24 KB and no end chunk
    probe.check("chunked body past the limit", (413, PROBLEM), observed)


async def test_oversized_stream_messages_close_the_stream(served: Served, probe: ProbeLog) -> None:
    async with client(served, "127.0.0.20") as http:
        token = await driver_token(http, pow_rs.SigningKey(bytes([0xA1]) * 32))
        async with connect(f"{served.api.replace('http', 'ws')}/driver/stream?token={token}") as stream:
            await stream.recv()  # ready
            await stream.send(json.dumps({"type": "voucher", "pad": "x" * 100_000}))
            probe.check("100 KB message on /driver/stream: close code", 1009, await close_code(stream))
        async with connect(f"{served.api.replace('http', 'ws')}/fleet/stream") as stream:
            await stream.send(json.dumps({"type": "auth", "token": "x" * 100_000}))
            probe.check("100 KB auth message on /fleet/stream: close code", 1009, await close_code(stream))
        probe.check("engine still answers", 200, (await http.get("/health")).status_code)


# Point 2: Basic-auth flood ------------------------------------------------------------------------


async def test_a_basic_auth_flood_is_refused_before_hashing_and_stalls_nothing(
    served: Served, probe: ProbeLog
) -> None:
    operator = {"Authorization": f"Bearer {served.operator_a}"}
    async with (
        connect(
            f"{served.ocpp}/CP-A1",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth("CP-A1", CHARGER_PASSWORD),
        ) as charger,
        client(served, **operator) as http,
    ):
        flood: list[asyncio.Task[int]] = []
        for wave in range(3):  # 60 wrong passwords, 20 at a time, from one address
            flood += [
                asyncio.create_task(handshake(served, "CP-A1", f"wrong-{wave}-{n}", "127.0.0.30"))
                for n in range(20)
            ]
        listed = await http.get("/operator/chargers")  # while the flood is under way
        answered = await exchange(charger, heartbeat())
        statuses = await asyncio.gather(*flood)
    probe.check("operator request during the flood", 200, listed.status_code)
    probe.check("connected charger's heartbeat during the flood", 3, answered[0])
    probe.check("flood answers", [401, 429], sorted(set(statuses)))
    probe.check("flood attempts that reached hashing (401), at most 10", True, statuses.count(401) <= 10)
    probe.check(
        "the charge point reconnects from its own address",
        101,
        await handshake(served, "CP-A1", CHARGER_PASSWORD, "127.0.0.1"),
    )
    spread = [await handshake(served, "CP-A1", "guess", f"127.0.3.{host}") for host in range(1, 25)]
    probe.check("one guess each from 24 addresses: throttled per charge point", 429, spread[-1])
    probe.check(
        "... the charge point's own address still gets in",
        101,
        await handshake(served, "CP-A1", CHARGER_PASSWORD, "127.0.0.1"),
    )


# Point 3: login lockout -------------------------------------------------------------------------


async def test_junk_logins_do_not_lock_a_driver_out(served: Served, probe: ProbeLog) -> None:
    victim = pow_rs.SigningKey(bytes([0xA3]) * 32)
    async with client(served, "127.0.0.40") as http:
        (await http.post("/driver/signup", json=signup_body(victim))).raise_for_status()
    refused = []
    for host in range(41, 53):
        async with client(served, f"127.0.0.{host}") as attacker:
            junk = {"public_key": victim.public_key.hex(), "challenge": "ab" * 32, "signature": "00" * 64}
            refused.append((await attacker.post("/driver/login", json=junk)).status_code)
    probe.check("junk-challenge logins naming the victim", [401] * 12, refused)
    async with client(served, "127.0.0.60") as phone:
        body = {"public_key": victim.public_key.hex()}
        challenge = (await phone.post("/driver/login/challenge", json=body)).json()["challenge"]
        signature = victim.sign(LOGIN_DOMAIN + bytes.fromhex(challenge)).hex()
        login = await phone.post(
            "/driver/login", json={**body, "challenge": challenge, "signature": signature}
        )
    probe.check("the victim's own login", 200, login.status_code)


# Point 8: remote PoW ------------------------------------------------------------------------------


async def test_remote_pow_is_bounded(served: Served, probe: ProbeLog) -> None:
    octets = {"content-type": "application/octet-stream"}
    async with client(served, "127.0.0.70") as http:
        large = await http.post("/ledger/blocks/pow", content=bytes(5000), headers=octets)
        probe.check("a 5 KB block to mine", 413, large.status_code)
        statuses = [
            (await http.post("/ledger/blocks/pow", content=b"junk", headers=octets)).status_code
            for _ in range(10)
        ]
    probe.check("requests from one address within a minute", [400] * 9 + [429], statuses)


# Point 13: metrics --------------------------------------------------------------------------------


async def test_an_operator_reads_its_own_metrics_only(served: Served, probe: ProbeLog) -> None:
    async with connect(
        f"{served.ocpp}/CP-A1",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers=basic_auth("CP-A1", CHARGER_PASSWORD),
    ):
        scrapes: dict[str, Any] = {}
        async with client(served, "127.0.0.80") as http:
            for who, key in [
                ("admin", served.admin),
                ("op-a", served.operator_a),
                ("op-b", served.operator_b),
            ]:
                scrapes[who] = (await http.get("/metrics", headers={"Authorization": f"Bearer {key}"})).text
    for who, connections in [("admin", 1), ("op-a", 1), ("op-b", 0)]:
        line = next(
            line for line in scrapes[who].splitlines() if line.startswith("mobility_ocpp_connections ")
        )
        probe.check(f"{who}: charge points connected", connections, int(float(line.split()[-1])))
    probe.check("op-b sees no engine-wide voucher counts", False, "mobility_vouchers" in scrapes["op-b"])
    probe.check("the admin does", True, "mobility_vouchers" in scrapes["admin"])


# Point 14: the CLI ------------------------------------------------------------------------------


async def test_the_cli_makes_nothing_the_api_forbids(served: Served, probe: ProbeLog) -> None:
    attempts = {
        "overwrite op-a's CP-A1 for op-b": ("CP-A1", "--operator", "op-b", "--password", "x" * 20),
        "an ID with a space": ("CP X", "--operator", "op-a", "--password", "x" * 20),
        "a 6-character password": ("CP-X", "--operator", "op-a", "--password", "s3cret"),
        "no operator": ("CP-Y", "--password", "x" * 20),
    }
    for what, args in attempts.items():
        done = await asyncio.to_thread(served.cli, "chargers", "add", *args)
        probe.check(f"`mobility chargers add` {what}: refused", True, done.returncode != 0)
    probe.check(
        "CP-A1 keeps its password", 101, await handshake(served, "CP-A1", CHARGER_PASSWORD, "127.0.0.1")
    )
    async with client(served, "127.0.0.90", Authorization=f"Bearer {served.operator_a}") as http:
        probe.check("op-a still owns CP-A1", 200, (await http.get("/operator/chargers/CP-A1")).status_code)
