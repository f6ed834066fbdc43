"""The people of the city: drivers who pay from their app, and fleet vans that badge an RFID tag.

A driver agent does what a driver with the app does: looks up chargers near the site through
the driver API, plugs the car into a free connector, starts remotely, answers the payment
requests on the live stream (promptly, late, or not at all after a while, by behaviour),
stops through the API when leaving, and unplugs. A fleet agent plugs a van in and badges its
tag at the charger; the fleet's wallet answers the payment requests for its channel on the
fleet stream.
Agents wait on the simulated clock only; real-time bounds guard against a hung engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mobility.wallet.api_client import DriverApi, DriverApiError, DriverStream, FleetApi, Message
from mobility.wallet.driver import PaymentRefusedError
from sims.chargers.clock import SimClock
from sims.chargers.ev import EVBattery, EVSpec
from sims.chargers.station import ConnectorBusyError, SimulatedChargePoint, cancel_tasks
from sims.city.plan import Arrival, FleetVisit

LOGGER = logging.getLogger(__name__)
RELOGIN_S = 600.0  # real seconds after which a driver logs in again before a visit
REAL_LIMIT_S = 60.0  # real seconds to wait for the engine to report a start
STOP_PATIENCE_S = 120.0  # simulated seconds a driver waits for the app's stop before unplugging


@dataclass
class CityLog:
    """What the agents saw, for the live view and the record: counters, recent events, and
    which session was whose with which behaviour."""

    clock: SimClock
    counts: Counter[str] = field(default_factory=Counter)
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=6))
    behaviour_of: dict[int, str] = field(default_factory=dict)  # engine session ID -> behaviour
    driver_of: dict[int, int] = field(default_factory=dict)  # engine session ID -> driver index
    stopped: set[int] = field(default_factory=set)  # sessions the engine stopped for payment

    def event(self, text: str, count: str | None = None) -> None:
        """Note something worth showing."""
        if count is not None:
            self.counts[count] += 1
        self.recent.append(f"{self.clock.now():%H:%M} {text}")


@dataclass
class Driver:
    """A signed-up driver with a registered channel and a payment behaviour."""

    index: int
    api: DriverApi
    channel_id: bytes
    behaviour: str
    visits: int = 0
    busy: bool = False
    blocked: bool = False  # stopped for not paying: the channel is refused from then on
    logged_in_at: float = field(default_factory=time.monotonic)  # real time: tokens expire in it


Sites = dict[str, tuple[float, float]]  # site -> (latitude, longitude)


class DriverAgent:
    """One visit of one driver: arrive, charge, pay (or not), leave."""

    def __init__(
        self,
        driver: Driver,
        stations: dict[str, SimulatedChargePoint],
        sites: Sites,
        clock: SimClock,
        log: CityLog,
        slow_delay_s: float,
        stops_paying_after_s: float,
    ) -> None:
        self.driver = driver
        self.stations = stations
        self.sites = sites
        self.clock = clock
        self.log = log
        self.slow_delay_s = slow_delay_s
        self.stops_paying_after_s = stops_paying_after_s
        self.session_id: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.ended = asyncio.Event()
        self.leaving = asyncio.Event()
        self._where: tuple[str, int] | None = None
        self._started_at: datetime | None = None
        self._late: set[asyncio.Task[None]] = set()
        self._requests = 0

    async def visit(self, arrival: Arrival) -> None:
        """The whole visit; the driver goes home early if no connector is free or the start fails."""
        api = self.driver.api
        if time.monotonic() - self.driver.logged_in_at > RELOGIN_S:
            await api.log_in()  # the stream checks the token when it opens; tokens live 15 minutes
            self.driver.logged_in_at = time.monotonic()
        async with api.stream(auto_pay=False) as stream:
            reader = asyncio.create_task(self._read(stream))
            try:
                await self._charge(arrival)
            finally:
                reader.cancel()
                for task in (reader, *self._late):
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task

    async def _charge(self, arrival: Arrival) -> None:
        place = await self._plug(arrival)
        if place is None:
            self.log.event(f"driver {self.driver.index}: no free charger at {arrival.site}", "no charger")
            return
        station, connector_id = place
        self._where = (station.id, connector_id)
        try:
            await self.driver.api.start(station.id, connector_id, self.driver.channel_id)
        except DriverApiError as error:
            station.unplug(connector_id)
            self.log.event(f"driver {self.driver.index}: start refused ({error.kind})", "refused")
            return
        self._started_at = self.clock.now()
        try:
            async with asyncio.timeout(REAL_LIMIT_S):
                session_id = await self.session_id
        except TimeoutError:
            station.unplug(connector_id)
            self.log.event(f"driver {self.driver.index}: the session never showed", "lost")
            return
        self.log.behaviour_of[session_id] = self.driver.behaviour
        self.log.driver_of[session_id] = self.driver.index
        self.log.event(f"{station.id}/{connector_id}: driver {self.driver.index} ({self.driver.behaviour})")
        dwell = asyncio.create_task(self.clock.sleep(arrival.dwell_s))
        leave = asyncio.create_task(self.leaving.wait())
        ended = asyncio.create_task(self.ended.wait())
        await asyncio.wait((dwell, leave, ended), return_when=asyncio.FIRST_COMPLETED)
        for task in (dwell, leave, ended):
            task.cancel()
        if not self.ended.is_set():
            with contextlib.suppress(DriverApiError):  # ended meanwhile (409), or the charger is offline
                await self.driver.api.stop(session_id)
        # A stop the charger never got (offline) does not keep the car there: after a simulated
        # while the driver unplugs, which ends the session at the charger.
        unplug_anyway = asyncio.create_task(self.clock.sleep(STOP_PATIENCE_S))
        ended = asyncio.create_task(self.ended.wait())
        await asyncio.wait((unplug_anyway, ended), return_when=asyncio.FIRST_COMPLETED)
        await cancel_tasks(unplug_anyway, ended)
        station.unplug(connector_id)

    async def _plug(self, arrival: Arrival) -> tuple[SimulatedChargePoint, int] | None:
        """A connector the app shows available at the site, and that is free in fact."""
        latitude, longitude = self.sites[arrival.site]
        listed = await self.driver.api.chargers(latitude, longitude, radius_km=0.5)
        for charger in listed["items"]:
            station = self.stations.get(charger["charge_point_id"])
            if station is None or charger.get("site") != arrival.site or not charger["online"]:
                continue
            for connector in charger["connectors"]:
                if connector["status"] != "Available":
                    continue
                ev = EVBattery(arrival.ev, soc_permille=arrival.soc_permille)
                try:
                    station.plug(connector["connector_id"], ev)
                except (ConnectorBusyError, KeyError):
                    continue
                return station, int(connector["connector_id"])
        return None

    async def _read(self, stream: DriverStream) -> None:
        while True:
            message = await stream.receive()
            kind = message.get("type")
            if kind == "session" and self._where is not None and self._where[0] == message["charge_point_id"]:
                if not self.session_id.done() and message["event"] == "SessionStarted":
                    self.session_id.set_result(int(message["session_id"]))
                elif (
                    self.session_id.done()
                    and message["session_id"] == self.session_id.result()
                    and message["event"] == "SessionEnded"
                ):
                    self.ended.set()
            elif kind == "payment_request":
                self._answer(stream, message)
            elif kind == "voucher_result" and not message.get("accepted"):
                self.log.counts["vouchers refused"] += 1

    def _answer(self, stream: DriverStream, request: Message) -> None:
        behaviour = self.driver.behaviour
        if request.get("action") == "stop":
            if self.session_id.done() and self.session_id.result() not in self.log.stopped:
                self.driver.blocked = True  # the engine keeps refusing that channel: the driver gives up
                self.log.stopped.add(self.session_id.result())
                self.log.event(f"driver {self.driver.index}: stopped ({request.get('reason')})", "stopped")
            return
        started = self._started_at
        paying_for = self.clock.now() - started if started is not None else timedelta(0)
        if behaviour == "stops paying" and paying_for >= timedelta(seconds=self.stops_paying_after_s):
            return
        self._requests += 1
        if behaviour == "slow" and self._requests > 1:  # the opening credit is paid at the start
            task = asyncio.create_task(self._pay_later(stream, request))
            self._late.add(task)
            task.add_done_callback(self._late.discard)
            return
        task = asyncio.create_task(pay(self.driver.api, stream, request))
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    async def _pay_later(self, stream: DriverStream, request: Message) -> None:
        await self.clock.sleep(self.slow_delay_s)
        await pay(self.driver.api, stream, request)


async def pay(api: DriverApi, stream: DriverStream, request: Message) -> None:
    """Answer a payment request with a voucher, as `DriverStream`'s auto-pay does, but at a time
    of the agent's choosing."""
    wallet = await api.wallet()
    channel_id = bytes.fromhex(request["channel_id"])
    amount = int(request["amount"])
    try:
        if amount <= wallet.signed(channel_id):
            return
        voucher = wallet.pay(channel_id, amount)
    except PaymentRefusedError:
        return
    with contextlib.suppress(Exception):  # the stream closed as the visit ended
        await stream.send({"type": "voucher", "voucher": voucher.to_bytes().hex()})


class FleetPayer:
    """A fleet's payment wallet on the fleet stream (`/fleet/stream`, SDK `FleetStream`): it
    answers every payment request for the fleet's channels with a voucher from its wallet, as
    a fleet's back office would, over the same API anyone outside the engine uses."""

    def __init__(self, fleet_id: str, api: FleetApi, channel_id: bytes, log: CityLog) -> None:
        self.fleet_id = fleet_id
        self.api = api
        self.channel_id = channel_id
        self.log = log
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the stream (returns once it is ready) and answer requests from a task."""
        self._task = asyncio.create_task(self._run())
        waiting = asyncio.create_task(self._ready.wait())
        await asyncio.wait((waiting, self._task), return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if self._task.done():
            self._task.result()  # the stream was refused: raise why

    async def _run(self) -> None:
        async with self.api.stream(auto_pay=True) as stream:
            self._ready.set()
            while True:
                message = await stream.receive()  # payment requests are answered as they come
                if message.get("type") == "voucher_result" and not message.get("accepted"):
                    # One overtaken by a later voucher is refused harmlessly; count them all.
                    self.log.counts["fleet vouchers refused"] += 1
                    LOGGER.debug("fleet %s voucher refused: %s", self.fleet_id, message)
                while stream.refused:
                    request, why = stream.refused.pop()
                    self.log.event(f"fleet {self.fleet_id}: wallet refused {request['amount']} ({why})")

    async def stop(self) -> None:
        """Close the stream."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class FleetAgent:
    """One stay of one van at the depot: plug in, badge the tag, charge, leave."""

    def __init__(
        self, visit: FleetVisit, stations: list[SimulatedChargePoint], clock: SimClock, log: CityLog
    ) -> None:
        self.visit = visit
        self.stations = stations
        self.clock = clock
        self.log = log
        self.leaving = asyncio.Event()

    async def run(self, start: datetime) -> None:
        """Arrive at the planned time, charge until the planned departure (or the run's end)."""
        await self.clock.sleep_until(start + timedelta(seconds=self.visit.arrive_s))
        vehicle = self.visit.vehicle
        ev = EVBattery(EVSpec(vehicle.capacity_wh, vehicle.max_power_w), soc_permille=vehicle.soc_permille)
        for station in self.stations:
            if not station.online:
                continue
            for connector_id, connector in station.connectors.items():
                if connector.ev is not None or connector.transaction is not None:
                    continue
                try:
                    transaction = await station.plug_in(connector_id, ev, vehicle.token)
                except ConnectorBusyError:
                    continue
                if transaction is None:
                    self.log.event(f"{vehicle.label}: tag refused at {station.id}", "refused")
                    return
                self.log.event(f"{station.id}/{connector_id}: {vehicle.label} (RFID)")
                await self._stay(start)
                station.unplug(connector_id)
                return
        self.log.event(f"{vehicle.label}: no free charger at the depot", "no charger")

    async def _stay(self, start: datetime) -> None:
        departure = asyncio.create_task(self.clock.sleep_until(start + timedelta(seconds=self.visit.leave_s)))
        leave = asyncio.create_task(self.leaving.wait())
        await asyncio.wait((departure, leave), return_when=asyncio.FIRST_COMPLETED)
        for task in (departure, leave):
            task.cancel()
