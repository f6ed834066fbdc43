"""Blocking CPU work (password hashing, remote PoW) on threads of its own, bounded.

`asyncio.to_thread` shares the loop's default executor (min(32, CPUs + 4) threads: 6 on two
cores) with every database call; 100 scrypt hashes queued there made every query wait behind
them. A `BoundedExecutor` has its own threads and a bound on what may wait for them: past it,
`run` refuses at once (`BusyError`) rather than queueing without end.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class BusyError(Exception):
    """The executor's threads are busy and its queue is full: try again later."""


class _Job:
    """Where one call is: queued, running (it releases its place when done) or dropped."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = "queued"


class BoundedExecutor:
    """`workers` threads named `name`, and at most `queue` calls waiting for one."""

    def __init__(self, name: str, workers: int, queue: int) -> None:
        self.name = name
        self.capacity = workers + queue
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Calls running or waiting now."""
        return self._in_flight

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` on one of the threads; `BusyError` if `capacity` calls are in flight.

        Through the loop's `run_in_executor` (the demo's quiet loop counts those jobs). A call
        counts until its thread is done with it, even if the caller stopped waiting; one dropped
        before it started counts no more.
        """
        with self._lock:
            if self._in_flight >= self.capacity:
                raise BusyError(f"{self.name}: {self._in_flight} calls in flight")
            self._in_flight += 1
        job = _Job()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self._call, job, function, args)
        except BaseException:
            with self._lock:
                if job.state == "queued":  # never started: it will not release itself
                    job.state = "dropped"
                    self._in_flight -= 1
            raise

    def _call(self, job: _Job, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self._lock:
            if job.state == "dropped":  # nobody waits for the result
                raise BusyError(f"{self.name}: dropped before it started")
            job.state = "running"
        try:
            return function(*args)
        finally:
            with self._lock:
                self._in_flight -= 1

    def shutdown(self) -> None:
        """Stop taking work; calls not started are dropped."""
        self._pool.shutdown(wait=False, cancel_futures=True)
