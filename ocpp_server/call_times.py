"""How long the central system takes to answer each CALL, by action, as histogram buckets.

Measured from the frame's arrival at its connection to its answer handed to the socket:
parsing, validation, the handler (for a reading: until it is durable) and the answer. A
charger's own view adds the network and its own queueing; the difference tells an operator
(and `benches/engine_load.py`) whether time goes inside the engine or around it. Kept in
memory per process, read by the `/metrics` endpoint as a Prometheus histogram.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

BUCKETS_S = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
"""Upper bounds of the buckets, in seconds; one more bucket (+Inf) takes the rest."""


@dataclass
class ActionTimes:
    """One action's answered CALLs: per-bucket counts (not cumulative) and the total time."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_S) + 1))
    total_s: float = 0.0

    @property
    def count(self) -> int:
        """How many CALLs of this action were answered."""
        return sum(self.counts)


class CallTimes:
    """Answer times of every connection of one server (one owner: its event loop)."""

    def __init__(self) -> None:
        self._by_action: dict[str, ActionTimes] = {}

    def observe(self, action: str, seconds: float) -> None:
        """One CALL of `action` answered after `seconds`."""
        times = self._by_action.get(action)
        if times is None:
            times = self._by_action[action] = ActionTimes()
        times.counts[bisect_left(BUCKETS_S, seconds)] += 1
        times.total_s += seconds

    def snapshot(self) -> dict[str, ActionTimes]:
        """A copy of every action's figures so far, for a scrape."""
        by_action = self._by_action.items()
        return {name: ActionTimes(list(times.counts), times.total_s) for name, times in by_action}


__all__ = ["BUCKETS_S", "ActionTimes", "CallTimes"]
