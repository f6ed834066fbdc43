"""One simulated charge point: its connection, boot, connectors, sessions and faults.

The same class drives every OCPP version; what differs lives in its `Dialect`. The station
is "powered" while `run()` runs: a meter loop samples every connector on the simulated clock
and a link loop keeps a websocket to the central system up, reconnecting with randomised
exponential back-off. Transaction messages never go straight to the socket: they enter the
`Outbox` and a sender delivers them in order whenever the station is online, so a session
that starts, meters and ends while the link is down is replayed exactly once afterwards.

Faults are methods: `drop_connection()` (the socket dies, sessions go on), `go_offline()`
(no network for a while; messages queue, 2.x marks them offline=true) and `power_loss()`
(sessions end at that instant, the station reboots and reports them after booting).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Subprotocol

from sims.chargers._ocpp import OCPPError
from sims.chargers.backoff import Backoff
from sims.chargers.clock import SimClock, format_timestamp, parse_timestamp
from sims.chargers.connector import Connector, StopReason, Transaction
from sims.chargers.dialects import DIALECTS, Dialect
from sims.chargers.ev import EVBattery, EVSpec
from sims.chargers.outbox import Outbox, TxEvent, TxMessage
from sims.chargers.profiles import TX_PURPOSE, Profile, ProfileSet

LOGGER = logging.getLogger(__name__)

TIMEOUTS_BEFORE_RECONNECT = 3
"""Consecutive unanswered transaction messages after which the link is dropped and rebuilt."""

ENDED_TRIGGERS = {
    StopReason.LOCAL: "StopAuthorized",
    StopReason.REMOTE: "RemoteStop",
    StopReason.EV_DISCONNECTED: "EVDeparted",
    StopReason.POWER_LOSS: "AbnormalCondition",
    StopReason.REBOOT: "ResetCommand",
    StopReason.DE_AUTHORIZED: "Deauthorized",
}


class LinkState(StrEnum):
    """Where the station's link to the central system is."""

    POWERED_OFF = "powered-off"
    CONNECTING = "connecting"
    BOOTING = "booting"
    ONLINE = "online"
    BACKOFF = "backoff"
    NO_NETWORK = "no-network"
    REBOOTING = "rebooting"


class ConnectionLostError(ConnectionError):
    """The link went down while a CALL was waiting for its answer."""


class ConnectorBusyError(RuntimeError):
    """An EV is already plugged into that connector."""


@dataclass(frozen=True, slots=True)
class StationConfig:
    """How one charge point looks and behaves. Times are simulated seconds unless noted."""

    charge_point_id: str
    version: str = "1.6"
    url: str = "ws://127.0.0.1:9000/ocpp"
    password: str | None = None
    connectors: int = 2
    max_power_w: int = 22_000
    meter_interval_s: float = 60.0
    reboot_delay_s: float = 30.0
    backoff: Backoff = field(default_factory=Backoff)
    response_timeout_s: float = 10.0
    """Real seconds to wait for an answer (a network property, so not simulated)."""
    vendor: str = "MobilitySim"
    model: str = "SimCharger"
    validate_messages: bool = True

    @property
    def endpoint(self) -> str:
        """`<url>/<percent-encoded id>`, as OCPP-J wants."""
        return f"{self.url.rstrip('/')}/{quote(self.charge_point_id, safe='')}"


@dataclass
class StationStats:
    """Counters for the run summary."""

    sessions_started: int = 0
    sessions_ended: int = 0
    sessions_refused: int = 0
    energy_wh: int = 0
    connects: int = 0
    reconnects: int = 0
    failed_connects: int = 0
    drops: int = 0
    reboots: int = 0
    messages_sent: int = 0
    offline_messages: int = 0
    call_errors: int = 0
    timeouts: int = 0


def default_ev() -> EVBattery:
    """The car a remote start plugs in when the scenario has not supplied one."""
    return EVBattery(EVSpec(capacity_wh=60_000, max_power_w=11_000), soc_permille=300)


class SimulatedChargePoint:
    """A charge point of any supported OCPP version, driven through one interface."""

    def __init__(
        self,
        config: StationConfig,
        clock: SimClock,
        rng: random.Random | None = None,
        ev_factory: Callable[[], EVBattery] = default_ev,
    ) -> None:
        if config.version not in DIALECTS:
            raise ValueError(f"unsupported OCPP version {config.version!r}")
        self.config = config
        self.id = config.charge_point_id
        self.clock = clock
        self.rng = rng or random.Random(config.charge_point_id)
        self.dialect: Dialect = DIALECTS[config.version]
        self.ev_factory = ev_factory
        self.profiles = ProfileSet()
        self.connectors = {
            n: Connector(n, config.max_power_w, self.profiles) for n in range(1, config.connectors + 1)
        }
        self.outbox = Outbox()
        self.transactions: list[Transaction] = []
        self.stats = StationStats()
        self.state = LinkState.POWERED_OFF
        self.heartbeat_interval_s = 300
        # 2.x transaction IDs are ours: unique per run so replays are never mistaken across runs.
        self._tx_prefix = uuid.uuid4().hex[:12]
        self._tx_count = 0
        self._client: Any = None
        self._socket: ClientConnection | None = None
        self._link_lost: asyncio.Event | None = None
        self._notices: asyncio.Queue[Any] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._reboot = asyncio.Event()
        self._graceful_reboot = False
        self._boot_reason = "PowerUp"
        self._no_network_until: datetime | None = None
        self._network_back = asyncio.Event()
        self._ever_connected = False

    # Observation ---------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        """True while booted and connected."""
        return self.state is LinkState.ONLINE

    def _notify(self) -> None:
        self._changed.set()

    async def wait_until(self, predicate: Callable[[], bool], limit: float = 10.0) -> None:
        """Until `predicate()` holds (re-checked on every state change); `limit` is real seconds."""
        async with asyncio.timeout(limit):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def drained(self, limit: float = 10.0) -> None:
        """Until every transaction message has been answered by the central system."""
        async with asyncio.timeout(limit):
            await self.outbox.drained()

    def delivered_wh(self) -> int:
        """Energy of every session so far, ended or running, in Wh."""
        return sum(tx.delivered_wh(self.connectors[tx.connector_id].register_wh) for tx in self.transactions)

    # Power cycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Be powered: meter and stay connected; reboot when asked; until cancelled."""
        try:
            while True:
                self._reboot.clear()
                now = self.clock.now()
                for connector in self.connectors.values():
                    connector.updated_at = now
                tasks = [asyncio.create_task(self._meter_loop()), asyncio.create_task(self._link_loop())]
                try:
                    await self._reboot.wait()
                    if self._graceful_reboot and self.online:
                        with contextlib.suppress(TimeoutError):
                            await self.drained(self.config.response_timeout_s)
                finally:
                    await cancel_tasks(*tasks)
                self.stats.reboots += 1
                self._set_state(LinkState.REBOOTING)
                await self.clock.sleep(self.config.reboot_delay_s)
        finally:
            self._set_state(LinkState.POWERED_OFF)

    def _set_state(self, state: LinkState) -> None:
        self.state = state
        self._notify()

    # Faults --------------------------------------------------------------------------------

    def drop_connection(self) -> bool:
        """Kill the socket without a close handshake, as a network failure would."""
        socket = self._socket
        if socket is None:
            return False
        self.stats.drops += 1
        socket.transport.abort()
        return True

    def go_offline(self, seconds: float) -> None:
        """Lose the network for `seconds` of simulated time; sessions go on and queue."""
        self._no_network_until = self.clock.now() + timedelta(seconds=seconds)
        self.drop_connection()
        self._notify()

    def heal(self) -> None:
        """End an offline period now (a run winding down wants its queues delivered)."""
        self._no_network_until = None
        self._network_back.set()
        self._notify()

    def power_loss(self) -> None:
        """Lose power: running sessions end now (reported after the reboot), then reboot."""
        self._stop_all(StopReason.POWER_LOSS)
        self._boot_reason = "PowerUp"
        self._graceful_reboot = False
        self._reboot.set()

    def request_reset(self, hard: bool) -> None:
        """The central system's Reset: end sessions, deliver them (soft), reboot."""
        self._stop_all(StopReason.REBOOT)
        self._boot_reason = "RemoteReset"
        self._graceful_reboot = not hard
        self._reboot.set()

    def _stop_all(self, reason: StopReason) -> None:
        for connector_id in self.connectors:
            self.stop(connector_id, reason)

    # Sessions ------------------------------------------------------------------------------

    async def plug_in(
        self, connector_id: int, ev: EVBattery, id_token: str, target_permille: int = 1000
    ) -> Transaction | None:
        """An EV arrives and its driver badges: Authorize (when online), then start charging.

        Offline, the station trusts the token (as chargers configured for offline
        transactions do); the central system still gets its say in the start's answer.
        Returns None when the token is refused or the station is down.
        """
        connector = self.connectors[connector_id]
        if connector.ev is not None or connector.transaction is not None:
            raise ConnectorBusyError(f"{self.id} connector {connector_id} is occupied")
        if self.state in (LinkState.POWERED_OFF, LinkState.REBOOTING):
            return None  # a dark charger: the driver goes elsewhere
        self.plug(connector_id, ev)
        client = self._client
        if client is not None:
            try:
                answer = await self._call(client, self.dialect.authorize(id_token))
            except (ConnectionLostError, ConnectionClosed, TimeoutError, OCPPError):
                answer = None
            if answer is not None and not self.dialect.authorized(answer):
                self.stats.sessions_refused += 1
                self.unplug(connector_id)
                return None
        if connector.ev is not ev or connector.transaction is not None:
            return None  # the station rebooted or the EV left while we asked
        return self.start_transaction(connector_id, id_token, target_permille=target_permille)

    def plug(self, connector_id: int, ev: EVBattery) -> None:
        """An EV is plugged in without a badge: its driver starts from an app (a remote start then
        charges this EV rather than the station's default one)."""
        connector = self.connectors[connector_id]
        if connector.ev is not None or connector.transaction is not None:
            raise ConnectorBusyError(f"{self.id} connector {connector_id} is occupied")
        connector.ev = ev
        connector.updated_at = self.clock.now()
        self._status(connector)

    def start_transaction(
        self,
        connector_id: int,
        id_token: str,
        *,
        remote_start_id: int | None = None,
        target_permille: int = 1000,
    ) -> Transaction:
        """Begin a transaction on a connector with an EV; queue its start message."""
        connector = self.connectors[connector_id]
        now = self.clock.now()
        connector.advance_to(now)
        self._tx_count += 1
        transaction = Transaction(
            local_id=self._tx_count,
            connector_id=connector_id,
            id_token=id_token,
            started_at=now,
            start_register_wh=connector.register_wh,
            remote_start_id=remote_start_id,
            target_permille=target_permille,
        )
        if self.dialect.version != "1.6":
            transaction.ref = f"{self._tx_prefix}-{self._tx_count}"
        connector.transaction = transaction
        self.transactions.append(transaction)
        self.stats.sessions_started += 1
        trigger = "RemoteStart" if remote_start_id is not None else "Authorized"
        self._queue(TxEvent.STARTED, transaction, connector, now, trigger)
        self._status(connector)
        return transaction

    def stop(self, connector_id: int, reason: StopReason = StopReason.LOCAL) -> Transaction | None:
        """End the connector's transaction now (the EV stays plugged in); queue its end."""
        connector = self.connectors[connector_id]
        transaction = connector.transaction
        if transaction is None:
            return None
        now = self.clock.now()
        connector.advance_to(now)
        power = connector.power_w(now)
        transaction.stop_register_wh = connector.register_wh
        transaction.stopped_at = now
        transaction.stop_reason = reason
        connector.transaction = None
        self._queue(TxEvent.ENDED, transaction, connector, now, ENDED_TRIGGERS[reason], reason, power)
        self.stats.sessions_ended += 1
        self.stats.energy_wh += transaction.delivered_wh(connector.register_wh)
        self.profiles.clear(connector_id=connector_id, purpose=TX_PURPOSE)
        self._status(connector)
        return transaction

    def unplug(self, connector_id: int) -> Transaction | None:
        """The EV leaves: its transaction (if still running) ends with EVDisconnected."""
        stopped = self.stop(connector_id, StopReason.EV_DISCONNECTED)
        connector = self.connectors[connector_id]
        connector.ev = None
        self._status(connector)
        return stopped

    def sample(self) -> None:
        """Meter every running transaction now; end those whose EV reached its target."""
        now = self.clock.now()
        for connector in self.connectors.values():
            transaction = connector.transaction
            if transaction is None or connector.ev is None:
                continue
            connector.advance_to(now)
            if connector.ev.full or connector.ev.soc_permille >= transaction.target_permille:
                self.stop(connector.connector_id, StopReason.LOCAL)
                continue
            self._queue(TxEvent.UPDATED, transaction, connector, now, "MeterValuePeriodic")

    def _queue(
        self,
        event: TxEvent,
        transaction: Transaction,
        connector: Connector,
        at: datetime,
        trigger: str,
        reason: StopReason | None = None,
        power_w: int | None = None,
    ) -> None:
        offline = not self.online
        if offline:
            self.stats.offline_messages += 1
        transaction.reported.append((parse_timestamp(format_timestamp(at)), connector.register_wh))
        self.outbox.put(
            TxMessage(
                event=event,
                transaction=transaction,
                at=at,
                register_wh=connector.register_wh,
                power_w=connector.power_w(at) if power_w is None else power_w,
                offline=offline,
                trigger=trigger,
                seq_no=transaction.next_seq_no(),
                reason=reason,
            )
        )
        self._notify()

    def _status(self, connector: Connector) -> None:
        if self.online:
            self._notices.put_nowait(self.dialect.status(connector, self.clock.now()))
        self._notify()

    # Commands from the central system (CommandTarget) ---------------------------------------

    def remote_start(
        self, connector_id: int | None, id_token: str, remote_start_id: int | None, profile: Profile | None
    ) -> Transaction | None:
        """Start on the given or first free connector, plugging in the scenario's EV."""
        free = [
            n
            for n, connector in self.connectors.items()
            if connector.transaction is None and (connector_id is None or n == connector_id)
        ]
        if not free:
            return None
        chosen = free[0]
        connector = self.connectors[chosen]
        if connector.ev is None:
            connector.ev = self.ev_factory()
        if profile is not None:
            # The transaction's own profile, installed with it (its ID is not known yet on 1.6).
            self._install(dataclasses.replace(profile, connector_id=chosen))
        return self.start_transaction(chosen, id_token, remote_start_id=remote_start_id)

    def remote_stop(self, transaction_ref: str) -> bool:
        """Stop the running transaction with that OCPP ID."""
        for connector in self.connectors.values():
            if connector.transaction is not None and connector.transaction.ref == transaction_ref:
                self.stop(connector.connector_id, StopReason.REMOTE)
                return True
        return False

    def set_profile(self, profile: Profile) -> bool:
        """Install a profile, or refuse it as a charge point must: an unknown connector, or a
        TxProfile without a running transaction on its connector (or for another one)."""
        if profile.connector_id != 0 and profile.connector_id not in self.connectors:
            return False
        if profile.purpose == TX_PURPOSE:
            connector = self.connectors.get(profile.connector_id)
            transaction = connector.transaction if connector is not None else None
            if transaction is None or profile.transaction_ref not in (None, transaction.ref):
                return False
        self._install(profile)
        return True

    def _install(self, profile: Profile) -> None:
        """Energy up to now is integrated under the old limits first."""
        self._integrate_all()
        self.profiles.install(profile)
        self._notify()

    def clear_profiles(
        self, profile_id: int | None, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> int:
        """Remove matching profiles (integrating under the old limits first)."""
        self._integrate_all()
        removed = self.profiles.clear(profile_id, connector_id, purpose, stack_level)
        self._notify()
        return removed

    def trigger(self, message: str, connector_id: int | None) -> str:
        """TriggerMessage: Heartbeat, StatusNotification and MeterValues are supported.

        Triggered meter values go through the outbox like periodic ones (context Trigger),
        so they stay in order with the transaction's other messages.
        """
        chosen = [
            connector
            for n, connector in self.connectors.items()
            if connector_id is None or connector_id == 0 or n == connector_id
        ]
        if message == "Heartbeat":
            self._notices.put_nowait(self.dialect.heartbeat())
        elif message == "StatusNotification":
            for connector in chosen:
                self._status(connector)
        elif message == "MeterValues":
            now = self.clock.now()
            charging = [connector for connector in chosen if connector.transaction is not None]
            if not charging:
                return "Rejected"
            for connector in charging:
                connector.advance_to(now)
                assert connector.transaction is not None
                self._queue(TxEvent.UPDATED, connector.transaction, connector, now, "Trigger")
        else:
            return "NotImplemented"
        return "Accepted"

    def _integrate_all(self) -> None:
        now = self.clock.now()
        for connector in self.connectors.values():
            connector.advance_to(now)

    # Loops ---------------------------------------------------------------------------------

    async def _meter_loop(self) -> None:
        while True:
            await self.clock.sleep(self.config.meter_interval_s)
            self.sample()

    async def _link_loop(self) -> None:
        """Connect, serve, and after any loss wait for the network and back off, forever.

        The back-off also follows an outage, so a fleet that lost the network together does
        not come back in the same instant.
        """
        attempt = 0
        while True:
            await self._wait_for_network()
            if attempt:
                await self._back_off(attempt)
                if self._no_network_until is not None:
                    continue
            self._set_state(LinkState.CONNECTING)
            try:
                socket = await connect(
                    self.config.endpoint,
                    subprotocols=[Subprotocol(self.dialect.subprotocol)],
                    additional_headers=self._auth_headers(),
                    open_timeout=self.config.response_timeout_s,
                )
            except (OSError, TimeoutError, WebSocketException) as error:
                LOGGER.debug("%s: connect failed: %s", self.id, error)
                self.stats.failed_connects += 1
                attempt += 1
                continue
            self.stats.connects += 1
            if self._ever_connected:
                self.stats.reconnects += 1
            self._ever_connected = True
            try:
                await self._serve(socket)
            finally:
                self._socket = None
                await socket.close()
            attempt = 1

    async def _wait_for_network(self) -> None:
        while self._no_network_until is not None:
            until = self._no_network_until
            if until <= self.clock.now():
                self._no_network_until = None
                break
            self._set_state(LinkState.NO_NETWORK)
            self._network_back.clear()
            sleeper = asyncio.ensure_future(self.clock.sleep_until(until))
            healed = asyncio.ensure_future(self._network_back.wait())
            try:
                await asyncio.wait({sleeper, healed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                await cancel_tasks(sleeper, healed)

    async def _back_off(self, attempt: int) -> None:
        self._set_state(LinkState.BACKOFF)
        await self.clock.sleep(self.config.backoff.delay(attempt, self.rng))

    def _auth_headers(self) -> dict[str, str]:
        if self.config.password is None:
            return {}
        token = base64.b64encode(f"{self.id}:{self.config.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def _serve(self, socket: ClientConnection) -> None:
        """Run one connection until it closes: receive loop, boot, then online work."""
        if socket.subprotocol != self.dialect.subprotocol:
            LOGGER.warning("%s: server did not agree to %s", self.id, self.dialect.subprotocol)
            return
        self._socket = socket
        client = self.dialect.client_class(self.id, socket, response_timeout=self.config.response_timeout_s)
        client.target = self
        lost = asyncio.Event()
        self._link_lost = lost
        receiver = asyncio.create_task(client.start())
        work = asyncio.create_task(self._online(client))
        try:
            done, _ = await asyncio.wait({receiver, work}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                if error is not None:
                    LOGGER.info("%s: connection ended by %r", self.id, error)
        finally:
            lost.set()
            self._client = None
            if self.state is LinkState.ONLINE or self.state is LinkState.BOOTING:
                self._set_state(LinkState.CONNECTING)
            await cancel_tasks(receiver, work)

    async def _online(self, client: Any) -> None:
        self._set_state(LinkState.BOOTING)
        while True:
            boot = self.dialect.boot(self.config.vendor, self.config.model, self._boot_reason)
            answer = self.dialect.boot_answer(await self._call(client, boot))
            if answer.accepted:
                break
            await self.clock.sleep(max(answer.interval_s, 10))
        self._boot_reason = "PowerUp"
        self.heartbeat_interval_s = max(answer.interval_s, 1)
        self._client = client
        self._notices = asyncio.Queue()
        self._set_state(LinkState.ONLINE)
        now = self.clock.now()
        station = self.dialect.station_status(now)
        if station is not None:
            await self._call(client, station)
        for connector in self.connectors.values():
            await self._call(client, self.dialect.status(connector, now))
        async with asyncio.TaskGroup() as group:
            group.create_task(self._send_transactions(client))
            group.create_task(self._send_notices(client))
            group.create_task(self._heartbeat(client))

    async def _send_transactions(self, client: Any) -> None:
        timeouts = 0
        while True:
            message = await self.outbox.head()
            payload = self.dialect.transaction(message)
            if payload is None:
                self.outbox.done(message)
                self._notify()
                continue
            if message.message_id is None:
                message.message_id = str(uuid.uuid4())
            # The frames behind this answer wait until it is applied (AnswersInOrder).
            applied = client.expect_answer(message.message_id)
            try:
                try:
                    answer = await self._call(client, payload, message.message_id)
                except TimeoutError:
                    # A slow server, not necessarily a dead link: ask again on the same socket with
                    # the same message ID (answered from the server's cache if it was applied);
                    # only repeated silence makes the link suspect enough to reconnect.
                    self.stats.timeouts += 1
                    timeouts += 1
                    if timeouts >= TIMEOUTS_BEFORE_RECONNECT:
                        raise
                    continue
                except OCPPError as error:
                    LOGGER.warning("%s: %s refused: %s", self.id, message.event, error)
                    self.stats.call_errors += 1
                    self.outbox.done(message)
                    self._notify()
                    continue
                timeouts = 0
                self.outbox.done(message)
                self.stats.messages_sent += 1
                accepted = self.dialect.transaction_answer(message, answer)
                transaction = message.transaction
                if not accepted and message.event is TxEvent.STARTED and transaction.active:
                    self.stop(transaction.connector_id, StopReason.DE_AUTHORIZED)
            finally:
                applied.set()
            self._notify()

    async def _send_notices(self, client: Any) -> None:
        while True:
            payload = await self._notices.get()
            await self._call_lossy(client, payload)

    async def _heartbeat(self, client: Any) -> None:
        while True:
            await self.clock.sleep(self.heartbeat_interval_s)
            await self._call_lossy(client, self.dialect.heartbeat())

    async def _call_lossy(self, client: Any, payload: Any) -> None:
        """A CALL whose loss does not matter (status, heartbeat): a timeout is only counted."""
        try:
            await self._call(client, payload)
        except TimeoutError:
            self.stats.timeouts += 1

    async def _call(self, client: Any, payload: Any, message_id: str | None = None) -> Any:
        """One CALL; raises ConnectionLostError at once if the link dies meanwhile."""
        lost = self._link_lost
        call = asyncio.ensure_future(
            client.call(
                payload,
                suppress=False,
                unique_id=message_id,
                skip_schema_validation=not self.config.validate_messages,
            )
        )
        waiter = asyncio.ensure_future(lost.wait() if lost is not None else asyncio.Future())
        try:
            await asyncio.wait({call, waiter}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await cancel_tasks(call)  # never leave a CALL waiting for an answer on a dead link
            raise
        finally:
            waiter.cancel()
        if not call.done():
            await cancel_tasks(call)
            raise ConnectionLostError(f"{self.id}: link lost during {type(payload).__name__}")
        return call.result()


async def cancel_tasks(*tasks: asyncio.Future[Any]) -> None:
    """Cancel and reap; a cancellation of the caller itself still propagates."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
