"""Group commit for meter readings, the one message type that arrives at volume.

While one batch is being written, new readings queue; the next write takes them all in one
transaction. A charge point still gets its answer only after its reading is committed, so
nothing acknowledged is lost, but N concurrent readings cost one commit instead of N.
"""

from __future__ import annotations

import asyncio
import logging

from mobility.charging.store import ChargingStore, ReadingOutcome, ReadingRequest

LOGGER = logging.getLogger(__name__)


class ReadingWriter:
    """Writes `ReadingRequest`s in batches on a worker thread; one batch in flight at a time."""

    def __init__(self, store: ChargingStore, max_batch: int = 500) -> None:
        self._store = store
        self._max_batch = max_batch
        self._pending: list[tuple[ReadingRequest, asyncio.Future[ReadingOutcome]]] = []
        self._task: asyncio.Task[None] | None = None

    async def write(self, request: ReadingRequest) -> ReadingOutcome:
        """Store one reading (with whatever else is queued) and return its outcome."""
        future: asyncio.Future[ReadingOutcome] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                outcomes = await asyncio.to_thread(
                    self._store.add_readings, [request for request, _ in batch]
                )
            except Exception:
                LOGGER.exception("batch of %d readings failed; retrying one by one", len(batch))
                await self._one_by_one(batch)
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)

    async def _one_by_one(self, batch: list[tuple[ReadingRequest, asyncio.Future[ReadingOutcome]]]) -> None:
        """Isolate a failing reading so it does not fail the others."""
        for request, future in batch:
            try:
                [outcome] = await asyncio.to_thread(self._store.add_readings, [request])
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(outcome)
