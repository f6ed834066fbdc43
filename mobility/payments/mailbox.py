"""A mailbox: work for one owner, applied one item at a time in the order it was posted.

The owner's state is touched only by the work its mailbox runs, so two events for one channel
never interleave, and no lock is needed: ordering is the queue's. A drained mailbox's task ends
(a channel that is quiet costs no task) and the next post starts another.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
LOGGER = logging.getLogger(__name__)


class Mailbox:
    """FIFO of coroutine factories, run one after the other by a task of its own."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._work: deque[tuple[Callable[[], Awaitable[Any]], asyncio.Future[Any]]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def post(self, work: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """Queue `work`; the future has its result once it ran (nobody has to await it)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._work.append((work, future))
        self._idle.clear()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mailbox {self.name}")
        return future

    @property
    def pending(self) -> int:
        """Items posted and not yet done (the one running included)."""
        return len(self._work)

    async def idle(self) -> None:
        """Wait until every item posted so far (and any posted meanwhile) is done."""
        await self._idle.wait()

    async def _run(self) -> None:
        try:
            while self._work:
                work, future = self._work[0]
                try:
                    result = await work()
                except Exception as error:
                    if not future.done():
                        future.set_exception(error)
                        # Retrieved here so a posted-and-forgotten failure is logged once, by us.
                        future.exception()
                    LOGGER.exception("%s: work failed", self.name)
                else:
                    if not future.done():
                        future.set_result(result)
                self._work.popleft()
        finally:
            self._task = None
            if not self._work:
                self._idle.set()


async def all_idle(mailboxes: Callable[[], Iterable[Mailbox]]) -> None:
    """Wait until every mailbox `mailboxes()` gives is idle at once (work done in one may have
    posted more to another, or a new mailbox may have appeared)."""
    while busy := [mailbox for mailbox in mailboxes() if mailbox.pending]:
        await asyncio.gather(*(mailbox.idle() for mailbox in busy))
