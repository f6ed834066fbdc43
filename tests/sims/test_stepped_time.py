"""Discrete-event time for the in-process city: `SteppedClock` moves only once `quiet` says the
loop has nothing left to do, and `quiet` sees work in worker threads and on loopback sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from sims.chargers.clock import DEFAULT_START, SteppedClock
from sims.city.quiet import SimulationLoop, quiet


def on_simulation_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=SimulationLoop) as runner:
        runner.run(test())


def test_time_jumps_to_each_deadline_and_same_instant_sleepers_act_one_by_one() -> None:
    async def scenario() -> None:
        settles: list[list[str]] = []
        log: list[str] = []

        async def settle() -> None:
            settles.append(list(log))
            await asyncio.sleep(0)

        clock = SteppedClock(settle)

        async def actor(name: str, seconds: float) -> None:
            await clock.sleep(seconds)
            log.append(f"{name}@{(clock.now() - DEFAULT_START).total_seconds():g}")

        actors = [asyncio.create_task(actor(n, s)) for n, s in (("a", 60), ("b", 30), ("c", 60))]
        cancelled = asyncio.create_task(actor("never", 10))
        await asyncio.sleep(0)
        cancelled.cancel()
        ticking = asyncio.create_task(clock.run())
        await asyncio.gather(*actors)
        ticking.cancel()
        assert log == ["b@30", "a@60", "c@60"]  # the cancelled sleeper is skipped, not woken
        # The clock settled before each wake-up, so a and c at the same instant did not overlap.
        assert ["b@30", "a@60"] in settles
        assert clock.now() == DEFAULT_START + timedelta(seconds=60)

    on_simulation_loop(scenario)


def test_quiet_waits_for_a_thread_and_for_an_answer_over_loopback() -> None:
    app = FastAPI()
    release = threading.Event()

    @app.get("/sync")
    def sync_route() -> dict[str, int]:  # FastAPI runs it in anyio's thread pool
        release.wait(5)
        return {"answer": 1}

    @app.get("/async")
    async def async_route() -> dict[str, int]:
        return {"answer": await asyncio.to_thread(lambda: 2)}

    async def scenario() -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the engine does
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        serving = asyncio.create_task(server.serve(sockets=[listener]))  # listening already: no wait
        port = listener.getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(50):
                request = asyncio.create_task(http.get("/async"))
                await quiet()
                assert request.done()
                assert request.result().json() == {"answer": 2}
            blocked = asyncio.create_task(http.get("/sync"))
            waiting = asyncio.create_task(quiet())
            await asyncio.sleep(0.05)
            assert not waiting.done()
            assert not blocked.done()
            release.set()
            await waiting
            assert blocked.done()
            assert blocked.result().json() == {"answer": 1}
        server.should_exit = True
        await serving

    on_simulation_loop(scenario)


def test_quiet_refuses_a_plain_loop() -> None:
    with pytest.raises(TypeError, match="SimulationLoop"):
        asyncio.run(quiet())
