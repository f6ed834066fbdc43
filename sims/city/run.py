"""A whole city run against a fresh engine: set up, let the city live for simulated hours, drain,
reconcile, and leave a `RunRecord`.

The engine runs in this process on its embedded defaults (SQLite, in-process ledger node and
coordinator, payments on); the city reaches it only over its websockets and HTTP (fleets pay
on the fleet stream, see `FleetPayer`), except for the set-up steps that have no API (see
`setup`), the engine's clocks and settlement policy (simulated time, so tariffs, enforcement
and settlement intervals follow the city), and reading the final state to reconcile.

At the end each fleet asks the engine for its reconciliation of the run's period
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, col, select

from mobility.charging.models import SessionRecord
from mobility.db import create_db_engine
from mobility.engine import Engine, EngineOptions
from mobility.fleet.reconcile import reconcile_session
from mobility.fleet.store import FleetStore
from mobility.ledger.config import LedgerSettings
from mobility.payments.settlement import SettlementPolicy
from mobility.payments.store import PaymentStore
from mobility.ratelimit import RateLimiter
from mobility.settings import Settings
from mobility.wallet.api_client import ApiError
from sims.chargers.clock import SteppedClock
from sims.chargers.connector import Transaction
from sims.chargers.faults import strike
from sims.chargers.station import SimulatedChargePoint, StationConfig, cancel_tasks
from sims.city import setup
from sims.city.agents import CityLog, Driver, DriverAgent, FleetAgent, FleetPayer
from sims.city.plan import Arrival, arrivals, fleet_visits
from sims.city.quiet import SimulationLoop, quiet
from sims.city.record import RunRecord, Sample, SessionRow
from sims.city.scenario import Scenario
from sims.city.view import LiveView, Status

LOGGER = logging.getLogger(__name__)
DRAIN_LIMIT_S = 120.0  # real seconds for sessions to end and claims to confirm after the run
EPOCH, END_OF_TIME = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SimulatedSession:
    """A transaction as the simulated charger knows it: where, and the energy its meter delivered."""

    charge_point_id: str
    ref: str | None
    site: str
    delivered_wh: int


@dataclass
class CityRun:
    """A finished run: its record, and what it takes to reconcile the engine's database again."""

    record: RunRecord
    database_url: str
    simulated: list[SimulatedSession]
    payers: dict[str, str]  # account -> "driver" or "fleet"
    behaviour_of: dict[int, str]
    baseline: int  # sessions with an ID up to this were in the database before the run
    notes: dict[str, str] = field(default_factory=dict)
    fleet_reports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # fleet -> API sessions

    def reconcile(self) -> RunRecord:
        """Reconcile the engine's (final) database again, replace the record's sessions, and
        compare them with what each fleet's reconciliation API told the fleet."""
        self.record.sessions = reconcile_sessions(
            self.database_url, self.simulated, self.payers, self.behaviour_of, self.baseline
        )
        self.record.fleet_disagreements = 0
        for fleet_id, sessions in sorted(self.fleet_reports.items()):
            differences = compare_fleet_report(self.record.sessions, fleet_id, sessions, self.baseline)
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
    engine = await asyncio.to_thread(_build_engine, scenario, data_dir)
    # Every driver of the city logs in from 127.0.0.1: the per-address login limit (10 a minute)
    # is meant for a world with more than one address, so the run widens it.
    engine.api.state.context.login_limiter = RateLimiter(100 * scenario.drivers.count, timedelta(minutes=1))
    database_url = engine.settings.resolved_database_url
    baseline = await asyncio.to_thread(_last_session_id, database_url)
    await engine.start()
    city: City | None = None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{engine.api_port}", timeout=60.0) as http:
            city = City(scenario, seed, hours, engine, http, clock, view)
            await city.set_up()
            # From here on payments and settlement run on simulated time (charging timestamps come
            # from the stations' simulated clocks; API tokens and logs still read the wall clock).
            _simulated_time(engine, clock, scenario)
            await city.live()
            await city.drain()
    finally:
        if city is not None:
            await city.power_off()
        await engine.stop()
    record = RunRecord(
        scenario.name, seed, hours, speed, scenario.start, samples=city.samples, notes=city.notes
    )
    run = CityRun(
        record,
        database_url,
        city.simulated(),
        city.payers,
        dict(city.log.behaviour_of),
        baseline,
        fleet_reports=city.fleet_reports,
    )
    await asyncio.to_thread(run.reconcile)
    return run


def _build_engine(scenario: Scenario, data_dir: Path) -> Engine:
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'mobility.db'}",
        ocpp_host="127.0.0.1",
        api_host="127.0.0.1",
        ocpp_port=0,
        api_port=0,
        accept_unknown_chargers=False,
        payments_enabled=True,
    )
    ledger = LedgerSettings(milestone_interval_seconds=scenario.engine.milestone_seconds)
    options = EngineOptions(heartbeat_interval=600, settlement_interval=1.0)
    return Engine.build(settings, options, ledger)


def _simulated_time(engine: Engine, clock: SteppedClock, scenario: Scenario) -> None:
    """The payment layer and the settler read the city's clock: time-of-day tariffs, the lag
    before power is limited and the settlement interval are then in simulated time."""
    assert engine.payments is not None
    assert engine.settler is not None
    engine.payments.clock = clock.now
    engine.settler.clock = clock.now
    engine.settler.policy = SettlementPolicy(interval=timedelta(minutes=scenario.engine.settlement_minutes))


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
        self.context = engine.api.state.context
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
        self.operator_headers = await setup.operator(http, self.context, scenario, self.plans)
        self._status("setting up: drivers sign up, the faucet funds them")
        apis = await setup.drivers_signed_up(http, scenario, self.seed)
        fleets = [
            (spec, await setup.fleet_api(http, self.context, spec, self.seed)) for spec in scenario.fleets
        ]
        funding = [((await api.wallet()).ledger.address, scenario.drivers.deposit) for api in apis]
        funding += [((await fleet.wallet()).ledger.address, spec.deposit) for spec, fleet in fleets]
        await setup.fund(http, self.engine.settings.data_dir, funding)
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
        assert self.engine.settler is not None
        self.engine.settler.policy = SettlementPolicy(threshold=1, interval=timedelta(0))  # claim it all now
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
        """Every transaction the simulated chargers ran, with the energy their meters delivered."""
        found = []
        for station in self.stations.values():
            for tx in station.transactions:
                register = station.connectors[tx.connector_id].register_wh
                found.append(
                    SimulatedSession(station.id, tx.ref, self.site_of[station.id], _delivered(tx, register))
                )
        return found

    def _status(self, text: str) -> None:
        if self.view is not None:
            self.view.note(text)


def _delivered(tx: Transaction, register_wh: int) -> int:
    return tx.delivered_wh(register_wh)


def _last_session_id(url: str) -> int:
    engine = create_db_engine(url)
    try:
        with Session(engine) as db:
            last = db.exec(select(SessionRecord.id).order_by(col(SessionRecord.id).desc()).limit(1)).first()
    finally:
        engine.dispose()
    return int(last or 0)


# Reconciliation -------------------------------------------------------------------------------


def reconcile_sessions(
    url: str,
    simulated: list[SimulatedSession],
    payers: dict[str, str],
    behaviour_of: dict[int, str],
    baseline: int,
) -> list[SessionRow]:
    """One row per session: the simulated meter against the engine's reconciliation of it
    (`mobility.fleet.reconcile`, the same checks the fleet API reports), plus a mismatch row
    for a session only one side knows."""
    database = create_db_engine(url)
    try:
        store, payments = FleetStore(database), PaymentStore(database)
        by_ref = {(s.charge_point_id, s.ref): s for s in simulated}
        rows: list[SessionRow] = []
        seen: set[int] = set()
        for account, kind in sorted(payers.items()):
            for facts in store.session_facts(account, EPOCH, END_OF_TIME):
                session = facts.session
                assert session.id is not None
                if session.id <= baseline or session.id in seen:
                    continue
                seen.add(session.id)
                line = reconcile_session(facts, payments.tariff)
                twin = by_ref.pop((session.charge_point_id, session.transaction_ref), None)
                record = facts.settlement
                latency = None
                if (
                    line.settlement is not None
                    and record is not None
                    and record.confirmed_at
                    and session.ended_at
                ):
                    latency = (record.confirmed_at - session.ended_at).total_seconds()
                rows.append(
                    SessionRow(
                        session_id=session.id,
                        site=facts.site or "",
                        charge_point_id=session.charge_point_id,
                        payer=account,
                        payer_kind=kind,
                        behaviour=behaviour_of.get(session.id, "rfid" if kind == "fleet" else "unknown"),
                        started_at=session.started_at,
                        ended_at=session.ended_at,
                        simulated_wh=twin.delivered_wh if twin is not None else -1,
                        metered_wh=line.metered_wh,
                        billed=line.billed or 0,
                        paid=line.paid or 0,
                        settled=line.settled,
                        shortfall=facts.payment.shortfall if facts.payment is not None else 0,
                        enforcement=facts.payment.enforcement if facts.payment is not None else None,
                        block_id=line.settlement.block_id if line.settlement else None,
                        milestone_index=line.settlement.milestone_index if line.settlement else None,
                        settlement_latency_s=latency,
                        status=line.status.value,
                    )
                )
        with Session(database) as db:
            strays = db.exec(select(SessionRecord).where(col(SessionRecord.id) > baseline)).all()
        for session in strays:
            assert session.id is not None
            if session.id not in seen:  # nobody of the city paid for it
                twin = by_ref.pop((session.charge_point_id, session.transaction_ref), None)
                rows.append(_stray(session, twin))
        rows.extend(_unseen(twin) for twin in by_ref.values())
    finally:
        database.dispose()
    return sorted(rows, key=lambda r: (r.started_at, r.session_id))


def _stray(session: SessionRecord, twin: SimulatedSession | None) -> SessionRow:
    assert session.id is not None
    return SessionRow(
        session.id, twin.site if twin else "", session.charge_point_id, session.id_token or "", "unknown",
        "unknown", session.started_at, session.ended_at, twin.delivered_wh if twin else -1,
        session.energy_wh, 0, 0, 0, 0, None, None, None, None, "mismatch",
    )  # fmt: skip


def _unseen(twin: SimulatedSession) -> SessionRow:
    return SessionRow(
        -1, twin.site, twin.charge_point_id, "", "unknown", "unknown", EPOCH, None,
        twin.delivered_wh, 0, 0, 0, 0, 0, None, None, None, None, "mismatch",
    )  # fmt: skip


COMPARED = (  # (the run's row field, the fleet API's session field)
    ("status", "status"),
    ("metered_wh", "metered_wh"),
    ("billed", "billed"),
    ("paid", "paid"),
    ("settled", "settled"),
)


def compare_fleet_report(
    rows: list[SessionRow], fleet_id: str, sessions: list[dict[str, Any]], baseline: int
) -> list[str]:
    """Where the fleet's `GET /fleet/reconciliation` sessions and the run's rows for that fleet
    differ: one line per session that only one side has or whose status, energy, billed,
    paid or settled amount differ (an unknown amount on the API side counts as 0, as in the
    rows)."""
    ours = {row.session_id: row for row in rows if row.payer == fleet_id and row.payer_kind == "fleet"}
    theirs = {
        int(s["session_id"]): s for s in sessions if int(s["session_id"]) > baseline or s["session_id"] == -1
    }
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


Tamper = Callable[[str], Any]
