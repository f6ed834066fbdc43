"""Many simulated charge points in one asyncio process, driven by seeded random drivers.

Everything random (which OCPP version each station speaks, when EVs arrive, what they are,
how long they stay, which faults strike when) comes from RNGs derived from one seed, one per
station and connector, so the same seed gives the same plan. With a `ManualClock` the run is
reproducible outright; accelerated against a real server, network timing still varies a
little. Transaction IDs are unique per run on purpose (see `station`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sims.chargers.backoff import Backoff
from sims.chargers.clock import SimClock
from sims.chargers.ev import EVBattery, EVSpec
from sims.chargers.faults import strike
from sims.chargers.station import ConnectorBusyError, SimulatedChargePoint, StationConfig, cancel_tasks

LOGGER = logging.getLogger(__name__)

DEFAULT_MIX = {"1.6": 0.5, "2.0.1": 0.3, "2.1": 0.2}
EV_MODELS = (
    EVSpec(capacity_wh=40_000, max_power_w=7_400),
    EVSpec(capacity_wh=58_000, max_power_w=11_000),
    EVSpec(capacity_wh=77_000, max_power_w=11_000, taper_start_permille=850),
    EVSpec(capacity_wh=100_000, max_power_w=22_000, taper_start_permille=750),
)


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """The fleet's shape, its drivers' habits and its fault rates (simulated seconds)."""

    url: str
    count: int = 10
    seed: int = 0
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    connectors: int = 2
    max_power_w: int = 22_000
    password: str | None = None
    id_tokens: tuple[str, ...] = ("SIMTOKEN",)
    prefix: str = "SIM"
    meter_interval_s: float = 60.0
    mean_idle_s: float = 1_800.0
    mean_dwell_s: float = 3 * 3_600.0
    faults_per_hour: float = 0.0
    """Per station; each fault is a drop (60 %), an offline period (30 %) or a power loss."""
    max_offline_s: float = 1_800.0
    power_on_spread_s: float = 0.0
    """Stations power on at uniform random times in [0, spread): no thundering herd at start."""
    backoff: Backoff = field(default_factory=Backoff)
    response_timeout_s: float = 10.0
    validate_messages: bool = True


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """What a run did, summed over stations."""

    stations: dict[str, int]
    sessions_started: int
    sessions_ended: int
    sessions_refused: int
    energy_wh: int
    reconnects: int
    drops: int
    reboots: int
    offline_messages: int
    messages_sent: int
    call_errors: int
    timeouts: int
    undelivered: int
    online: int

    def lines(self) -> list[str]:
        """A short human summary."""
        mix = ", ".join(f"{count} x {version}" for version, count in sorted(self.stations.items()))
        return [
            f"stations          {sum(self.stations.values())} ({mix}), {self.online} online at the end",
            f"sessions          {self.sessions_started} started, {self.sessions_ended} ended, "
            f"{self.sessions_refused} refused",
            f"energy delivered  {self.energy_wh} Wh",
            f"faults            {self.drops} drops, {self.reboots} reboots, {self.reconnects} reconnects",
            f"messages          {self.messages_sent} transaction messages answered "
            f"({self.offline_messages} produced offline), {self.call_errors} refused, "
            f"{self.undelivered} undelivered, {self.timeouts} answers timed out",
        ]


def assign_versions(count: int, mix: dict[str, float], rng: random.Random) -> list[str]:
    """`count` versions in the ratio `mix` (largest remainder), in a seeded random order."""
    total = sum(mix.values())
    if count < 0 or total <= 0:
        raise ValueError("need a non-negative count and a positive mix")
    exact = {version: count * weight / total for version, weight in mix.items()}
    counts = {version: int(share) for version, share in exact.items()}
    by_remainder = sorted(exact, key=lambda version: (-(exact[version] - counts[version]), version))
    for version in by_remainder[: count - sum(counts.values())]:
        counts[version] += 1
    versions = [version for version in sorted(counts) for _ in range(counts[version])]
    rng.shuffle(versions)
    return versions


class Fleet:
    """Builds the stations, runs them with drivers and faults, and sums up."""

    def __init__(self, config: FleetConfig, clock: SimClock) -> None:
        self.config = config
        self.clock = clock
        plan = random.Random(f"fleet:{config.seed}")
        versions = assign_versions(config.count, config.mix, plan)
        self.stations = [
            SimulatedChargePoint(
                StationConfig(
                    charge_point_id=f"{config.prefix}-{index:04d}",
                    version=version,
                    url=config.url,
                    password=config.password,
                    connectors=config.connectors,
                    max_power_w=config.max_power_w,
                    meter_interval_s=config.meter_interval_s,
                    backoff=config.backoff,
                    response_timeout_s=config.response_timeout_s,
                    validate_messages=config.validate_messages,
                ),
                clock,
                rng=random.Random(f"station:{config.seed}:{index}"),
            )
            for index, version in enumerate(versions)
        ]
        self._powered: list[asyncio.Task[None]] = []
        self._agents: list[asyncio.Task[None]] = []
        self._faults_running: list[asyncio.Task[None]] = []
        self.started_at: datetime | None = None

    async def start(self) -> None:
        """Power every station and let drivers and faults loose."""
        self.started_at = self.clock.now()
        spread = random.Random(f"power-on:{self.config.seed}")
        for index, station in enumerate(self.stations):
            delay = spread.uniform(0.0, self.config.power_on_spread_s)
            self._powered.append(asyncio.create_task(self._power_on(station, delay)))
            for connector_id in station.connectors:
                rng = random.Random(f"driver:{self.config.seed}:{index}:{connector_id}")
                self._agents.append(asyncio.create_task(self._driver(station, connector_id, rng)))
            if self.config.faults_per_hour > 0:
                rng = random.Random(f"faults:{self.config.seed}:{index}")
                self._faults_running.append(asyncio.create_task(self._faults(station, rng)))

    async def finish(self, limit: float = 10.0) -> FleetSummary:
        """Stop drivers and faults, end running sessions, deliver what can be, power off.

        Offline periods are cut short so every station reconnects and replays its queue;
        `limit` bounds, in real seconds, how long to wait for that.
        """
        await self.calm()
        await _cancel(self._agents)
        for station in self.stations:
            for connector_id in station.connectors:
                station.stop(connector_id)
            station.heal()
        with contextlib.suppress(TimeoutError):
            await asyncio.gather(*(_delivered(station, limit) for station in self.stations))
        summary = self.summary()
        await _cancel(self._powered)
        return summary

    async def calm(self) -> None:
        """No more faults from now on (those under way, like an offline period, run out)."""
        await _cancel(self._faults_running)

    async def run(self, duration_s: float, limit: float = 10.0) -> FleetSummary:
        """Start, let `duration_s` of simulated time pass, finish."""
        await self.start()
        try:
            await self.clock.sleep(duration_s)
        finally:
            summary = await self.finish(limit)
        return summary

    def summary(self) -> FleetSummary:
        """The counters summed over every station."""
        stats = [station.stats for station in self.stations]
        return FleetSummary(
            stations=dict(Counter(station.dialect.version for station in self.stations)),
            sessions_started=sum(s.sessions_started for s in stats),
            sessions_ended=sum(s.sessions_ended for s in stats),
            sessions_refused=sum(s.sessions_refused for s in stats),
            energy_wh=sum(station.delivered_wh() for station in self.stations),
            reconnects=sum(s.reconnects for s in stats),
            drops=sum(s.drops for s in stats),
            reboots=sum(s.reboots for s in stats),
            offline_messages=sum(s.offline_messages for s in stats),
            messages_sent=sum(s.messages_sent for s in stats),
            call_errors=sum(s.call_errors for s in stats),
            timeouts=sum(s.timeouts for s in stats),
            undelivered=sum(len(station.outbox) for station in self.stations),
            online=sum(1 for station in self.stations if station.online),
        )

    async def _power_on(self, station: SimulatedChargePoint, delay_s: float) -> None:
        if delay_s > 0:
            await self.clock.sleep(delay_s)
        await station.run()

    async def _driver(self, station: SimulatedChargePoint, connector_id: int, rng: random.Random) -> None:
        """Arrive, charge, leave, repeat: exponential idle and dwell times."""
        config = self.config
        while True:
            await self.clock.sleep(rng.expovariate(1 / config.mean_idle_s))
            spec = rng.choice(EV_MODELS)
            ev = EVBattery(spec, soc_permille=rng.randint(100, 600))
            target = rng.choice((800, 900, 1000))
            token = rng.choice(config.id_tokens)
            dwell = max(rng.expovariate(1 / config.mean_dwell_s), 300.0)
            try:
                transaction = await station.plug_in(connector_id, ev, token, target)
            except ConnectorBusyError:
                continue  # a remote start got there first
            if transaction is None:
                continue  # refused: the driver leaves
            await self.clock.sleep(dwell)
            if station.connectors[connector_id].ev is ev:
                station.unplug(connector_id)

    async def _faults(self, station: SimulatedChargePoint, rng: random.Random) -> None:
        await strike(station, self.clock, rng, self.config.faults_per_hour, self.config.max_offline_s)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    await cancel_tasks(*tasks)
    tasks.clear()


async def _delivered(station: SimulatedChargePoint, limit: float) -> None:
    """Until the station is online with an empty queue (or `limit` real seconds pass)."""
    with contextlib.suppress(TimeoutError):
        await station.wait_until(lambda: station.online and not station.outbox, limit)
