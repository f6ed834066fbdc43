"""Enforcement commands on their way to chargers: in order per charge point, tried until done.

Each charge point has its own queue and sender, so a charger that does not answer (a command
waits up to the response timeout) holds up only its own commands. A command the charger
refuses, or that cannot reach it (offline, timed out, refused as too early), is tried again
after a pause for as long as the payment layer still wants it: a stop must not be dropped
because it came before the charger knew its transaction, or while the charger was away.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One command for one charge point. `send` is True once the charger carried it out;
    `wanted` says whether it is still what the payment layer wants (if not, it is skipped)."""

    charge_point_id: str
    what: str
    send: Callable[[], Awaitable[bool]]
    wanted: Callable[[], bool]


class ChargerOutbox:
    """Per-charge-point FIFO queues of deliveries, each drained by its own task."""

    def __init__(self, retry_delays: Sequence[float] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)) -> None:
        self._retry_delays = tuple(retry_delays)
        self._queues: dict[str, deque[Delivery]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def put(self, delivery: Delivery) -> None:
        """Queue a command behind those already decided for the same charge point."""
        self._queues.setdefault(delivery.charge_point_id, deque()).append(delivery)
        self._idle.clear()
        if delivery.charge_point_id not in self._senders:
            task = asyncio.create_task(self._drain(delivery.charge_point_id))
            self._senders[delivery.charge_point_id] = task

    async def idle(self) -> None:
        """Wait until every queued command was carried out, given up on, or no longer wanted."""
        await self._idle.wait()

    async def _drain(self, charge_point_id: str) -> None:
        queue = self._queues[charge_point_id]
        try:
            while queue:
                await self._deliver(queue[0])
                queue.popleft()
        finally:
            del self._queues[charge_point_id]
            del self._senders[charge_point_id]
            if not self._senders:
                self._idle.set()

    async def _deliver(self, delivery: Delivery) -> None:
        for attempt, pause in enumerate((*self._retry_delays, None)):
            if not delivery.wanted():
                return
            try:
                if await delivery.send():
                    return
                problem = "refused"
            except Exception as error:  # offline, timed out, a CALLERROR: all worth a retry
                problem = f"{type(error).__name__}: {error}"
            if pause is None:
                LOGGER.error(
                    "%s to %s given up after %d tries (%s)",
                    delivery.what,
                    delivery.charge_point_id,
                    attempt + 1,
                    problem,
                )
                return
            LOGGER.warning(
                "%s to %s: %s; again in %s s", delivery.what, delivery.charge_point_id, problem, pause
            )
            await asyncio.sleep(pause)
