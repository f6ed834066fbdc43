"""The payment layer at work: every charging event priced, credited and enforced.

It subscribes to `mobility.charging` events. A session starts on the payer's channel with the
tariff version current at its start; each meter reading re-prices it, and the channel's
owed-versus-paid decides whether to keep asking for vouchers, limit power or stop
(`credit.decide`). Vouchers arrive from the driver's app through `submit_voucher`, are
checked (`vouchers.ChannelCredit.accept`) and are on disk before they are acknowledged. A
session that ends with a shortfall is followed by a request for its final bill, and a voucher
that pays earlier debt pays off the channel's unpaid sessions, oldest first (`debt`).

Work for one channel is serialised by a lock, so a voucher and a reading never interleave.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from mobility.charging.authorization import AuthorizationResult, AuthorizationStatus
from mobility.charging.events import ChargingEvent, MeterReading, SessionEnded, SessionStarted
from mobility.clock import Clock, utc_now
from mobility.group_commit import GroupCommit
from mobility.ledger.codec import VoucherPayload
from mobility.payments.accounts import app_id_token
from mobility.payments.commands import SessionCommands
from mobility.payments.credit import Action, CreditPolicy, Decision, Enforcement, StopReason, decide
from mobility.payments.credit import default_window as window_for_price
from mobility.payments.delivery import ChargerOutbox, Delivery
from mobility.payments.models import ChannelRecord, SessionPaymentRecord
from mobility.payments.pricing import MeterSample, price_session
from mobility.payments.store import PaymentStore, StaleVoucherError
from mobility.payments.tariff import Dimension, Tariff
from mobility.payments.vouchers import VoucherRejectedError

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """Sent to the payer's app: sign a voucher for `amount` (cumulative on the channel)."""

    channel_id: str
    session_ids: tuple[int, ...]
    amount: int
    owed: int
    paid: int
    action: Action
    reason: StopReason | None


RequestSubscriber = Callable[[PaymentRequest], Awaitable[None]]
ReadingsLoader = Callable[[int], list[MeterSample]]
TariffFor = Callable[[str], str | Awaitable[str]]
"""The tariff ID a charge point charges with; async when it has to read the database."""


@dataclass(frozen=True, slots=True)
class PaymentSettings:
    """Knobs of enforcement; `fallback_window` serves tariffs without an energy price.
    `pin_lifetime` bounds how long a remote start's channel pin authorizes (see `pin_channel`)."""

    limit_after: timedelta = timedelta(seconds=30)
    stop_after: timedelta = timedelta(seconds=120)
    limited_power_w: int = 3_700
    fallback_window: int = 500_000
    expiry_margin: timedelta = timedelta(hours=1)
    command_retry_delays: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
    pin_lifetime: timedelta = timedelta(minutes=15)


def flat_fee(tariff: Tariff) -> int:
    """The tariff's first flat fee, VAT included (rounded up): owed from the first reading."""
    return next(
        (
            -(-component.price * (10_000 + component.vat_bp) // 10_000)
            for element in tariff.elements
            for component in element.price_components
            if component.type == Dimension.FLAT
        ),
        0,
    )


def credit_window(tariff: Tariff, fallback: int) -> int:
    """The cost of 0.5 kWh at the tariff's first energy price (VAT included), plus its first flat
    fee: a flat fee is owed from the first reading, so a window without it would find the credit
    gone there and stop every session of a flat + energy tariff at once."""
    flat = flat_fee(tariff)
    for element in tariff.elements:
        for component in element.price_components:
            if component.type == Dimension.ENERGY and component.price > 0:
                return window_for_price(component.price, component.vat_bp) + flat
    return fallback + flat


class PaymentService:
    """Prices sessions as they run, keeps payers ahead of the meter, and enforces."""

    def __init__(
        self,
        store: PaymentStore,
        commands: SessionCommands,
        tariff_for: TariffFor,
        settings: PaymentSettings | None = None,
        readings_loader: ReadingsLoader | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.commands = commands
        self.tariff_for = tariff_for
        self.settings = settings or PaymentSettings()
        self.readings_loader = readings_loader
        self.clock = clock
        self._samples: dict[int, list[MeterSample]] = {}
        self._tariffs: dict[tuple[str, int], Tariff] = {}
        self._enforcement: dict[str, Enforcement] = {}
        self._limited: set[int] = set()
        self._stopped: set[int] = set()
        # Commands go out from a task per charge point, in order: a charger's message that
        # triggered one is answered without waiting for the charger to answer the command.
        self._outbox = ChargerOutbox(self.settings.command_retry_delays)
        self._locks: dict[str, asyncio.Lock] = {}
        self._subscribers: list[RequestSubscriber] = []
        self._vouchers = GroupCommit(store.apply_vouchers)
        # Vouchers by outcome ("accepted" or the rejection reason), for the metrics endpoint.
        self.voucher_outcomes: Counter[str] = Counter()
        # Channels with a running session seen by this process: only those need enforcing when
        # a voucher arrives (after a restart, the next reading of a session re-adds it).
        self._running: dict[str, set[int]] = {}
        self._accepted: set[int] = set()  # sessions this process took on for payment

    def subscribe(self, subscriber: RequestSubscriber) -> None:
        """Receive every payment request (the driver API streams them to apps)."""
        self._subscribers.append(subscriber)

    def _lock(self, channel_id: str) -> asyncio.Lock:
        return self._locks.setdefault(channel_id, asyncio.Lock())

    async def _tariff(self, tariff_id: str, version: int | None = None) -> Tariff | None:
        if version is not None and (tariff_id, version) in self._tariffs:
            return self._tariffs[(tariff_id, version)]
        tariff = await asyncio.to_thread(self.store.tariff, tariff_id, version)
        if tariff is not None:
            self._tariffs[(tariff.id, tariff.version)] = tariff
        return tariff

    # Authorization -----------------------------------------------------------------------

    async def _choose_channel(
        self, charge_point_id: str, id_token: str, refuse_debt: bool = True
    ) -> tuple[ChannelRecord | None, Tariff | None, str | None]:
        """The payer's pinned channel, else the one with the most to spend, if it covers a credit
        window here."""
        account = await asyncio.to_thread(self.store.account_for_token, id_token)
        if account is None:
            return None, None, "unknown id token"
        pinned = await self._pinned(charge_point_id, id_token)
        if pinned is None and id_token.upper() == app_id_token(account.id):
            # Derived from the account ID, so anyone can compute it: it pays only for the
            # driver's own remote start at this charge point.
            return None, None, "an app token without a remote start here"
        return await self._channel_for(charge_point_id, account.id, pinned, refuse_debt)

    async def _channel_for(
        self, charge_point_id: str, account_id: str, only: str | None = None, refuse_debt: bool = True
    ) -> tuple[ChannelRecord | None, Tariff | None, str | None]:
        """The channel a session would pay from, or why there is none. With `refuse_debt` (asking
        whether a session may start) a channel that earlier sessions left unpaid, or without a
        credit window of deposit left, is refused; without it (a session already started, e.g.
        offline) the session is still billed to the payer's best channel, so no energy goes
        unbilled, and enforcement stops it there."""
        tariff_id = self.tariff_for(charge_point_id)
        if not isinstance(tariff_id, str):
            tariff_id = await tariff_id
        tariff = await self._tariff(tariff_id)
        if tariff is None:
            return None, None, f"no tariff for charge point {charge_point_id}"
        window = credit_window(tariff, self.settings.fallback_window)
        horizon = self.clock() + self.settings.expiry_margin
        best: tuple[int, ChannelRecord] | None = None
        debt = 0
        for channel in await asyncio.to_thread(self.store.channels_of, account_id):
            if channel.expiry <= horizon or (only is not None and channel.channel_id != only):
                continue
            owed = await asyncio.to_thread(self.store.owed_on_channel, channel.channel_id)
            if refuse_debt:
                # Ended sessions left unpaid: a new one would start exposed. (A running session
                # that lags is enforcement's business, not a reason to refuse another.)
                ended = await asyncio.to_thread(self.store.ended_totals, channel.channel_id)
                if ended.billed > channel.paid:
                    debt = max(debt, ended.billed - channel.paid)
                    continue
            available = channel.deposit - max(owed, channel.paid)
            if best is None or available > best[0]:
                best = (available, channel)
        if best is None and debt:
            return None, tariff, f"{debt} micro-units unpaid from earlier sessions: pay them first"
        if best is None:
            return None, tariff, "no open channel to this operator"
        if best[0] < window and refuse_debt:
            return None, tariff, f"channel deposit too low: {best[0]} left, a session needs {window}"
        return best[1], tariff, None

    async def check_channel(self, charge_point_id: str, account_id: str, channel_id: str) -> str | None:
        """Why a session of `account_id` at `charge_point_id` on `channel_id` would be refused
        (the rule `authorize` applies), or None: lets the driver API refuse before a remote start."""
        _, _, reason = await self._channel_for(charge_point_id, account_id, channel_id)
        return reason

    async def pin_channel(self, charge_point_id: str, id_token: str, channel_id: str | None) -> None:
        """Make the next session of `id_token` at `charge_point_id` pay from `channel_id` (None
        unpins); for an app token, the pin is what lets it start a session there at all.

        Committed to the database before it returns, so a pin written before a RemoteStart
        command survives an engine restart before the charger's start arrives; the database is
        its only copy, so every engine process sharing it sees the same pins. A pin authorizes
        for `settings.pin_lifetime` only: a remote start the charger never began (no car came,
        the answer was lost) cannot keep an app token authorized there forever.
        """
        if channel_id is None:
            await asyncio.to_thread(self.store.unpin_remote_start, charge_point_id, id_token)
            return
        now = self.clock()
        await asyncio.to_thread(
            self.store.pin_remote_start,
            charge_point_id,
            id_token,
            channel_id,
            now,
            now - self.settings.pin_lifetime,
        )

    async def _pinned(self, charge_point_id: str, id_token: str) -> str | None:
        """The channel pinned for `id_token` at `charge_point_id`, unless the pin has expired."""
        pin = await asyncio.to_thread(self.store.remote_start_pin, charge_point_id, id_token)
        if pin is None or pin.created_at <= self.clock() - self.settings.pin_lifetime:
            return None
        return pin.channel_id

    async def authorize_session(
        self, session_id: int, charge_point_id: str, id_token: str
    ) -> AuthorizationResult:
        """Whether `id_token` may go on charging in a session that has already started: Accepted
        when this payment layer took that session on (2.x asks again in the TransactionEvent
        that started it, after its app-token pin was used up), else the rule for a new one."""
        if session_id in self._accepted and session_id not in self._stopped:
            return AuthorizationResult(AuthorizationStatus.ACCEPTED)
        return await self.authorize(charge_point_id, id_token)

    async def authorize(self, charge_point_id: str, id_token: str) -> AuthorizationResult:
        """Accepted when the token's account has a channel with a credit window to spare."""
        channel, _, reason = await self._choose_channel(charge_point_id, id_token)
        if channel is not None:
            return AuthorizationResult(AuthorizationStatus.ACCEPTED)
        status = AuthorizationStatus.INVALID if reason == "unknown id token" else AuthorizationStatus.BLOCKED
        return AuthorizationResult(status, reason)

    # Charging events ---------------------------------------------------------------------

    async def handle(self, event: ChargingEvent) -> None:
        """The charging subscriber: start, re-price, finish."""
        if isinstance(event, SessionStarted):
            await self._started(event)
        elif isinstance(event, MeterReading) and event.session_id is not None and event.energy_wh is not None:
            await self._reading(event.session_id, MeterSample(event.at, event.energy_wh))
        elif isinstance(event, SessionEnded):
            await self._ended(event)

    async def _started(self, event: SessionStarted) -> None:
        channel, tariff, reason = (
            await self._choose_channel(event.charge_point_id, event.id_token, refuse_debt=False)
            if event.id_token
            else (None, None, "no id token")
        )
        if event.id_token:
            await self.pin_channel(event.charge_point_id, event.id_token, None)  # used up by this session
        if channel is None or tariff is None:
            LOGGER.warning("session %s has no payment (%s): stopping it", event.session_id, reason)
            self._stop(event.session_id, event.charge_point_id, event.transaction_ref)
            return
        record = SessionPaymentRecord(
            session_id=event.session_id,
            charge_point_id=event.charge_point_id,
            connector_id=event.connector_id,
            transaction_ref=event.transaction_ref,
            channel_id=channel.channel_id,
            tariff_id=tariff.id,
            tariff_version=tariff.version,
            started_at=event.at,
        )
        await asyncio.to_thread(self.store.start_session, record)
        self._samples.setdefault(event.session_id, [])
        self._accepted.add(event.session_id)
        if channel.channel_id not in self._running:
            # The first session running on the channel: what happened to earlier ones (a stop,
            # a limit, a lag) is not held against it.
            self._enforcement.pop(channel.channel_id, None)
        self._running.setdefault(channel.channel_id, set()).add(event.session_id)
        await self._evaluate(channel.channel_id, event.at)

    async def _session_samples(self, session_id: int) -> list[MeterSample]:
        if session_id not in self._samples:
            loaded = self.readings_loader(session_id) if self.readings_loader is not None else []
            self._samples[session_id] = sorted(loaded, key=lambda s: s.at)
        return self._samples[session_id]

    async def _price(self, record: SessionPaymentRecord, ended_at: datetime | None = None) -> tuple[int, int]:
        tariff = await self._tariff(record.tariff_id, record.tariff_version)
        if tariff is None:
            raise LookupError(f"tariff {record.tariff_id} v{record.tariff_version} is gone")
        cost = price_session(
            tariff, record.started_at, await self._session_samples(record.session_id), ended_at
        )
        return cost.total_incl_vat, cost.energy_wh

    async def _reading(self, session_id: int, sample: MeterSample) -> None:
        record = await asyncio.to_thread(self.store.session, session_id)
        if record is None or record.status != "active":
            return
        self._running.setdefault(record.channel_id, set()).add(session_id)
        samples = await self._session_samples(session_id)
        if samples and sample.at <= samples[-1].at:
            if sample.energy_wh <= samples[-1].energy_wh:
                return  # a duplicate or an older reading: already priced
            samples[-1] = MeterSample(samples[-1].at, sample.energy_wh)
        else:
            samples.append(sample)
        async with self._lock(record.channel_id):
            billed, energy = await self._price(record)
            await asyncio.to_thread(self.store.update_session, session_id, billed=billed, energy_wh=energy)
        await self._evaluate(record.channel_id, sample.at)

    async def _ended(self, event: SessionEnded) -> None:
        self._accepted.discard(event.session_id)
        # A stop or a cap still on its way to the charger is no longer wanted.
        self._stopped.discard(event.session_id)
        self._limited.discard(event.session_id)
        record = await asyncio.to_thread(self.store.session, event.session_id)
        if record is None or record.status != "active":
            return
        samples = await self._session_samples(event.session_id)
        if not samples or samples[-1].energy_wh < event.energy_wh:
            samples.append(
                MeterSample(max(event.at, samples[-1].at if samples else event.at), event.energy_wh)
            )
        async with self._lock(record.channel_id):
            billed, energy = await self._price(
                record, ended_at=max(event.at, samples[-1].at if samples else event.at)
            )
            # The channel's paid total covers its ended sessions, oldest first: this one takes
            # what the earlier ones' bills leave of it, and running sessions are left out (their
            # turn comes when they end). No unpaid micro-unit counts twice.
            shortfall = await asyncio.to_thread(
                self.store.end_session, record.channel_id, event.session_id, billed, energy, event.at
            )
        self._samples.pop(event.session_id, None)
        running = self._running.get(record.channel_id, set())
        running.discard(event.session_id)
        if not running:
            self._running.pop(record.channel_id, None)
            self._enforcement.pop(record.channel_id, None)
        if shortfall:
            await self._ask_for_final_bill(record.channel_id, event.session_id)

    async def _ask_for_final_bill(self, channel_id: str, session_id: int) -> None:
        """Ask the payer for what a session left unpaid when it ended (a charger that reports
        energy only at the stop, or whose last reading jumps): nobody asks otherwise, as no
        reading follows the end. The amount is cumulative, so it is all that is billed on the
        channel: paying it pays off the channel's debt, oldest session first."""
        seen = await asyncio.to_thread(self.store.channel_state, channel_id)
        if seen.channel is None:
            return
        await self._publish(
            PaymentRequest(
                channel_id, (session_id,), seen.owed, seen.owed, seen.channel.paid, Action.CONTINUE, None
            )
        )

    # Vouchers ----------------------------------------------------------------------------

    async def submit_voucher(self, payload: VoucherPayload) -> int:
        """Check and store a voucher; the channel's new paid total, or VoucherRejectedError.

        Vouchers arriving together are verified as a batch and stored in one transaction; each
        is acknowledged only after that commit.
        """
        for _ in range(3):
            try:
                result = await self._vouchers.submit(payload)
                break
            except StaleVoucherError:
                continue  # another engine process stored a voucher for the channel first
        else:
            raise RuntimeError(f"channel {payload.voucher.channel_id.hex()} kept changing under a voucher")
        if isinstance(result, VoucherRejectedError):
            self.voucher_outcomes[result.reason.value] += 1
            raise result
        self.voucher_outcomes["accepted"] += 1
        if payload.voucher.channel_id.hex() in self._running:
            await self._evaluate(payload.voucher.channel_id.hex(), self.clock())
        return result

    # Enforcement -------------------------------------------------------------------------

    async def _evaluate(self, channel_id: str, now: datetime) -> Decision | None:
        async with self._lock(channel_id):
            seen = await asyncio.to_thread(self.store.channel_state, channel_id)
            channel, active, owed = seen.channel, seen.active, seen.owed
            if channel is None or not active:
                return None
            window, fixed = 0, 0
            for session in active:
                tariff = await self._tariff(session.tariff_id, session.tariff_version)
                if tariff is not None:
                    window += credit_window(tariff, self.settings.fallback_window)
                    fixed += flat_fee(tariff)
            policy = CreditPolicy(
                window=max(window, 1),
                fixed=min(fixed, max(window, 1) - 1),
                limit_after=self.settings.limit_after,
                stop_after=self.settings.stop_after,
                limited_power_w=self.settings.limited_power_w,
            )
            state, decision = decide(
                policy,
                self._enforcement.get(channel_id, Enforcement()),
                now=now,
                owed=owed,
                paid=channel.paid,
                deposit=channel.deposit,
            )
            self._enforcement[channel_id] = state
            # Under the channel's lock: two evaluations at one instant (a reading and a voucher)
            # enforce in the order they decided, or a cap could land after the lift that followed it.
            await self._enforce(decision, active)
        request = PaymentRequest(
            channel_id,
            tuple(s.session_id for s in active),
            decision.request_amount,
            owed,
            channel.paid,
            decision.action,
            decision.reason,
        )
        await self._publish(request)
        return decision

    async def _publish(self, request: PaymentRequest) -> None:
        for subscriber in self._subscribers:
            try:
                await subscriber(request)
            except Exception:
                LOGGER.exception("payment request subscriber failed")

    async def _enforce(self, decision: Decision, active: list[SessionPaymentRecord]) -> None:
        """Queue the commands the decision calls for, then record it on the sessions (a failed
        write must not keep a decided cap or stop from reaching the charger)."""
        for session in active:
            charge_point_id, connector_id, transaction_ref = (
                session.charge_point_id,
                session.connector_id,
                session.transaction_ref,
            )
            if decision.action == Action.STOP and session.session_id not in self._stopped:
                self._stop(session.session_id, charge_point_id, transaction_ref)
                await asyncio.to_thread(
                    self.store.update_session, session.session_id, enforcement=f"stop:{decision.reason}"
                )
            elif decision.action == Action.LIMIT and session.session_id not in self._limited:
                self._limited.add(session.session_id)
                watts = self.settings.limited_power_w
                self._outbox.put(
                    Delivery(
                        charge_point_id,
                        f"power cap of session {session.session_id}",
                        partial(
                            self.commands.limit_power, charge_point_id, connector_id, transaction_ref, watts
                        ),
                        partial(self._limited.__contains__, session.session_id),
                    )
                )
                await asyncio.to_thread(self.store.update_session, session.session_id, enforcement="limit")
            elif decision.action == Action.CONTINUE and session.session_id in self._limited:
                self._limited.discard(session.session_id)
                self._outbox.put(
                    Delivery(
                        charge_point_id,
                        f"lifting the power cap of session {session.session_id}",
                        partial(self.commands.clear_limit, charge_point_id, connector_id, transaction_ref),
                        partial(_absent, self._limited, session.session_id),
                    )
                )
                await asyncio.to_thread(self.store.update_session, session.session_id, enforcement=None)

    def _stop(self, session_id: int, charge_point_id: str, transaction_ref: str) -> None:
        """Stop a session remotely, retried until the charger takes it or the session ends."""
        self._stopped.add(session_id)
        self._outbox.put(
            Delivery(
                charge_point_id,
                f"stop of session {session_id}",
                partial(self.commands.stop, charge_point_id, transaction_ref),
                partial(self._stopped.__contains__, session_id),
            )
        )

    async def commands_sent(self) -> None:
        """Wait until every command decided so far was carried out (or given up on)."""
        await self._outbox.idle()


def _absent(items: set[int], item: int) -> bool:
    return item not in items
