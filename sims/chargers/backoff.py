"""Randomised exponential back-off for reconnecting ("full jitter").

A thousand chargers that lose the central system at the same moment must not all come back
at the same moment; drawing each delay uniformly from [0, min(cap, base * 2^attempt)] spreads
them out while still backing off. The RNG is injected so a seeded fleet is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay bounds in simulated seconds."""

    base_s: float = 2.0
    cap_s: float = 120.0

    def ceiling(self, attempt: int) -> float:
        """The largest delay before retry number `attempt` (1 for the first retry)."""
        return float(min(self.cap_s, self.base_s * 2 ** max(attempt - 1, 0)))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """A random delay in [0, ceiling(attempt)]."""
        return rng.uniform(0.0, self.ceiling(attempt))
