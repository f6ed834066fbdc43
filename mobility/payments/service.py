"""The payment layer at work: every charging event priced, credited and enforced.

It takes `mobility.charging` events. A session starts on the payer's channel with the tariff
version current at its start; each meter reading re-prices it, and the channel's owed-versus-
paid decides whether to keep asking for vouchers, limit power or stop (`credit.decide`).
Vouchers arrive from the payer's app through `submit_voucher`, are checked
(`vouchers.ChannelCredit.accept`) and are on disk before they are acknowledged.

Each channel has one owner (`owner.ChannelOwner`) holding its state in memory and one mailbox
applying its events in order; this service routes events to owners, chooses the channel a new
session pays from, and carries out what owners decide (writes, commands, payment requests).
`post` hands an event over without waiting for it, so a charger is answered once its event
is stored, and pricing and enforcement follow.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from mobility.charging.authorization import AuthorizationResult, AuthorizationStatus
from mobility.charging.events import ChargingEvent, MeterReading, SessionEnded, SessionStarted
from mobility.clock import Clock, utc_now
from mobility.journal import FunctionBatch, Journal
from mobility.payments.accounts import app_id_token
from mobility.payments.commands import SessionCommands
from mobility.payments.credit import Action, CreditPolicy, StopReason
from mobility.payments.credit import default_window as window_for_price
from mobility.payments.delivery import ChargerOutbox, Delivery
from mobility.payments.mailbox import Mailbox, all_idle
from mobility.payments.models import SessionPaymentRecord
from mobility.payments.owner import ChannelOwner, PaymentRequest, RunningSession, SessionUpdate
from mobility.payments.pricing import MeterSample, session_total
from mobility.payments.store import PaymentStore, StaleVoucherError, VoucherWrite
from mobility.payments.tariff import Dimension, Tariff
from mobility.payments.vouchers import ChannelCredit, VoucherRejectedError, VoucherRejection
from mobility.wire.codec import VoucherPayload

LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

RequestSubscriber = Callable[[PaymentRequest], Awaitable[None]]
UpdateSubscriber = Callable[[SessionUpdate], None]
ReadingsLoader = Callable[[int], list[MeterSample]]
EndsLoader = Callable[[list[int]], dict[int, tuple[int, datetime]]]
"""(final energy Wh, end time) of those sessions the charging side has ended."""
TariffFor = Callable[[str], str | Awaitable[str]]
"""The tariff ID a charge point charges with; async when it has to read the database."""
SessionFlagger = Callable[[int, str], None]
"""Flags a charging session with a reason, without waiting (`ChargingService.flag_session`)."""


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
    idle_owner_after: timedelta = timedelta(minutes=10)


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
        journal: Journal | None = None,
        ends_loader: EndsLoader | None = None,
        flag_session: SessionFlagger | None = None,
    ) -> None:
        self.store = store
        self.flag_session = flag_session
        self.ends_loader = ends_loader
        self.commands = commands
        self.tariff_for = tariff_for
        self.settings = settings or PaymentSettings()
        self.readings_loader = readings_loader
        self.clock = clock
        # Whether a source that never bills (an operator token, the allow-list) accepts a token
        # at a charge point: such sessions are not the payment layer's to bill or stop (the
        # engine's `AuthorizationOrder.unbilled`; None: every session must pay).
        self.unbilled: Callable[[str, str], Awaitable[bool]] | None = None
        self._tariffs: dict[tuple[str, int], Tariff] = {}
        self._owners: dict[str, ChannelOwner] = {}
        self._loading: dict[str, asyncio.Future[ChannelOwner | None]] = {}
        self._mailboxes: dict[str, Mailbox] = {}
        self._last_used: dict[str, datetime] = {}  # by channel: when its owner was last asked for
        # Which channel a session pays from; None: it pays from none (refused, or no payment).
        self._session_channels: dict[int, str | None] = {}
        self._refused: set[int] = set()  # sessions with no channel, stopped at their start
        # Commands go out from a task per charge point, in order: a charger's message that
        # triggered one is answered without waiting for the charger to answer the command.
        self._outbox = ChargerOutbox(self.settings.command_retry_delays)
        self._subscribers: list[RequestSubscriber] = []
        self._update_subscribers: list[UpdateSubscriber] = []
        # Session rows and vouchers of all channels are written in shared transactions, with the
        # charger events pending (the engine's journal).
        self.journal = journal or Journal(store.engine)
        self._sessions = FunctionBatch("payment_sessions", store.write_sessions)
        self._vouchers = FunctionBatch("vouchers", store.write_vouchers)
        self._shortfalls = FunctionBatch("shortfalls", store.write_shortfalls)
        # Vouchers by outcome ("accepted" or the rejection reason), for the metrics endpoint.
        self.voucher_outcomes: Counter[str] = Counter()

    def subscribe(self, subscriber: RequestSubscriber) -> None:
        """Receive every payment request (the driver API streams them to apps)."""
        self._subscribers.append(subscriber)

    def subscribe_updates(self, subscriber: UpdateSubscriber) -> None:
        """Receive each session's state after every event applied to it (the payer stream)."""
        self._update_subscribers.append(subscriber)

    async def _tariff(self, tariff_id: str, version: int | None = None) -> Tariff | None:
        if version is not None and (tariff_id, version) in self._tariffs:
            return self._tariffs[(tariff_id, version)]
        tariff = await asyncio.to_thread(self.store.tariff, tariff_id, version)
        if tariff is not None:
            self._tariffs[(tariff.id, tariff.version)] = tariff
        return tariff

    # Owners ------------------------------------------------------------------------------

    async def _owner(self, channel_id: str) -> ChannelOwner | None:
        """The channel's owner, loaded from the database on first use (None: no such channel)."""
        self._last_used[channel_id] = self.clock()
        owner = self._owners.get(channel_id)
        if owner is not None:
            return owner
        loading = self._loading.get(channel_id)
        if loading is None:
            loading = asyncio.get_running_loop().create_future()
            self._loading[channel_id] = loading
            try:
                loaded = await self._load(channel_id)
            except BaseException as error:
                loading.set_exception(error)
                loading.exception()
                raise
            else:
                loading.set_result(loaded)
            finally:
                del self._loading[channel_id]
            if loaded is not None:
                self._owners[channel_id] = loaded
                await self._catch_up(loaded)
            return loaded
        return await asyncio.shield(loading)

    async def _load(self, channel_id: str) -> ChannelOwner | None:
        book = await asyncio.to_thread(self.store.channel_book, channel_id)
        if book is None:
            return None
        running = []
        for record in book.running:
            session = await self._running_session(record)
            if self.readings_loader is not None:
                loaded = await asyncio.to_thread(self.readings_loader, record.session_id)
                session.samples = sorted(loaded, key=lambda sample: sample.at)
            running.append(session)
            self._session_channels[record.session_id] = channel_id
        effects = _Effects(self, channel_id)
        return ChannelOwner(book.channel, book.credit, book.ended_billed, book.unpaid, running, effects)

    async def recover(self) -> None:
        """Load the owners of channels with sessions recorded as running, so that what a crash
        left undone on them is caught up now rather than at their next event."""
        for channel_id in await asyncio.to_thread(self.store.channels_with_running_sessions):
            await self._post(channel_id, _nothing_for)
        await self.idle()

    async def _catch_up(self, owner: ChannelOwner) -> None:
        """What a crash or a stop may have left undone on a loaded channel, queued first: sessions
        the charging side ended (their end was acknowledged to the charger, then lost before the
        owner applied it) are ended, a stored voucher's payment of debt is attributed, and the
        running sessions are priced on their stored readings (a price is written without waiting)."""
        self._mailbox(owner.channel_id).post(owner.reprice)
        running = list(owner.running)
        ended = await asyncio.to_thread(self.ends_loader, running) if self.ends_loader and running else {}
        for session_id, (energy, at) in sorted(ended.items(), key=lambda item: (item[1][1], item[0])):
            LOGGER.info("session %s ended while its channel was not loaded: billing its end", session_id)
            self._mailbox(owner.channel_id).post(partial(owner.end, session_id, energy, at))
        if owner.debt != owner.unpaid_debt:
            self._mailbox(owner.channel_id).post(owner.settle_debt)

    async def _running_session(self, record: SessionPaymentRecord) -> RunningSession:
        tariff = await self._tariff(record.tariff_id, record.tariff_version)
        if tariff is None:
            raise LookupError(f"tariff {record.tariff_id} v{record.tariff_version} is gone")
        window = credit_window(tariff, self.settings.fallback_window)
        return RunningSession(record, tariff, [], window, flat_fee(tariff))

    def evict_idle_owners(self) -> int:
        """Drop the owners (and mailboxes) of channels with no running session, nothing queued
        and no event for `idle_owner_after`; how many. Their state is all in the database (every
        change is written through the journal, long committed by then), so a later event loads
        it again as after a restart, while an engine up for months kept one per channel it ever
        saw."""
        horizon = self.clock() - self.settings.idle_owner_after
        evicted = 0
        for channel_id, owner in list(self._owners.items()):
            mailbox = self._mailboxes.get(channel_id)
            if owner.running or (mailbox is not None and mailbox.pending) or channel_id in self._loading:
                continue
            if self._last_used.get(channel_id, horizon) > horizon:
                continue
            del self._owners[channel_id]
            self._mailboxes.pop(channel_id, None)
            self._last_used.pop(channel_id, None)
            evicted += 1
        return evicted

    @property
    def owners_in_memory(self) -> int:
        """How many channel owners are loaded now (tests and metrics)."""
        return len(self._owners)

    def _mailbox(self, channel_id: str) -> Mailbox:
        mailbox = self._mailboxes.get(channel_id)
        if mailbox is None:
            mailbox = self._mailboxes[channel_id] = Mailbox(f"channel {channel_id[:12]}")
        return mailbox

    def _post(self, channel_id: str, work: Callable[[ChannelOwner], Awaitable[T]]) -> asyncio.Future[T]:
        """Queue work for the channel's owner (loaded first if need be)."""

        async def run() -> T:
            owner = await self._owner(channel_id)
            if owner is None:
                raise LookupError(f"no channel {channel_id}")
            return await work(owner)

        return self._mailbox(channel_id).post(run)

    async def idle(self) -> None:
        """Wait until every event posted so far was applied and its rows committed (tests and
        shutdown)."""
        await all_idle(self._mailboxes.values)
        await self.journal.flushed()

    # Authorization -----------------------------------------------------------------------

    async def _choose_channel(
        self, charge_point_id: str, id_token: str, refuse_debt: bool = True
    ) -> tuple[ChannelOwner | None, Tariff | None, str | None]:
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
    ) -> tuple[ChannelOwner | None, Tariff | None, str | None]:
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
        best: tuple[int, ChannelOwner] | None = None
        debt = 0
        for channel_id in await asyncio.to_thread(self.store.channel_ids_of, account_id):
            if only is not None and channel_id != only:
                continue
            owner = await self._owner(channel_id)
            if owner is None or owner.record.expiry <= horizon:
                continue
            if refuse_debt and owner.unpaid_debt:
                # Ended sessions left unpaid: a new one would start exposed. (A running session
                # that lags is enforcement's business, not a reason to refuse another.)
                debt = max(debt, owner.unpaid_debt)
                continue
            available = owner.credit.deposit - max(owner.owed, owner.paid)
            if best is None or available > best[0]:
                best = (available, owner)
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
        while a channel pays for it and has not stopped it (2.x asks again in the
        TransactionEvent that started it, after its app-token pin was used up), else the rule
        for a new one."""
        channel_id = await self._channel_of(session_id)  # (looked up after a restart)
        owner = await self._owner(channel_id) if channel_id is not None else None
        if owner is not None and session_id in owner.running and session_id not in owner.stopped:
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

    async def post(self, event: ChargingEvent) -> None:
        """Take a charging event without waiting for it to be applied (the engine's subscriber):
        a session's start is decided before this returns (its answer says whether it may
        charge), readings and ends are queued on their channel's owner."""
        if isinstance(event, SessionStarted):
            await self._started(event)
        elif isinstance(event, MeterReading | SessionEnded):
            await self._route(event)

    async def handle(self, event: ChargingEvent) -> None:
        """Take a charging event and wait until its channel's owner applied it and what it wrote
        is committed."""
        if isinstance(event, SessionStarted):
            await self._started(event)
        elif isinstance(event, MeterReading | SessionEnded):
            applied = await self._route(event)
            if applied is not None:
                await applied
        await self.journal.flushed()

    async def _route(self, event: MeterReading | SessionEnded) -> asyncio.Future[None] | None:
        session_id = event.session_id
        if session_id is None:
            return None
        channel_id = await self._channel_of(session_id)
        if isinstance(event, SessionEnded):
            self._refused.discard(session_id)  # a stop still on its way is no longer wanted
            self._session_channels.pop(session_id, None)
        if channel_id is None:
            return None
        if isinstance(event, MeterReading):
            if event.energy_wh is None:
                return None
            sample = MeterSample(event.at, event.energy_wh)
            return self._post(channel_id, lambda owner: owner.reading(session_id, sample))
        energy, at = event.energy_wh, event.at
        return self._post(channel_id, lambda owner: owner.end(session_id, energy, at))

    async def _channel_of(self, session_id: int) -> str | None:
        """The channel a running session pays from; looked up once (after a restart, or for a
        session this process never saw start) and remembered."""
        if session_id not in self._session_channels:
            record = await asyncio.to_thread(self.store.session, session_id)
            if record is None:
                return None  # not remembered: its start may still come
            self._session_channels[session_id] = record.channel_id if record.status == "active" else None
        return self._session_channels[session_id]

    async def _started(self, event: SessionStarted) -> None:
        if event.session_id in self._session_channels or await self._channel_of(event.session_id):
            return  # a replayed start: the session already pays (or was refused)
        if (
            event.id_token
            and self.unbilled is not None
            and await self.unbilled(event.charge_point_id, event.id_token)
        ):
            LOGGER.info(
                "session %s is accepted without payment (operator token or allow-list)", event.session_id
            )
            self._session_channels[event.session_id] = None
            return
        owner, tariff, reason = (
            await self._choose_channel(event.charge_point_id, event.id_token, refuse_debt=False)
            if event.id_token
            else (None, None, "no id token")
        )
        if event.id_token:
            await self.pin_channel(event.charge_point_id, event.id_token, None)  # used up by this session
        if owner is None or tariff is None:
            LOGGER.warning("session %s has no payment (%s): stopping it", event.session_id, reason)
            self._session_channels[event.session_id] = None
            self._refused.add(event.session_id)
            self._outbox.put(
                Delivery(
                    event.charge_point_id,
                    f"stop of session {event.session_id}",
                    partial(self.commands.stop, event.charge_point_id, event.transaction_ref),
                    partial(self._refused.__contains__, event.session_id),
                )
            )
            return
        record = SessionPaymentRecord(
            session_id=event.session_id,
            charge_point_id=event.charge_point_id,
            connector_id=event.connector_id,
            transaction_ref=event.transaction_ref,
            channel_id=owner.channel_id,
            tariff_id=tariff.id,
            tariff_version=tariff.version,
            started_at=event.at,
        )
        self._tariffs[(tariff.id, tariff.version)] = tariff
        session = await self._running_session(record)
        self._session_channels[event.session_id] = owner.channel_id
        at = event.at
        await self._post(owner.channel_id, lambda o: o.start(session, at))

    # Channel changes from outside -----------------------------------------------------------

    async def channel_terms(self, channel_id: str, deposit: int, expiry: datetime) -> None:
        """A top-up or later expiry read from the ledger: stored, then taken by the owner."""
        await asyncio.to_thread(self.store.update_channel_terms, channel_id, deposit, expiry)

        async def apply(owner: ChannelOwner) -> None:
            owner.terms(deposit, expiry)

        await self._post(channel_id, apply)

    async def claim_confirmed(self, channel_id: str, amount: int) -> None:
        """The settlement layer confirmed a claim of `amount` (cumulative) on the channel."""

        async def apply(owner: ChannelOwner) -> None:
            owner.claimed(amount)

        await self._post(channel_id, apply)

    # Vouchers ----------------------------------------------------------------------------

    async def submit_voucher(self, payload: VoucherPayload) -> int:
        """Check and store a voucher; the channel's new paid total, or VoucherRejectedError.

        The channel's owner applies it in order with the channel's other events; vouchers of
        many channels arriving together are verified as a batch and stored in one transaction;
        each is acknowledged only after that commit.
        """
        channel_id = payload.voucher.channel_id.hex()
        if channel_id not in self._owners and await self._owner(channel_id) is None:
            result: int | VoucherRejectedError = VoucherRejectedError(
                VoucherRejection.WRONG_CHANNEL, "no such channel here"
            )
        else:
            now = self.clock()
            result = await self._post(channel_id, lambda owner: owner.voucher(payload, now))
        if isinstance(result, VoucherRejectedError):
            self.voucher_outcomes[result.reason.value] += 1
            raise result
        self.voucher_outcomes["accepted"] += 1
        return result

    async def _store_voucher(
        self, owner: ChannelOwner, payload: VoucherPayload
    ) -> ChannelCredit | VoucherRejectedError:
        for _ in range(3):
            try:
                return await self.journal.write(self._vouchers, VoucherWrite(owner.credit, payload))
            except StaleVoucherError:
                # Another engine process stored a voucher for the channel first: re-read it.
                fresh = await asyncio.to_thread(self.store.channel_credit, owner.channel_id)
                if fresh is not None:
                    owner.credit = fresh
        raise RuntimeError(f"channel {owner.channel_id} kept changing under a voucher")

    # Enforcement -------------------------------------------------------------------------

    def _enforce(
        self, owner: ChannelOwner, record: SessionPaymentRecord, action: Action, reason: StopReason | None
    ) -> None:
        cp_id, connector_id, ref = record.charge_point_id, record.connector_id, record.transaction_ref
        session_id = record.session_id
        if action == Action.STOP:
            what, send = f"stop of session {session_id}", partial(self.commands.stop, cp_id, ref)
        elif action == Action.LIMIT:
            watts = self.settings.limited_power_w
            what = f"power cap of session {session_id}"
            send = partial(self.commands.limit_power, cp_id, connector_id, ref, watts)
        else:
            what = f"lifting the power cap of session {session_id}"
            send = partial(self.commands.clear_limit, cp_id, connector_id, ref)
        self._outbox.put(Delivery(cp_id, what, send, partial(owner.wants, session_id, action)))

    def _policy(self, window: int, fixed: int) -> CreditPolicy:
        return CreditPolicy(
            window=max(window, 1),
            fixed=min(fixed, max(window, 1) - 1),
            limit_after=self.settings.limit_after,
            stop_after=self.settings.stop_after,
            limited_power_w=self.settings.limited_power_w,
        )

    async def _publish(self, request: PaymentRequest) -> None:
        for subscriber in self._subscribers:
            try:
                await subscriber(request)
            except Exception:
                LOGGER.exception("payment request subscriber failed")

    def _updated(self, update: SessionUpdate) -> None:
        for subscriber in self._update_subscribers:
            try:
                subscriber(update)
            except Exception:
                LOGGER.exception("session update subscriber failed")

    async def commands_sent(self) -> None:
        """Wait until every event posted so far was applied and every command it decided was
        carried out (or given up on)."""
        await self.idle()
        await self._outbox.idle()


class _Effects:
    """What one owner asks of the service (`owner.OwnerEffects`)."""

    def __init__(self, service: PaymentService, channel_id: str) -> None:
        self._service = service
        self._channel_id = channel_id

    @property
    def _owner(self) -> ChannelOwner:
        return self._service._owners[self._channel_id]

    def price(self, session: RunningSession, ended_at: datetime | None) -> tuple[int, int]:
        record = session.record
        return session_total(session.tariff, record.started_at, session.samples, ended_at)

    def flag(self, session_id: int, reason: str) -> None:
        flagger = self._service.flag_session
        if flagger is not None:
            flagger(session_id, reason)

    def policy(self, window: int, fixed: int) -> CreditPolicy:
        return self._service._policy(window, fixed)

    async def save(self, record: SessionPaymentRecord, new: bool = False) -> None:
        service = self._service
        await service.journal.write(service._sessions, (record, new))

    def note(self, record: SessionPaymentRecord) -> None:
        service = self._service
        service.journal.append(service._sessions, (record, False))

    async def save_shortfalls(self, shortfalls: list[tuple[int, int]]) -> None:
        service = self._service
        await service.journal.write(service._shortfalls, shortfalls)

    async def store_voucher(self, payload: VoucherPayload) -> ChannelCredit | VoucherRejectedError:
        return await self._service._store_voucher(self._owner, payload)

    def enforce(self, session: SessionPaymentRecord, action: Action, reason: StopReason | None) -> None:
        self._service._enforce(self._owner, session, action, reason)

    async def publish(self, request: PaymentRequest) -> None:
        await self._service._publish(request)

    def updated(self, update: SessionUpdate) -> None:
        self._service._updated(update)


async def _nothing_for(_owner: ChannelOwner) -> None:
    return None


__all__ = [
    "PaymentRequest",
    "PaymentService",
    "PaymentSettings",
    "SessionUpdate",
    "credit_window",
    "flat_fee",
]
