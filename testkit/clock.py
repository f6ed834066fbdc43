"""A clock that moves only when told to: what tests and simulations inject instead of sleeping."""

from __future__ import annotations

import datetime as dt

EPOCH = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


class ManualClock:
    """Callable like `mobility.clock.utc_now`; `now` is whatever it was set or advanced to."""

    def __init__(self, start: dt.datetime = EPOCH) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock tells UTC-aware times")
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        """Move forward by `seconds` and any `timedelta` keywords (`minutes=5`)."""
        self.now += dt.timedelta(seconds=seconds, **delta)
