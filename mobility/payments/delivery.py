"""Enforcement commands on their way to chargers: in order per charge point, tried until done.

Each charge point has its own mailbox (`mailbox.Mailbox`), so a charger that does not answer (a command
waits up to the response timeout) holds up only its own commands. A command the charger
refuses, or that cannot reach it (offline, timed out, refused as too early), is tried again
after a pause for as long as the payment layer still wants it: a stop must not be dropped
because it came before the charger knew its transaction, or while the charger was away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

from mobility.payments.mailbox import Mailbox, all_idle

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
    """A mailbox of deliveries per charge point: each drained in order by its own task."""

    def __init__(self, retry_delays: Sequence[float] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)) -> None:
        self._retry_delays = tuple(retry_delays)
        self._mailboxes: dict[str, Mailbox] = {}

    def put(self, delivery: Delivery) -> None:
        """Queue a command behind those already decided for the same charge point."""
        mailbox = self._mailboxes.get(delivery.charge_point_id)
        if mailbox is None:
            mailbox = self._mailboxes[delivery.charge_point_id] = Mailbox(
                f"commands to {delivery.charge_point_id}"
            )
        mailbox.post(partial(self._deliver, delivery))

    async def idle(self) -> None:
        """Wait until every queued command was carried out, given up on, or no longer wanted."""
        await all_idle(self._mailboxes.values)

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
