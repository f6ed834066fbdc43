"""The engine's one writer: what every owner writes, committed together, one batch at a time.

Charger events (readings, sequence numbers, raw frames) and payment changes (session rows,
vouchers) used to commit in transactions of their own, from several threads at once. On SQLite,
which has one writer, they queued behind each other through its busy handler, which sleeps up
to 100 ms between tries: the engine waited instead of computing. Here every such write is an
item of a kind (a `Batch`, which knows how to write many items with few statements), and one
task commits all items pending when it starts, in one transaction, in a thread of its own (so a
commit never queues behind other work in the shared worker pool): N concurrent events cost one
commit, and no hot-path writer ever waits for another's lock.

Each submitter gets its own result once the batch holding it committed, so nothing is
acknowledged before it is durable. If a batch fails, its items are retried one by one, each in
a transaction of its own, so one bad item fails alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine

Item = TypeVar("Item")
Result = TypeVar("Result")
LOGGER = logging.getLogger(__name__)


class Batch(Protocol[Item, Result]):
    """A kind of write: many items in few statements, inside the caller's transaction."""

    def write(self, connection: Connection, items: list[Item]) -> list[Result]:
        """Write `items` (in order); one result per item."""
        ...


@dataclass(eq=False)
class _Entry(Generic[Item, Result]):
    kind: Batch[Item, Result]
    item: Item
    future: asyncio.Future[Result] | None  # None: nobody waits (written in the next batch)


@dataclass
class JournalStats:
    """What the journal did, for the metrics endpoint and benchmarks."""

    batches: int = 0
    items: int = 0
    failed_items: int = 0
    largest: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class Journal:
    """Queues writes of any kind and commits them in shared transactions (see module doc)."""

    def __init__(self, engine: Engine, max_batch: int = 2_000) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._pending: list[_Entry[Any, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self.stats = JournalStats()

    async def write(self, kind: Batch[Item, Result], item: Item) -> Result:
        """`item`'s result, once the batch holding it is committed."""
        return await self.submit(kind, item)

    def submit(self, kind: Batch[Item, Result], item: Item) -> asyncio.Future[Result]:
        """Queue `item` now; the future has its result once the batch holding it is committed
        (items queued together, before any await, land in one batch)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue(_Entry(kind, item, future))
        return future

    def append(self, kind: Batch[Item, Any], item: Item) -> None:
        """Queue `item` for the next batch without waiting for it (e.g. the raw frame log)."""
        self._queue(_Entry(kind, item, None))

    async def flushed(self) -> None:
        """Wait until everything queued so far is committed (or failed)."""
        await self._idle.wait()

    def _queue(self, entry: _Entry[Any, Any]) -> None:
        self._pending.append(entry)
        self._idle.clear()
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name="journal")

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    results = await self._in_writer(batch)
                except Exception:
                    LOGGER.exception("a batch of %d writes failed; retrying one by one", len(batch))
                    await self._one_by_one(batch)
                    continue
                self._note(batch)
                for entry, result in zip(batch, results, strict=True):
                    if entry.future is not None and not entry.future.done():
                        entry.future.set_result(result)
        finally:
            self._task = None
            if self._pending:
                self._task = asyncio.create_task(self._drain(), name="journal")
            else:
                self._idle.set()

    def _in_writer(self, batch: list[_Entry[Any, Any]]) -> asyncio.Future[list[Any]]:
        return asyncio.get_running_loop().run_in_executor(self._writer, self._commit, batch)

    def _commit(self, batch: list[_Entry[Any, Any]]) -> list[Any]:
        """Write the batch in one transaction: each kind's items together, kinds in the order
        they first came, items of a kind in the order they came."""
        by_kind: dict[int, tuple[Batch[Any, Any], list[int]]] = {}
        for index, entry in enumerate(batch):
            by_kind.setdefault(id(entry.kind), (entry.kind, []))[1].append(index)
        results: list[Any] = [None] * len(batch)
        with self._engine.begin() as connection:
            for kind, indexes in by_kind.values():
                written = kind.write(connection, [batch[index].item for index in indexes])
                for index, result in zip(indexes, written, strict=True):
                    results[index] = result
        return results

    async def _one_by_one(self, batch: list[_Entry[Any, Any]]) -> None:
        for entry in batch:
            try:
                [result] = await self._in_writer([entry])
            except Exception as error:
                self.stats.failed_items += 1
                if entry.future is None:
                    LOGGER.exception("a %s write failed", type(entry.kind).__name__)
                elif not entry.future.done():
                    entry.future.set_exception(error)
            else:
                self._note([entry])
                if entry.future is not None and not entry.future.done():
                    entry.future.set_result(result)

    def _note(self, batch: list[_Entry[Any, Any]]) -> None:
        stats = self.stats
        stats.batches += 1
        stats.items += len(batch)
        stats.largest = max(stats.largest, len(batch))
        for entry in batch:
            name = str(getattr(entry.kind, "name", type(entry.kind).__name__))
            stats.by_kind[name] = stats.by_kind.get(name, 0) + 1


class FunctionBatch(Generic[Item, Result]):
    """A `Batch` from a function of (connection, items) (a store's batch method)."""

    def __init__(self, name: str, write: Callable[[Connection, list[Item]], list[Result]]) -> None:
        self.name = name
        self._write = write

    def write(self, connection: Connection, items: list[Item]) -> list[Result]:
        return self._write(connection, items)
