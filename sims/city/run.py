"""A whole city run against a fresh engine: set up, let the city live for simulated hours, drain,
reconcile, and leave a `RunRecord`.

The engine runs in this process, built through its entry point (`mobility.engine`) on its
embedded defaults (SQLite, in-process ledger node and coordinator, payments on) with the city's
clock and the scenario's settlement interval as its options; the city reaches it only over its
websockets and HTTP (fleets pay on the fleet stream, see `FleetPayer`), except for the set-up
steps that have no API, which go through the entry point as the command line's do (see
`setup`).

The money is checked by the city itself (`sims.city.reconcile`): it prices every session from
its simulated meter and the scenario's tariff with its own arithmetic, and takes what settled
from the ledger's public routes and inclusion proofs; the engine's word is only what is
compared. At the end each fleet also asks the engine for its reconciliation of the run's period
(`GET /fleet/reconciliation`) and the run compares it, session by session, with its own rows
for that fleet: any disagreement is noted and makes the run not balanced.

Reproducibility: the plan (stations and their versions, passwords, keys, behaviours, arrival
times, sites, cars, dwell times, fleet stays) is a function of the seed, and time is a
`SteppedClock`: it moves to the next simulated deadline only when the loop is quiet (see
`quiet`), so every reading, payment and enforcement step lands at the same simulated instant
whatever the machine's speed. Two runs with the same seed give the same sessions, energy and
money; what still follows real time is only when the engine's own loops (milestones, the
settler's wake-ups) act, so block IDs and settlement latencies differ.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from mobility.engine import Engine, EngineOptions, LedgerSettings
from mobility.settings import Settings
from mobility.wallet.api_client import ApiError
from sims.chargers.clock import SteppedClock
from sims.chargers.faults import strike
from sims.chargers.station import SimulatedChargePoint, StationConfig, cancel_tasks
from sims.city import setup
from sims.city.agents import CityLog, Driver, DriverAgent, FleetAgent, FleetPayer
from sims.city.plan import Arrival, arrivals, fleet_visits
from sims.city.quiet import SimulationLoop, quiet
from sims.city.reconcile import CityBooks, EngineReport, Payer, SimulatedSession, fetch_report, reconcile
from sims.city.record import RunRecord, Sample, SessionRow
from sims.city.scenario import Scenario
from sims.city.tariffs import Reading
from sims.city.view import LiveView, Status

LOGGER = logging.getLogger(__name__)
DRAIN_LIMIT_S = 120.0  # real seconds for sessions to end and claims to confirm after the run
LOGINS_PER_DRIVER = 100  # a minute: every driver of the city logs in from 127.0.0.1


@dataclass
class CityRun:
    """A finished run: its record, and what it takes to reconcile it again (the city's books
    and the engine's report, fetched before the engine stopped)."""

    record: RunRecord
    books: CityBooks
    report: EngineReport
    fleet_reports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # fleet -> API sessions

    def reconcile(self) -> RunRecord:
        """Reconcile the city's books with the engine's report again, replace the record's
        sessions, and compare them with what each fleet's reconciliation API told the fleet."""
        self.record.sessions, notes = reconcile(self.books, self.report)
        self.record.notes = {
            k: v for k, v in self.record.notes.items() if not k.startswith(("channel ", "claim "))
        } | notes
        self.record.fleet_disagreements = 0
        for fleet_id, sessions in sorted(self.fleet_reports.items()):
            differences = compare_fleet_report(self.record.sessions, fleet_id, sessions)
            self.record.fleet_disagreements += len(differences)
            self.record.notes[f"fleet {fleet_id} API reconciliation"] = describe_comparison(
                len(sessions), differences
            )
        return self.record


def simulate(
    scenario: Scenario,
    seed: int,
    data_dir: Path,
    hours: float | None = None,
    speed: float | None = None,
    view: LiveView | None = None,
) -> CityRun:
    """Run the city on a fresh `SimulationLoop` (what `run_city` needs); the record, reconciled."""
    with asyncio.Runner(loop_factory=SimulationLoop) as runner:
        return runner.run(run_city(scenario, seed, data_dir, hours, speed, view))


async def run_city(
    scenario: Scenario,
    seed: int,
    data_dir: Path,
    hours: float | None = None,
    speed: float | None = None,
    view: LiveView | None = None,
) -> CityRun:
    """Run the city (on a `SimulationLoop`: see `simulate`); the record, reconciled.

    `speed` caps the pace in simulated seconds per real second."""
    hours = scenario.hours if hours is None else hours
    speed = scenario.speed if speed is None else speed
    clock = SteppedClock(quiet, speed, start=scenario.start)
    engine = await asyncio.to_thread(build_engine, scenario, data_dir, clock)
    await engine.start()
    city: City | None = None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{engine.api_port}", timeout=60.0) as http:
            city = City(scenario, seed, hours, engine, http, clock, view)
            await city.set_up()
            await city.live()
            await city.drain()
            report = await fetch_report(http, city.operator_headers)
            books = await city.books()
    finally:
        if city is not None:
            await city.power_off()
        await engine.stop()
    record = RunRecord(
        scenario.name, seed, hours, speed, scenario.start, samples=city.samples, notes=city.notes
    )
    run = CityRun(record, books, report, fleet_reports=city.fleet_reports)
    run.reconcile()
    return run


def build_engine(scenario: Scenario, data_dir: Path, clock: SteppedClock) -> Engine:
    """The engine through its entry point, on the city's simulated clock: tariffs' time of day,
    the lag before power is limited and the settlement interval follow the city."""
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'mobility.db'}",
        ocpp_host="127.0.0.1",
        api_host="127.0.0.1",
        ocpp_port=0,
        api_port=0,
        accept_unknown_chargers=False,
        payments_enabled=True,
        settlement_interval=timedelta(minutes=scenario.engine.settlement_minutes),
        # The per-address login limit is meant for a world with more than one address.
        login_attempts_per_minute=LOGINS_PER_DRIVER * scenario.drivers.count,
    )
    ledger = LedgerSettings(milestone_interval_seconds=scenario.engine.milestone_seconds)
    options = EngineOptions(heartbeat_interval=600, settlement_interval=1.0)
    return Engine.build(settings, options, ledger, clock=clock.now)


class City:
    """The running city: stations, agents, the sampler."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        hours: float,
        engine: Engine,
        http: httpx.AsyncClient,
        clock: SteppedClock,
        view: LiveView | None,
    ) -> None:
        self.scenario, self.seed, self.hours = scenario, seed, hours
        self.engine, self.http, self.clock, self.view = engine, http, clock, view
        self.log = CityLog(clock)
        self.plans = setup.station_plans(scenario, seed)
        url = f"ws://127.0.0.1:{engine.central.port}/ocpp"
        self.stations = {
            plan.charge_point_id: SimulatedChargePoint(
                StationConfig(
                    charge_point_id=plan.charge_point_id,
                    version=plan.version,
                    url=url,
                    password=plan.password,
                    connectors=plan.connectors,
                    max_power_w=plan.max_power_w,
                    meter_interval_s=scenario.engine.meter_interval_s,
                ),
                clock,
                rng=random.Random(f"station:{seed}:{plan.charge_point_id}"),
            )
            for plan in self.plans
        }
        self.site_of = {plan.charge_point_id: plan.site for plan in self.plans}
        self.drivers: list[Driver] = []
        self.payers: dict[str, str] = {}
        self.fleet_payers: list[FleetPayer] = []
        self.fleet_reports: dict[str, list[dict[str, Any]]] = {}
        self.started_at: datetime | None = None
        self.samples: list[Sample] = []
        self.notes: dict[str, str] = {}
        self.operator_headers: dict[str, str] = {}
        self._powered: list[asyncio.Task[None]] = []
        self._visits: list[tuple[DriverAgent | FleetAgent, asyncio.Task[None]]] = []
        self._background: list[asyncio.Task[None]] = []  # the clock's steps, the sampler, the view
        self._rank = list(range(scenario.drivers.count))
        random.Random(f"turns:{seed}").shuffle(self._rank)

    # Set-up ---------------------------------------------------------------------------------

    async def set_up(self) -> None:
        """Operator, chargers online, fleets, drivers with channels."""
        scenario, http = self.scenario, self.http
        self._status("setting up: operator, tariffs, chargers")
        self.operator_headers = await setup.operator(http, self.engine, scenario, self.plans)
        self._status("setting up: drivers sign up, the faucet funds them")
        apis = await setup.drivers_signed_up(http, scenario, self.seed)
        fleets = [
            (spec, await setup.fleet_api(http, self.engine, spec, self.seed)) for spec in scenario.fleets
        ]
        funding = [((await api.wallet()).ledger.address, scenario.drivers.deposit) for api in apis]
        funding += [((await fleet.wallet()).ledger.address, spec.deposit) for spec, fleet in fleets]
        await setup.fund(http, await asyncio.to_thread(self.engine.faucet_seed), funding)
        self._status("setting up: channels open on the ledger")
        expiry = setup.channel_expiry(scenario, self.hours)
        self.drivers = await setup.driver_channels(apis, scenario, self.seed, expiry)
        for driver in self.drivers:
            assert driver.api.account_id is not None
            self.payers[driver.api.account_id] = "driver"
        for spec, fleet in fleets:
            channel_id = await setup.fleet_channel(fleet, spec, expiry)
            payer = FleetPayer(spec.id, fleet, channel_id, self.log)
            await payer.start()
            self.fleet_payers.append(payer)
            self.payers[spec.id] = "fleet"
        self.notes["drivers"] = ", ".join(
            f"{kind}: {sum(1 for d in self.drivers if d.behaviour == kind)}"
            for kind in scenario.drivers.behaviours
        )

    # The run --------------------------------------------------------------------------------

    async def live(self) -> None:
        """Arrivals and fleet stays for `hours` simulated hours, sampled as they go."""
        # Simulated time starts moving here: set-up took none.
        self._background.append(asyncio.create_task(self.clock.run()))
        if self.view is not None:
            self._background.append(asyncio.create_task(self._refresh_view()))
        self._powered = [asyncio.create_task(station.run()) for station in self.stations.values()]
        for station in self.stations.values():
            await station.wait_until(lambda s=station: s.online, 60.0)  # type: ignore[misc]
        faults = self._strike()
        start = self.started_at = self.clock.now()
        self.notes["run_started_at"] = start.isoformat()
        end = start + timedelta(hours=self.hours)
        plan = arrivals(self.scenario, self.seed, self.hours)
        tasks = [asyncio.create_task(self._arrivals(plan, start))]
        for spec in self.scenario.fleets:
            depot = [s for s in self.stations.values() if self.site_of[s.id] == spec.site]
            for visit in fleet_visits(spec, start, self.hours):
                agent = FleetAgent(visit, depot, self.clock, self.log)
                self._visits.append((agent, asyncio.create_task(agent.run(start))))
        self._background.append(asyncio.create_task(self._sample()))
        try:
            await self.clock.sleep_until(end)
        finally:
            await cancel_tasks(*tasks, *faults)
        for station in self.stations.values():
            station.heal()  # offline spells end with the run: the drain delivers every queue

    def _strike(self) -> list[asyncio.Task[None]]:
        """The scenario's faults, one task per station, each with its own seeded RNG."""
        spec = self.scenario.faults
        if spec.per_charger_per_hour <= 0:
            return []

        def noted(station_id: str) -> Callable[[str], None]:
            return lambda kind: self.log.event(f"{station_id}: {kind}", f"faults: {kind}")

        return [
            asyncio.create_task(
                strike(
                    station,
                    self.clock,
                    random.Random(f"faults:{self.seed}:{station.id}"),
                    spec.per_charger_per_hour,
                    spec.max_offline_minutes * 60,
                    noted(station.id),
                )
            )
            for station in self.stations.values()
        ]

    async def _arrivals(self, plan: list[Arrival], start: datetime) -> None:
        sites = {s.id: (s.latitude, s.longitude) for s in self.scenario.sites}
        drivers = self.scenario.drivers
        for arrival in plan:
            await self.clock.sleep_until(start + timedelta(seconds=arrival.at_s))
            idle = [d for d in self.drivers if not d.busy and not d.blocked]
            if not idle:
                self.log.event("every driver is out already", "no driver")
                continue
            driver = min(idle, key=lambda d: (d.visits, self._rank[d.index]))
            driver.busy, driver.visits = True, driver.visits + 1
            agent = DriverAgent(
                driver,
                self.stations,
                sites,
                self.clock,
                self.log,
                drivers.slow_delay_s,
                drivers.stops_paying_after_s,
            )
            self._visits.append((agent, asyncio.create_task(self._visit(agent, arrival))))

    async def _visit(self, agent: DriverAgent, arrival: Arrival) -> None:
        try:
            await agent.visit(arrival)
        except Exception as error:
            LOGGER.warning("driver %s visit failed: %r", agent.driver.index, error)
            self.log.event(f"driver {agent.driver.index}: {type(error).__name__}", "agent errors")
        finally:
            agent.driver.busy = False

    # Sampling and the live view -----------------------------------------------------------

    async def _status_now(self) -> Status:
        revenue = (await self.http.get("/operator/revenue", headers=self.operator_headers)).json()
        info = (await self.http.get("/ledger/info")).json()
        tips = (await self.http.get("/ledger/tips")).json()["block_ids"]
        now = self.clock.now()
        power: dict[str, int] = {site.id: 0 for site in self.scenario.sites}
        limited = 0
        for station in self.stations.values():
            for connector in station.connectors.values():
                power[self.site_of[station.id]] += connector.power_w(now)
                if connector.transaction is not None and connector.limit_w(now) < connector.max_power_w:
                    limited += 1
        milestone = (info.get("latest_milestone") or {}).get("index")
        return Status(now, power, revenue, limited, len(self.log.stopped), milestone, len(tips), self.log)

    async def _sample(self) -> None:
        """A sample every `sample_minutes` of simulated time, through the drain (until cancelled)."""
        step = timedelta(minutes=self.scenario.sample_minutes)
        due = self.clock.now()
        while True:
            await self.clock.sleep_until(due)
            self.samples.append((await self._status_now()).sample())
            due += step

    async def _refresh_view(self) -> None:
        """The live view, about once a real second (until cancelled)."""
        assert self.view is not None
        while True:
            self.view.show(await self._status_now())
            await asyncio.sleep(1.0)

    # Drain ------------------------------------------------------------------------------------

    async def drain(self) -> None:
        """Everyone leaves, every message is delivered, every paid session settles (bounded)."""
        self._status("draining: drivers leave, claims confirm")
        for agent, _ in self._visits:
            agent.leaving.set()
        await asyncio.wait(
            [task for _, task in self._visits] or [asyncio.create_task(asyncio.sleep(0))],
            timeout=DRAIN_LIMIT_S,
        )
        for station in self.stations.values():
            for connector_id in station.connectors:
                station.unplug(connector_id)
        for station in self.stations.values():
            with contextlib.suppress(TimeoutError):
                await station.wait_until(lambda s=station: s.online and not s.outbox, 30.0)  # type: ignore[misc]
        # Simulated time goes on (the sampler's steps) until the engine's settlement interval
        # has passed for the last session ended, and its claim is confirmed.
        try:
            async with asyncio.timeout(DRAIN_LIMIT_S):
                while True:
                    revenue = (await self.http.get("/operator/revenue", headers=self.operator_headers)).json()
                    if (
                        revenue["active_sessions"] == 0
                        and revenue["unsettled"] == 0
                        and revenue["settling"] == 0
                    ):
                        break
                    await asyncio.sleep(0.5)
        except TimeoutError:
            self.notes["drain"] = f"claims still unconfirmed after {DRAIN_LIMIT_S:g} s"
        await self._fleet_reports()
        for payer in self.fleet_payers:
            await payer.stop()
        await cancel_tasks(*self._background)
        self.samples.append((await self._status_now()).sample())
        for key, value in sorted(self.log.counts.items()):
            self.notes[key] = str(value)
        stats = [station.stats for station in self.stations.values()]
        self.notes["charger reconnects"] = str(sum(s.reconnects for s in stats))
        self.notes["charger reboots"] = str(sum(s.reboots for s in stats))
        self.notes["transaction messages replayed from offline"] = str(sum(s.offline_messages for s in stats))

    async def _fleet_reports(self) -> None:
        """Each fleet fetches its reconciliation of the run's period over the fleet API, to be
        compared with the run's own rows once the engine has stopped (`CityRun.reconcile`)."""
        if self.started_at is None:
            return
        end = self.clock.now() + timedelta(minutes=1)
        for payer in self.fleet_payers:
            try:
                report = await payer.api.reconciliation(self.started_at, end)
            except ApiError as error:
                self.notes[f"fleet {payer.fleet_id} API reconciliation"] = f"refused: {error}"
                self.fleet_reports[payer.fleet_id] = [{"session_id": -1, "status": f"refused: {error}"}]
                continue
            self.fleet_reports[payer.fleet_id] = list(report["sessions"]["items"])

    async def power_off(self) -> None:
        """Stop the stations, the fleets' streams (and anything still running)."""
        for payer in self.fleet_payers:
            await payer.stop()
        await cancel_tasks(*self._background, *self._powered, *(t for _, t in self._visits))

    def simulated(self) -> list[SimulatedSession]:
        """Every transaction the simulated chargers ran: where, when, and what their meters
        reported (session Wh, from the registers their messages carried)."""
        found = []
        for station in self.stations.values():
            for tx in station.transactions:
                register = station.connectors[tx.connector_id].register_wh
                reported = tx.reported or [(tx.started_at, tx.start_register_wh)]
                readings = tuple(Reading(at, wh - tx.start_register_wh) for at, wh in reported)
                found.append(
                    SimulatedSession(
                        station.id, tx.ref, self.site_of[station.id], tx.delivered_wh(register),
                        readings[0].at, readings[-1].at, readings,
                    )
                )  # fmt: skip
        return found

    async def books(self) -> CityBooks:
        """What the city knows of its own money: meters, tariffs, who paid from which channel,
        and what each wallet signed."""
        payer_of_session = {}
        for session_id, index in self.log.driver_of.items():
            driver = self.drivers[index]
            assert driver.api.account_id is not None
            payer_of_session[session_id] = Payer(driver.api.account_id, "driver", driver.channel_id.hex())
        payer_of_token = {
            vehicle.token.upper(): Payer(payer.fleet_id, "fleet", payer.channel_id.hex())
            for payer in self.fleet_payers
            for spec in self.scenario.fleets
            if spec.id == payer.fleet_id
            for vehicle in spec.vehicles
        }
        signed = {
            driver.channel_id.hex(): (await driver.api.wallet()).signed(driver.channel_id)
            for driver in self.drivers
        }
        for payer in self.fleet_payers:
            signed[payer.channel_id.hex()] = (await payer.api.wallet()).signed(payer.channel_id)
        return CityBooks(
            simulated=self.simulated(),
            tariff_of_site={site.id: self.scenario.tariff(site.tariff) for site in self.scenario.sites},
            payer_of_session=payer_of_session,
            payer_of_token=payer_of_token,
            behaviour_of=dict(self.log.behaviour_of),
            signed=signed,
        )

    def _status(self, text: str) -> None:
        if self.view is not None:
            self.view.note(text)


COMPARED = (  # (the run's row field, the fleet API's session field)
    ("status", "status"),
    ("metered_wh", "metered_wh"),
    ("billed", "billed"),
    ("paid", "paid"),
    ("settled", "settled"),
)


def compare_fleet_report(rows: list[SessionRow], fleet_id: str, sessions: list[dict[str, Any]]) -> list[str]:
    """Where the fleet's `GET /fleet/reconciliation` sessions and the run's rows for that fleet
    differ: one line per session that only one side has or whose status, energy, billed,
    paid or settled amount differ (an unknown amount on the API side counts as 0, as in the
    rows)."""
    ours = {row.session_id: row for row in rows if row.payer == fleet_id and row.payer_kind == "fleet"}
    theirs = {int(s["session_id"]): s for s in sessions}
    differences = []
    for session_id in sorted(ours.keys() | theirs.keys()):
        row, reported = ours.get(session_id), theirs.get(session_id)
        if row is None:
            differences.append(f"session {session_id}: in the fleet's report only ({reported})")
            continue
        if reported is None:
            differences.append(f"session {session_id}: missing from the fleet's report")
            continue
        for mine, field_name in COMPARED:
            run_value, api_value = getattr(row, mine), reported.get(field_name)
            if api_value is None and isinstance(run_value, int):
                api_value = 0
            if run_value != api_value:
                differences.append(f"session {session_id}: {field_name} API {api_value!r}, run {run_value!r}")
    return differences


def describe_comparison(reported: int, differences: list[str]) -> str:
    """A line for the record's notes."""
    if not differences:
        return f"{reported} sessions agree with the run"
    shown = "; ".join(differences[:5]) + (
        f"; and {len(differences) - 5} more" if len(differences) > 5 else ""
    )
    return f"{len(differences)} disagreements over {reported} sessions: {shown}"
