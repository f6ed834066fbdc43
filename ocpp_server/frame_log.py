"""The raw message log: frames are buffered and written in batches, off the hot path.

Writing each frame in its own transaction would cost a round trip per message; a single
writer task drains the buffer instead. The buffer is bounded: under overload the oldest
unwritten frames are dropped (and counted) rather than growing memory without limit.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from mobility.charging.service import ChargingService

LOGGER = logging.getLogger(__name__)
Frame = tuple[str, str, str, datetime]


class FrameLog:
    """Buffers (charge point, direction, frame, time) and writes them in batches."""

    def __init__(self, service: ChargingService, max_buffer: int = 10_000) -> None:
        self._service = service
        self._max_buffer = max_buffer
        self._buffer: list[Frame] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.dropped = 0

    def start(self) -> None:
        """Start the writer task."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="ocpp-frame-log")

    def append(self, charge_point_id: str, direction: str, frame: str) -> None:
        """Queue a frame; never blocks."""
        if len(self._buffer) >= self._max_buffer:
            self._buffer.pop(0)
            self.dropped += 1
        self._buffer.append((charge_point_id, direction, frame, self._service.clock()))
        self._wakeup.set()

    async def stop(self) -> None:
        """Write what is buffered, then stop the writer."""
        if self._task is not None:
            self._stopping = True
            self._wakeup.set()
            await self._task
            self._task = None
        await self._flush()

    async def _run(self) -> None:
        while not self._stopping:
            await self._wakeup.wait()
            self._wakeup.clear()
            await self._flush()

    async def _flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if not batch:
            return
        try:
            await self._service.log_frames(batch)
        except Exception:
            LOGGER.exception("could not write %d frames to the message log", len(batch))
