"""Sliding-window rate limits in memory, on an injectable clock.

Why not the `limits` package (the usual choice, behind slowapi): its in-memory storage reads the
system clock itself (its own tests freeze time by patching it), while this project's tests move
an injected clock; and what is limited here is small (logins, handshake failures, remote PoW),
so the code is short.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mobility.clock import Clock, utc_now


@dataclass
class RateLimiter:
    """At most `limit` hits per `window` per key (a sliding window, in memory; keys whose hits
    have all expired are dropped once there are more than `max_keys`)."""

    limit: int
    window: timedelta
    clock: Clock = utc_now
    max_keys: int = 100_000
    _hits: dict[str, deque[datetime]] = field(default_factory=dict)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] < self.window}
            hits = self._hits[key] = deque()
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        return hits

    def check(self, key: str) -> float | None:
        """None if a hit would be allowed now, else the seconds until it would be (counts nothing)."""
        now = self.clock()
        hits = self._recent(key, now)
        if len(hits) >= self.limit:
            return max((hits[0] + self.window - now).total_seconds(), 0.001)
        return None

    def hit(self, key: str) -> float | None:
        """Count a hit; None if allowed, else the seconds until the next one would be."""
        retry = self.check(key)
        if retry is None:
            self._hits[key].append(self.clock())
        return retry

    def refund(self, key: str) -> None:
        """Take back the latest hit on `key` (an attempt counted up front that turned out fine)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()
