"""Faults at Poisson times, as chargers in the field have them: the connection drops (60 %), the
network goes away for a while and sessions queue offline (30 %), or the power fails (10 %).

Used by the charger fleet (`sims.chargers --faults-per-hour`) and by the city's scenarios
(`[faults]`); the RNG is the caller's, so a seed fixes when and what strikes.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sims.chargers.clock import SimClock
from sims.chargers.station import SimulatedChargePoint

DROP_SHARE, OFFLINE_SHARE = 0.6, 0.3  # the rest are power losses
MIN_OFFLINE_S = 60.0


async def strike(
    station: SimulatedChargePoint,
    clock: SimClock,
    rng: random.Random,
    per_hour: float,
    max_offline_s: float,
    on_fault: Callable[[str], None] | None = None,
) -> None:
    """Strike `station` at `per_hour` faults an hour on average, until cancelled; `on_fault`
    hears of each ("drop", "offline" or "power loss")."""
    rate_per_s = per_hour / 3_600
    while True:
        await clock.sleep(rng.expovariate(rate_per_s))
        roll = rng.random()
        if roll < DROP_SHARE:
            kind = "drop"
            station.drop_connection()
        elif roll < DROP_SHARE + OFFLINE_SHARE:
            kind = "offline"
            station.go_offline(rng.uniform(MIN_OFFLINE_S, max(max_offline_s, MIN_OFFLINE_S)))
        else:
            kind = "power loss"
            station.power_loss()
        if on_fault is not None:
            on_fault(kind)
