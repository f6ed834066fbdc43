"""Transaction messages waiting to reach the central system, in order, across outages.

OCPP wants every transaction message delivered, in order, even when the connection was down
when it was produced (1.6 queues StartTransaction/MeterValues/StopTransaction; 2.x queues
TransactionEvent and marks those produced offline with offline=true). A message leaves the
queue only once answered, so one that was sent but whose answer was lost in a dropped
connection is sent again after reconnecting, with the same message ID: the central system
recognises it and answers it again instead of applying it twice.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sims.chargers.connector import StopReason, Transaction


class TxEvent(StrEnum):
    """Which point of a transaction a message reports."""

    STARTED = "Started"
    UPDATED = "Updated"
    ENDED = "Ended"


@dataclass
class TxMessage:
    """One transaction message, frozen at the moment it happened; built into a payload late.

    Building late matters for 1.6: a MeterValues queued while offline only learns its
    transaction ID when the queued StartTransaction before it has been answered.
    """

    event: TxEvent
    transaction: Transaction
    at: datetime
    register_wh: int
    power_w: int
    offline: bool
    trigger: str
    seq_no: int
    reason: StopReason | None = None
    message_id: str | None = None


class Outbox:
    """A FIFO of `TxMessage` with an awaitable head; the sender removes a message when answered."""

    def __init__(self) -> None:
        self._queue: deque[TxMessage] = deque()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, message: TxMessage) -> None:
        """Append a message (never blocks: a charge point's memory is the simulator's)."""
        self._queue.append(message)
        self._changed.set()

    async def head(self) -> TxMessage:
        """The oldest unanswered message, waiting for one if the queue is empty."""
        while not self._queue:
            self._changed.clear()
            await self._changed.wait()
        return self._queue[0]

    def done(self, message: TxMessage) -> None:
        """Remove `message`, which must be the head, once it has been answered."""
        if not self._queue or self._queue[0] is not message:
            raise RuntimeError("only the head of the outbox can be completed")
        self._queue.popleft()
        self._changed.set()

    async def drained(self) -> None:
        """Wait until every queued message has been answered."""
        while self._queue:
            self._changed.clear()
            await self._changed.wait()
