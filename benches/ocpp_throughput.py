"""Benchmark: N simulated OCPP 1.6 charge points sending MeterValues over loopback websockets.

Measures messages per second, p50/p99 round trip, and server memory per connection, for the
real central system (schema validation on, frames logged, readings stored) and, in the same
run, for a bare `websockets` server that answers every frame with a fixed CALLRESULT — the
limit of this stack on this machine. Each server runs in its own process so its memory can
be read from /proc.

    .venv/bin/python -m benches.ocpp_throughput --clients 100 1000 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

NOW = "2026-01-01T12:00:00Z"
HANDSHAKES_AT_ONCE = 100


@dataclass
class Result:
    """One server's figures at one N."""

    kind: str
    clients: int
    messages: int
    seconds: float
    latencies: list[float]
    rss_per_connection: int
    cpu_per_message: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def line(self) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        return (
            f"{self.kind:>6} N={self.clients:<5} {self.rate:9.0f} msg/s  p50 {p50:7.2f} ms  "
            f"p99 {p99:7.2f} ms  {self.rss_per_connection / 1024:6.1f} KiB/connection  "
            f"server CPU {self.cpu_per_message * 1e6:6.0f} us/msg"
        )


# Servers (run in a child process) -------------------------------------------------------


async def _bare_server(port: int) -> None:
    async def handler(websocket: ServerConnection) -> None:
        async for frame in websocket:
            message_id = json.loads(frame)[1]
            await websocket.send(json.dumps([3, message_id, {}]))

    async with serve(handler, "127.0.0.1", port, subprotocols=[Subprotocol("ocpp1.6")]):
        await asyncio.Future()


async def _engine_server(port: int, database_url: str) -> None:
    from mobility.charging.authorization import AllowListAuthorizer
    from mobility.charging.service import ChargingService
    from mobility.charging.store import ChargingStore
    from mobility.db import create_db_engine
    from mobility.migrate import upgrade
    from mobility.runtime import share_the_gil_quickly
    from ocpp_server.server import CentralSystem, ServerConfig

    upgrade(database_url)
    engine = create_db_engine(database_url)
    service = ChargingService(ChargingStore(engine), AllowListAuthorizer(accept_all=True))
    central = CentralSystem(service, ServerConfig(port=port, accept_unknown_chargers=True))
    share_the_gil_quickly()  # as `mobility serve` does
    await central.serve_forever()


def _serve(kind: str, port: int, database_url: str) -> None:
    if kind == "bare":
        asyncio.run(_bare_server(port))
    else:
        asyncio.run(_engine_server(port, database_url))


# Clients --------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _meter_values(sequence: int, transaction_id: int, register_wh: int) -> list[object]:
    sample = {"value": str(register_wh), "unit": "Wh"}
    payload = {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": NOW, "sampledValue": [sample]}],
    }
    return [2, f"m{sequence}", "MeterValues", payload]


async def _exchange(websocket: ClientConnection, frame: list[object]) -> list[object]:
    await websocket.send(json.dumps(frame))
    answer: list[object] = json.loads(await websocket.recv())
    return answer


async def _charge_point(
    index: int, port: int, ready: asyncio.Barrier, go: asyncio.Event, stop: asyncio.Event, period: float,
    latencies: list[float], counts: list[int], connecting: asyncio.Semaphore,
) -> None:  # fmt: skip
    url = f"ws://127.0.0.1:{port}/ocpp/BENCH{index:05d}"
    try:
        async with connecting:  # a bounded number of handshakes at once: the listen backlog is finite
            websocket = await connect(url, subprotocols=[Subprotocol("ocpp1.6")], open_timeout=120)
            start = [
                "StartTransaction",
                {"connectorId": 1, "idTag": "BENCH", "meterStart": 0, "timestamp": NOW},
            ]
            answer = await _exchange(websocket, [2, "s", *start])
    except Exception:
        await ready.abort()  # one charge point that cannot connect fails the run instead of hanging it
        raise
    async with websocket:
        payload = answer[2] if isinstance(answer[2], dict) else {}
        transaction_id = int(payload.get("transactionId", 1))
        await ready.wait()
        await go.wait()
        sequence, register = 0, 0
        while not stop.is_set():
            sequence += 1
            register += 10
            frame = _meter_values(sequence, transaction_id, register)
            sent = time.perf_counter()
            await _exchange(websocket, frame)
            latencies.append(time.perf_counter() - sent)
            counts[0] += 1
            if period:
                await asyncio.sleep(max(0.0, period - (time.perf_counter() - sent)))


async def _settled(tasks: list[asyncio.Task[None]]) -> list[asyncio.Task[None]]:
    await asyncio.gather(*tasks, return_exceptions=True)
    return tasks


async def _measure(kind: str, clients: int, seconds: float, period: float, database_url: str) -> Result:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    arguments = ["-m", "benches.ocpp_throughput", "--serve", kind, "--port", str(port), "--db", database_url]
    child = await asyncio.create_subprocess_exec(sys.executable, *arguments)
    try:
        for _ in range(600):  # the child needs a moment to import and bind
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            await asyncio.sleep(0.05)
        idle_rss = _rss(child.pid)
        ready, go, stop = asyncio.Barrier(clients + 1), asyncio.Event(), asyncio.Event()
        latencies: list[float] = []
        counts = [0]
        connecting = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
        tasks = [
            asyncio.create_task(
                _charge_point(i, port, ready, go, stop, period, latencies, counts, connecting)
            )
            for i in range(clients)
        ]
        try:
            await ready.wait()
        except asyncio.BrokenBarrierError:
            failures = [t.exception() for t in await _settled(tasks) if t.exception() is not None]
            raise RuntimeError(f"{len(failures)} charge points could not connect: {failures[0]!r}") from None
        connected_rss = _rss(child.pid)
        go.set()
        await asyncio.sleep(seconds / 5)  # warm-up, not counted
        latencies.clear()
        counts[0] = 0
        started, cpu_before = time.perf_counter(), _cpu_seconds(child.pid)
        await asyncio.sleep(seconds)
        elapsed, cpu = time.perf_counter() - started, _cpu_seconds(child.pid) - cpu_before
        messages = counts[0]
        measured = list(latencies)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        per_connection = max(0, connected_rss - idle_rss) // clients
        return Result(kind, clients, messages, elapsed, measured, per_connection, cpu / max(messages, 1))
    finally:
        child.terminate()
        await asyncio.wait_for(child.wait(), 30)


async def _main(clients: list[int], seconds: float, period: float) -> None:
    print(f"OCPP 1.6 MeterValues, loopback, {os.cpu_count()} CPUs, period {period or 'closed loop'}")
    for n in clients:
        with tempfile.TemporaryDirectory() as directory:
            engine = await _measure("engine", n, seconds, period, f"sqlite:///{directory}/bench.db")
        bare = await _measure("bare", n, seconds, period, "")
        print(engine.line())
        print(bare.line())
        print(f"       ratio engine/bare: {engine.rate / bare.rate:.2f}")


def main() -> None:
    """Run the benchmark, or (with --serve) be one of its servers."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--period", type=float, default=0.0, help="seconds between a client's messages; 0: closed loop"
    )
    parser.add_argument("--serve", choices=["engine", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.port, args.db)
    else:
        asyncio.run(_main(args.clients, args.seconds, args.period))


if __name__ == "__main__":
    main()
