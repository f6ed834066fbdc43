"""The raw message log: frames are buffered and written with the engine's next journal batch.

Writing each frame in its own transaction would cost a round trip per message, and a writer of
its own would contend with the readings' commits; instead the buffer rides along in the same
transaction as whatever else is pending (a charger event's reading and its frame commit
together). The buffer is bounded: under overload the oldest unwritten frames are dropped (and
counted) rather than growing memory without limit. A frame is kept up to `MAX_STORED_CHARS`
(longer ones as their prefix, marked with the full length), so with the store's frames kept per
charge point one charger's log is bounded in bytes too, however large its frames.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Connection

from mobility.charging.service import ChargingService

Frame = tuple[str, str, str, datetime]
MAX_STORED_CHARS = 4_096


def clip(text: str, limit: int) -> str:
    """`text` whole, or its first `limit` characters marked with the length it had."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text)} chars, truncated]"


def stored_text(frame: str) -> str:
    """The frame as kept."""
    return clip(frame, MAX_STORED_CHARS)


class FrameLog:
    """Buffers (charge point, direction, frame, time); the journal writes them in batches."""

    name = "frames"

    def __init__(self, service: ChargingService, max_buffer: int = 10_000) -> None:
        self._service = service
        self._max_buffer = max_buffer
        self._buffer: list[Frame] = []
        self._lock = threading.Lock()  # the journal's worker thread takes the buffer
        self._queued = False  # whether the journal has a batch item that will take the buffer
        self.dropped = 0

    def start(self) -> None:
        """Nothing to start: the journal writes the frames (kept for the server's lifecycle)."""

    def append(self, charge_point_id: str, direction: str, frame: str) -> None:
        """Queue a frame; never blocks."""
        with self._lock:
            if len(self._buffer) >= self._max_buffer:
                self._buffer.pop(0)
                self.dropped += 1
            self._buffer.append((charge_point_id, direction, stored_text(frame), self._service.clock()))
            if self._queued:
                return
            self._queued = True
        self._service.journal.append(self, None)

    def write(self, connection: Connection, items: list[None]) -> list[None]:
        """The journal's `Batch`: take every buffered frame into the batch's transaction."""
        with self._lock:
            frames, self._buffer = self._buffer, []
            self._queued = False
        self._service.store.write_frames(connection, frames)
        return [None] * len(items)

    async def stop(self) -> None:
        """Write what is buffered."""
        await self._service.journal.flushed()
