"""Running a node: the coordinator's milestone loop, and a standalone node app.

`python -m mobility.ledger` serves one node on the engine's API host and port, with its
coordinator when `MOBILITY_LEDGER_COORDINATOR_KEY_FILE` is set. The engine embeds the same
pieces: `create_ledger_router` under `/ledger` and `run_coordinator` as a background task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mobility.ledger.api import RemotePow, create_ledger_router
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node

log = logging.getLogger(__name__)


async def every(seconds: float) -> AsyncIterator[None]:
    """A tick every `seconds`, forever; tests pass a finite iterator instead."""
    while True:
        await asyncio.sleep(seconds)
        yield


async def run_coordinator(coordinator: Coordinator, ticks: AsyncIterator[None]) -> int:
    """Issue a milestone on every tick (mining and storage off the event loop); how many."""
    issued = 0
    async for _ in ticks:
        try:
            await asyncio.to_thread(coordinator.issue)
            issued += 1
        except Exception:
            log.exception("milestone not issued")
    return issued


def create_node_app(
    node: Node, coordinator: Coordinator | None, interval: float, remote_pow: RemotePow | None = None
) -> FastAPI:
    """A FastAPI app with the ledger routes and, if given, the coordinator running alongside."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(run_coordinator(coordinator, every(interval))) if coordinator else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
            node.store.engine.dispose()

    app = FastAPI(title="mobility ledger node", version="0.1.0", lifespan=lifespan)
    app.include_router(create_ledger_router(node, pow_policy=remote_pow))
    return app
