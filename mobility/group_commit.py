"""Group commit: requests that arrive while a batch is being written share the next write.

Each caller still waits for its own result, which exists only once its batch committed, so
nothing acknowledged is lost; N concurrent requests cost one transaction instead of N.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")

LOGGER = logging.getLogger(__name__)


class GroupCommit(Generic[Request, Result]):
    """Runs `write_batch` (blocking, in a worker thread) over queued requests, one batch at a time."""

    def __init__(self, write_batch: Callable[[list[Request]], list[Result]], max_batch: int = 1000) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._pending: list[tuple[Request, asyncio.Future[Result]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, request: Request) -> Result:
        """The request's result, once the batch holding it has been written."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                results = await asyncio.to_thread(self._write_batch, [request for request, _ in batch])
            except Exception:
                LOGGER.exception("a batch of %d failed; retrying one by one", len(batch))
                await self._one_by_one(batch)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, batch: list[tuple[Request, asyncio.Future[Result]]]) -> None:
        """Isolate a failing request so it does not fail the others."""
        for request, future in batch:
            try:
                [result] = await asyncio.to_thread(self._write_batch, [request])
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(result)
