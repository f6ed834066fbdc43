"""Simulated time: one clock per simulation, driven by hand in tests (`ManualClock`), stepped
from event to event (`SteppedClock`, the city's) or accelerated (`AcceleratedClock`).

Every charger, EV and timer reads this clock and waits on it, never on the wall clock, so a
test can move an hour forward in one call and a run can compress a day into minutes without
changing any simulation code. Times are UTC-aware.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

DEFAULT_START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
PACE_RECHECK_S = 0.05  # real seconds: how long a paced `SteppedClock` waits before looking again


class SimClock(Protocol):
    """What simulation code needs from time: the current instant and a way to wait for it."""

    def now(self) -> datetime:
        """The current simulated instant (UTC-aware)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` of simulated time have passed."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once the simulated time is `when` or later.

        An absolute deadline does not depend on when the waiting task first runs, so a
        wait started in a background task cannot miss an `advance` made meanwhile.
        """
        ...


class ManualClock:
    """A clock that moves only when `advance` is called: tests decide when time passes.

    Sleepers are woken in deadline order by `advance`; a sleep of zero or less returns at
    once. Nothing here touches the wall clock.
    """

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        """The current simulated instant."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until `advance` moves the clock `seconds` past now."""
        await self.sleep_until(self._now + timedelta(seconds=max(seconds, 0)))

    async def sleep_until(self, when: datetime) -> None:
        """Wait until `advance` reaches `when` (at once if it already has)."""
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._order), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def next_deadline(self) -> datetime | None:
        """The earliest instant a live sleeper waits for (cancelled waits are dropped)."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    @property
    def sleeping(self) -> int:
        """How many waits are pending (cancelled ones included until their deadline)."""
        return sum(1 for _, _, future in self._sleepers if not future.done())


class SteppedClock(ManualClock):
    """Discrete-event time: once the system is quiet, jump to the next sleeper's deadline.

    Nothing happens between two deadlines, so skipping the gap changes no outcome; and because
    time moves only when `settle` says every consequence of the last step has played out (every
    answer received, every payment made), what happens at an instant does not depend on how fast
    the machine ran. Same inputs, same run. `speed` caps the pace at that many simulated seconds
    per real second (None: as fast as the system settles); a system slower than the cap slows
    the simulation down instead of falling behind it.
    """

    def __init__(
        self,
        settle: Callable[[], Awaitable[None]],
        speed: float | None = None,
        start: datetime = DEFAULT_START,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        super().__init__(start)
        self.speed = speed
        self._settle = settle
        self._new_sleeper = asyncio.Event()

    async def sleep_until(self, when: datetime) -> None:
        """Wait until the clock has stepped to `when`."""
        self._new_sleeper.set()
        await super().sleep_until(when)

    async def run(self) -> None:
        """Step time forever (cancel to stop): settle, then advance to the next deadline."""
        loop = asyncio.get_running_loop()
        origin_real, origin_simulated = loop.time(), self._now
        while True:
            await self._settle()
            deadline = self.next_deadline()
            if deadline is None:
                self._new_sleeper.clear()
                await self._new_sleeper.wait()
                continue
            if self.speed is not None:
                due = origin_real + (deadline - origin_simulated).total_seconds() / self.speed
                ahead = due - loop.time()
                if ahead > 0:  # wait for the pace, but briefly: an earlier sleeper may arrive
                    await asyncio.sleep(min(ahead, PACE_RECHECK_S))
                    continue
                if ahead < -PACE_RECHECK_S:  # the system is slower than the cap: no catch-up burst
                    origin_real, origin_simulated = loop.time(), deadline
            self._wake_first()

    def _wake_first(self) -> None:
        """Move to the earliest deadline and wake only its first sleeper: sleepers due at the
        same instant act one after the other, in the order they went to sleep, each step
        settled before the next, so no two of them race for the engine."""
        when, _, future = heapq.heappop(self._sleepers)
        self._now = max(self._now, when)
        future.set_result(None)


class AcceleratedClock:
    """Simulated time running `speed` times faster than the event loop's monotonic clock.

    `speed` is simulated seconds per real second. Reading the loop's clock (not the wall
    clock) keeps simulated time monotonic even if the system time is adjusted.
    """

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._origin: float | None = None

    def _elapsed_real(self) -> float:
        loop_time = asyncio.get_running_loop().time()
        if self._origin is None:
            self._origin = loop_time
        return loop_time - self._origin

    def now(self) -> datetime:
        """Start plus elapsed real time times the speed-up."""
        return self._start + timedelta(seconds=self._elapsed_real() * self.speed)

    async def sleep(self, seconds: float) -> None:
        """Sleep the real time that corresponds to `seconds` of simulated time."""
        await asyncio.sleep(max(seconds, 0.0) / self.speed)

    async def sleep_until(self, when: datetime) -> None:
        """Sleep until the simulated time reaches `when`."""
        await self.sleep((when - self.now()).total_seconds())


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision and a Z, as OCPP messages carry it.

    Milliseconds keep a timestamp identical after a round trip through any database, which
    matters because a central system may recognise a replayed start by its timestamp.
    """
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime (naive input is taken as UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
