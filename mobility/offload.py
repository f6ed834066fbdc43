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
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class BusyError(Exception):
    """The executor's threads are busy and its queue is full: try again later."""


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

        A call counts until its thread is done with it, even if the caller stopped waiting.
        """
        with self._lock:
            if self._in_flight >= self.capacity:
                raise BusyError(f"{self.name}: {self._in_flight} calls in flight")
            self._in_flight += 1
        try:
            future = self._pool.submit(function, *args)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _: Future[Any] | None = None) -> None:
        with self._lock:
            self._in_flight -= 1

    def shutdown(self) -> None:
        """Stop taking work; calls not started are dropped."""
        self._pool.shutdown(wait=False, cancel_futures=True)
