"""An event loop that can tell when the in-process city and engine have nothing left to do.

The city's `SteppedClock` moves simulated time only when every consequence of the last step has
played out. With the engine in the same process that is knowable: all of it (websockets, HTTP,
the ledger's and the payments' coroutines) runs on this loop, and what leaves the loop goes to
worker threads, which are counted. Loopback sockets deliver a write to the peer's buffer at
once, so a message in flight shows up in the next `select`: a loop that finds no callback ready
for a few iterations in a row, with no thread busy, is quiet. (That needs TCP_NODELAY on every
socket: with Nagle on, a second small write waits in the sender's kernel for the peer's delayed
ACK, out of the loop's sight; the engine's API listener sets it, see `Engine.start`.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread

T = TypeVar("T")
QUIET_ROUNDS = 3  # loop iterations in a row with nothing ready (each polls the sockets once)
THREAD_POLL_S = 0.0005  # how often to look again while a worker thread is busy


class SimulationLoop(asyncio.SelectorEventLoop):
    """A selector loop that counts executor jobs until their result is back on the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.executor_jobs = 0

    def run_in_executor(  # type: ignore[override]
        self, executor: concurrent.futures.Executor | None, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        """Count the job until its future is done here (its waiter is scheduled by then)."""
        future = super().run_in_executor(executor, func, *args)
        self.executor_jobs += 1
        future.add_done_callback(self._job_done)
        return future

    def _job_done(self, _: asyncio.Future[Any]) -> None:
        self.executor_jobs -= 1

    def nothing_ready(self) -> bool:
        """No callback waits to run (asyncio keeps them in `_ready`; nothing public says so)."""
        return not self._ready  # type: ignore[attr-defined]


async def quiet() -> None:
    """Return once the running `SimulationLoop` is quiet: nothing ready for `QUIET_ROUNDS`
    iterations in a row, no executor job and no anyio worker (FastAPI's sync code) busy."""
    loop = asyncio.get_running_loop()
    if not isinstance(loop, SimulationLoop):
        raise TypeError("quiet() needs a SimulationLoop: run the city with sims.city.run.simulate")
    limiter = anyio.to_thread.current_default_thread_limiter()
    rounds = 0
    while rounds < QUIET_ROUNDS:
        if loop.executor_jobs or limiter.borrowed_tokens:
            rounds = 0
            await asyncio.sleep(THREAD_POLL_S)
            continue
        await asyncio.sleep(0)
        rounds = rounds + 1 if loop.nothing_ready() else 0
