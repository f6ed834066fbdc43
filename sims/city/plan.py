"""The seeded plan of a run: who pays how, when drivers arrive, where, in which car, for how long,
and when fleet vehicles come and go. Pure functions of the scenario and the seed, so the same
seed always gives the same plan (what the engine then does with it depends on timing only
where real network time leaks in; see `sims.city.run`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sims.chargers.ev import EVSpec
from sims.chargers.fleet import EV_MODELS, assign_versions
from sims.city.scenario import Drivers, FleetSpec, Scenario, Stay, Vehicle


@dataclass(frozen=True, slots=True)
class Arrival:
    """A driver arriving somewhere: simulated seconds after the start."""

    at_s: float
    site: str
    ev: EVSpec
    soc_permille: int
    dwell_s: float


@dataclass(frozen=True, slots=True)
class FleetVisit:
    """A fleet vehicle at its depot from `arrive_s` to `leave_s` (simulated seconds after start)."""

    fleet: str
    vehicle: Vehicle
    arrive_s: float
    leave_s: float


def behaviours(drivers: Drivers, seed: int) -> list[str]:
    """Each driver's payment behaviour, in the shares asked for (largest remainder, shuffled)."""
    return assign_versions(drivers.count, drivers.behaviours, random.Random(f"behaviours:{seed}"))


def driver_seed(seed: int, index: int) -> bytes:
    """Driver `index`'s 32-byte wallet seed (a function of the run seed)."""
    return random.Random(f"driver-key:{seed}:{index}").randbytes(32)


def rate_per_s(drivers: Drivers, at: datetime) -> float:
    """The arrival rate at a simulated instant: the daily mean shaped by the hour's weight."""
    weights = drivers.hourly_weights
    mean = sum(weights) / len(weights)
    return drivers.arrivals_per_hour * weights[at.hour] / mean / 3_600


def arrivals(scenario: Scenario, seed: int, hours: float) -> list[Arrival]:
    """A non-homogeneous Poisson process over the run (thinning: candidates at the peak rate,
    each kept with probability rate(t) / peak), each arrival with its site, car and dwell."""
    drivers = scenario.drivers
    rng = random.Random(f"arrivals:{seed}")
    peak = (
        drivers.arrivals_per_hour * max(drivers.hourly_weights) / (sum(drivers.hourly_weights) / 24) / 3_600
    )
    sites = [s.id for s in scenario.sites]
    weights = [s.weight for s in scenario.sites]
    planned: list[Arrival] = []
    t = 0.0
    end = hours * 3_600
    while True:
        t += rng.expovariate(peak)
        if t >= end:
            return planned
        keep = rng.random() < rate_per_s(drivers, scenario.start + timedelta(seconds=t)) / peak
        site = rng.choices(sites, weights)[0]
        ev = rng.choice(EV_MODELS)
        soc = rng.randint(*drivers.soc_permille)
        dwell = max(rng.expovariate(1 / (drivers.mean_dwell_minutes * 60)), drivers.min_dwell_minutes * 60)
        if keep:
            planned.append(Arrival(t, site, ev, soc, dwell))


def fleet_visits(fleet: FleetSpec, start: datetime, hours: float) -> list[FleetVisit]:
    """Every stay of every vehicle that begins within the run, in arrival order (a stay under
    way at the start counts as arriving at the start)."""
    visits = []
    end = start + timedelta(hours=hours)
    for vehicle in fleet.vehicles:
        for stay in vehicle.stays:
            for arrive, leave in _occurrences(stay, start, end):
                visits.append(
                    FleetVisit(
                        fleet.id,
                        vehicle,
                        max((arrive - start).total_seconds(), 0.0),
                        (leave - start).total_seconds(),
                    )
                )
    return sorted(visits, key=lambda v: (v.arrive_s, v.vehicle.token))


def _occurrences(stay: Stay, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    found: list[tuple[datetime, datetime]] = []
    day = start.date() - timedelta(days=1)
    while True:
        arrive = datetime.combine(day, stay.arrive, tzinfo=start.tzinfo)
        if arrive >= end:
            return found
        leave = datetime.combine(day, stay.leave, tzinfo=start.tzinfo)
        if leave <= arrive:
            leave += timedelta(days=1)
        if leave > start:
            found.append((arrive, leave))
        day += timedelta(days=1)
