"""One channel's payment state, and the only code that changes it.

A channel's owner holds in memory what enforcement decides on: the deposit, the best voucher
(paid), what is billed on the channel (ended sessions and the running ones, with their meter
samples), and the enforcement state. Every event for the channel (a session starting, a
reading, a session ending, a voucher, a top-up, a confirmed claim) is applied by its mailbox,
one at a time and in order, and written through to the database before the next. Nothing else
reads these rows to decide, and nothing else writes them, so there are no locks and no
re-reads: a reading costs one price and one write, a voucher one check and one write.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from mobility.limits import worst_case_bill
from mobility.payments.credit import Action, CreditPolicy, Decision, Enforcement, StopReason, decide
from mobility.payments.debt import attribute, newly_covered, still_owed
from mobility.payments.models import ChannelRecord, SessionPaymentRecord
from mobility.payments.pricing import MeterSample
from mobility.payments.tariff import Tariff
from mobility.payments.vouchers import ChannelCredit, VoucherRejectedError
from mobility.wire.codec import VoucherPayload

LOGGER = logging.getLogger(__name__)
MAX_BILL = worst_case_bill()
"""A bill above this cannot come from a tariff within the API's bounds (a version stored before
them): it is not billed, as it would not fit the database (see `ChannelOwner._priced`)."""
_TICK = timedelta(microseconds=1)


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


@dataclass(frozen=True, slots=True)
class SessionUpdate:
    """A session as its payer sees it after an event was applied (the payer stream sends it)."""

    event: str  # SessionStarted, MeterReading or SessionEnded
    account_id: str  # the channel's payer account: whose streams get it
    session: SessionPaymentRecord
    paid: int
    owed: int
    available: int
    at: datetime


@dataclass(slots=True)
class RunningSession:
    """A session being paid on the channel, with the samples its price is computed from."""

    record: SessionPaymentRecord
    tariff: Tariff
    samples: list[MeterSample] = field(default_factory=list)
    window: int = 0  # the credit window it needs (tariff's 0.5 kWh plus flat fee)
    fixed: int = 0  # the flat-fee part of that window


class OwnerEffects(Protocol):
    """What an owner needs from the service around it: pricing, writes, commands, fan-out."""

    def price(self, session: RunningSession, ended_at: datetime | None) -> tuple[int, int]:
        """(billed incl. VAT, energy Wh) of the session on its samples."""
        ...

    def flag(self, session_id: int, reason: str) -> None:
        """Flag the charging session for an operator's look (its bill is in doubt); written with
        the next journal batch, without waiting."""
        ...

    def policy(self, window: int, fixed: int) -> CreditPolicy:
        """The credit policy for a channel whose running sessions need `window` (`fixed` of it
        flat fees)."""
        ...

    async def save(self, record: SessionPaymentRecord, new: bool = False) -> None:
        """Write a session row (inserted when `new`) and wait until it is committed."""
        ...

    def note(self, record: SessionPaymentRecord) -> None:
        """Write a running session's new price without waiting for the commit (it is derived
        from readings that are durable already, and a loaded owner prices them again)."""
        ...

    async def save_shortfalls(self, shortfalls: list[tuple[int, int]]) -> None:
        """Write ended sessions' new shortfalls ((session ID, shortfall); 0 makes it paid)."""
        ...

    async def store_voucher(self, payload: VoucherPayload) -> ChannelCredit | VoucherRejectedError:
        """Check the voucher against the owner's credit and store it; the new credit or the
        rejection."""
        ...

    def enforce(self, session: SessionPaymentRecord, action: Action, reason: StopReason | None) -> None:
        """Queue the command that moves the session to `action` (cap, lift or stop)."""
        ...

    def publish(self, request: PaymentRequest) -> Awaitable[None]:
        """Send a payment request to the payer's subscribers."""
        ...

    def updated(self, update: SessionUpdate) -> None:
        """A session changed (for the payer's live stream)."""
        ...


class ChannelOwner:
    """The channel's book, changed only by the coroutines its mailbox runs (see module doc)."""

    def __init__(
        self,
        record: ChannelRecord,
        credit: ChannelCredit,
        ended_billed: int,
        ended_unpaid: list[tuple[int, int, datetime]],
        running: list[RunningSession],
        effects: OwnerEffects,
    ) -> None:
        self.record = record
        self.credit = credit
        self.ended_billed = ended_billed
        # Ended sessions with a shortfall, oldest first (by end, then ID): (session ID, shortfall),
        # and when each ended, to keep that order as ends arrive (a charger back from offline
        # reports an older end late).
        self.unpaid = [(session_id, shortfall) for session_id, shortfall, _ in ended_unpaid]
        self._ended_at = {session_id: at for session_id, _, at in ended_unpaid}
        self.running = {session.record.session_id: session for session in running}
        self.enforcement = Enforcement()
        # Caps and stops already decided (recorded on the rows: a loaded owner must lift a cap
        # set before a restart, and not accept a session it had stopped).
        self.limited = {s.record.session_id for s in running if s.record.enforcement == "limit"}
        self.stopped = {
            s.record.session_id for s in running if (s.record.enforcement or "").startswith("stop")
        }
        self.effects = effects
        self._flagged: set[int] = set()  # sessions whose pricing failed, flagged once each

    # Reads (from the event loop, between mailbox items: the state is always consistent) -------

    @property
    def channel_id(self) -> str:
        return self.record.channel_id

    @property
    def paid(self) -> int:
        return self.credit.paid

    @property
    def owed(self) -> int:
        """Billed on the channel so far: ended sessions and the running ones."""
        return self.ended_billed + sum(s.record.billed for s in self.running.values())

    @property
    def debt(self) -> int:
        """What ended sessions are recorded as leaving unpaid (their shortfalls)."""
        return sum(shortfall for _, shortfall in self.unpaid)

    @property
    def unpaid_debt(self) -> int:
        """What the vouchers leave unpaid of the ended sessions' bills (the truth the recorded
        shortfalls are brought to by `settle_debt`)."""
        return still_owed(self.ended_billed, self.paid)

    @property
    def available(self) -> int:
        """Deposit new sessions can draw on (the rule authorization uses)."""
        return max(self.credit.deposit - max(self.owed, self.paid), 0)

    # Events ---------------------------------------------------------------------------------

    async def start(self, session: RunningSession, at: datetime) -> None:
        """A session begins paying on this channel."""
        if not self.running:
            # The first session running on the channel: what happened to earlier ones (a stop,
            # a limit, a lag) is not held against it.
            self.enforcement = Enforcement()
        await self.effects.save(session.record, new=True)
        self.running[session.record.session_id] = session
        self._updated("SessionStarted", session.record, at)
        await self.evaluate(at)

    async def reading(self, session_id: int, sample: MeterSample) -> None:
        """Re-price a running session on a new reading; enforce."""
        session = self.running.get(session_id)
        if session is None:
            return
        samples = session.samples
        if samples and sample.at <= samples[-1].at:
            if sample.energy_wh <= samples[-1].energy_wh:
                return  # a duplicate or an older reading: already priced
            samples[-1] = MeterSample(samples[-1].at, sample.energy_wh)
        else:
            samples.append(sample)
        self._price(session)
        self._updated("MeterReading", session.record, sample.at)
        await self.evaluate(sample.at)

    async def reprice(self) -> None:
        """Bring the running sessions' bills up to their samples: a reading's price is written
        without waiting, so a crash may have lost the last one (run when the owner is loaded)."""
        for session in self.running.values():
            if session.samples:
                self._price(session)

    def _price(self, session: RunningSession) -> None:
        billed, energy = self._priced(session, None)
        if (billed, energy) != (session.record.billed, session.record.energy_wh):
            session.record = replace_record(session.record, billed=billed, energy_wh=energy)
            self.effects.note(session.record)

    def _priced(self, session: RunningSession, ended_at: datetime | None) -> tuple[int, int]:
        """(billed, energy Wh) of the session. No failure may keep a session from being billed
        and ending: readings that cannot be priced (one before the start, from a charger whose
        clock moved back) are priced as the straight line from the start to the last reading;
        a bill that cannot be made at all (a tariff stored before the API's bounds) stays as last
        priced. Either way the session is flagged for an operator, once."""
        try:
            return _bounded(self.effects.price(session, ended_at))
        except Exception as error:
            failure = f"{type(error).__name__}: {error}"[:150]
        last = session.samples[-1] if session.samples else None
        energy = last.energy_wh if last is not None else session.record.energy_wh
        try:
            at = max(last.at, session.record.started_at + _TICK) if last is not None else None
            line = dataclasses.replace(session, samples=[MeterSample(at, energy)] if at is not None else [])
            end = max(ended_at, at) if ended_at is not None and at is not None else ended_at
            priced = _bounded(self.effects.price(line, end))
            note = f"priced on its last reading only: {failure}"
        except Exception:
            priced = (session.record.billed, energy)
            note = f"not priced: {failure}"
        session_id = session.record.session_id
        if session_id not in self._flagged:
            self._flagged.add(session_id)
            LOGGER.error("session %s %s", session_id, note)
            self.effects.flag(session_id, note)
        return priced

    async def end(self, session_id: int, energy_wh: int, at: datetime) -> None:
        """Bill a session's final energy; what the vouchers leave unpaid is its shortfall, and
        the payer is asked for it at once (the final bill)."""
        self.limited.discard(session_id)
        self.stopped.discard(session_id)  # a stop still on its way is no longer wanted
        session = self.running.get(session_id)
        if session is None:
            return
        samples = session.samples
        last_at = samples[-1].at if samples else at
        if not samples or samples[-1].energy_wh < energy_wh:
            samples.append(MeterSample(max(at, last_at), energy_wh))
        billed, energy = self._priced(session, max(at, samples[-1].at))
        # The paid total covers ended sessions oldest first: earlier debt first, then this one.
        await self.settle_debt()
        shortfall = min(billed, still_owed(self.ended_billed + billed, self.paid))
        ended = replace_record(
            session.record,
            billed=billed,
            energy_wh=energy,
            ended_at=at,
            status="unpaid" if shortfall else "paid",
            shortfall=shortfall,
        )
        await self.effects.save(ended)
        del self.running[session_id]
        self.ended_billed += billed
        if shortfall:
            self._ended_at[session_id] = at
            order = [(self._ended_at[sid], sid) for sid, _ in self.unpaid]
            self.unpaid.insert(bisect.bisect(order, (at, session_id)), (session_id, shortfall))
        if not self.running:
            self.enforcement = Enforcement()
        self._updated("SessionEnded", ended, at)
        if shortfall:
            owed = self.owed
            request = PaymentRequest(
                self.channel_id, (session_id,), owed, owed, self.paid, Action.CONTINUE, None
            )
            await self.effects.publish(request)

    async def voucher(self, payload: VoucherPayload, now: datetime) -> int | VoucherRejectedError:
        """Check and store a voucher; the new paid total, or why it was refused. Debt of ended
        sessions is paid first, oldest first; then the running sessions are enforced."""
        result = await self.effects.store_voucher(payload)
        if isinstance(result, VoucherRejectedError):
            return result
        self.credit = result
        self.record.paid = result.paid
        await self.settle_debt()
        if self.running:
            await self.evaluate(now)
        return result.paid

    def terms(self, deposit: int, expiry: datetime) -> None:
        """A top-up or a later expiry, read from the ledger (the deposit never shrinks)."""
        if deposit >= self.credit.deposit:
            self.credit = self.credit.topped_up(deposit)
            self.record.deposit = deposit
            self.record.expiry = expiry

    def claimed(self, amount: int) -> None:
        """A claim of `amount` (cumulative) confirmed on the ledger."""
        if self.credit.claimed < amount <= self.credit.paid:
            self.credit = self.credit.claimed_up_to(amount)
            self.record.claimed = amount

    # Enforcement ----------------------------------------------------------------------------

    async def evaluate(self, now: datetime) -> Decision | None:
        """Decide continue, cap or stop for the running sessions; queue the commands; ask the
        payer for what the decision wants paid."""
        if not self.running:
            return None
        window = sum(s.window for s in self.running.values())
        fixed = sum(s.fixed for s in self.running.values())
        policy = self.effects.policy(window, fixed)
        owed = self.owed
        self.enforcement, decision = decide(
            policy, self.enforcement, now=now, owed=owed, paid=self.paid, deposit=self.credit.deposit
        )
        for session in list(self.running.values()):
            await self._enforce(decision, session.record)
        await self.effects.publish(
            PaymentRequest(
                self.channel_id,
                tuple(self.running),
                decision.request_amount,
                owed,
                self.paid,
                decision.action,
                decision.reason,
            )
        )
        return decision

    async def _enforce(self, decision: Decision, record: SessionPaymentRecord) -> None:
        """Queue the command the decision calls for, then record it on the session (a failed
        write must not keep a decided cap or stop from reaching the charger)."""
        session_id = record.session_id
        note: str | None
        if decision.action == Action.STOP and session_id not in self.stopped:
            self.stopped.add(session_id)
            note = f"stop:{decision.reason}"
        elif decision.action == Action.LIMIT and session_id not in self.limited:
            self.limited.add(session_id)
            note = "limit"
        elif decision.action == Action.CONTINUE and session_id in self.limited:
            self.limited.discard(session_id)
            note = None
        else:
            return
        self.effects.enforce(record, decision.action, decision.reason)
        changed = replace_record(record, enforcement=note)
        self.running[session_id].record = changed
        await self.effects.save(changed)

    def wants(self, session_id: int, action: Action) -> bool:
        """Whether a queued command for the session still matches the owner's decision."""
        if action == Action.STOP:
            return session_id in self.stopped
        if session_id in self.stopped or session_id not in self.running:
            return False  # a stop outranks a cap or its lift; an ended session needs neither
        if action == Action.LIMIT:
            return session_id in self.limited
        return session_id not in self.limited

    # Debt -----------------------------------------------------------------------------------

    async def settle_debt(self) -> None:
        """Pay ended sessions' shortfalls from the vouchers, oldest first (after a voucher, at an
        end, and after a load: a voucher may have been stored before a crash took this step)."""
        if not self.unpaid:
            return
        covered = newly_covered(self.ended_billed, self.paid, self.debt)
        remaining = attribute(self.unpaid, covered)
        old = dict(self.unpaid)
        changed = [(sid, short) for sid, short in remaining if short != old[sid]]
        if not changed:
            return
        await self.effects.save_shortfalls(changed)
        self.unpaid = [(sid, short) for sid, short in remaining if short]
        for sid, short in remaining:
            if not short:
                del self._ended_at[sid]

    def _updated(self, event: str, record: SessionPaymentRecord, at: datetime) -> None:
        update = SessionUpdate(
            event, self.record.account_id, record, self.paid, self.owed, self.available, at
        )
        self.effects.updated(update)


def _bounded(priced: tuple[int, int]) -> tuple[int, int]:
    """A price that fits the database, else OverflowError."""
    if not 0 <= priced[0] <= MAX_BILL:
        raise OverflowError(f"a bill of {priced[0]} is outside 0 to {MAX_BILL}")
    return priced


def replace_record(record: SessionPaymentRecord, **changes: object) -> SessionPaymentRecord:
    """A copy of the session row with `changes` (rows are never changed in place: updates
    already handed to subscribers stay as they were)."""
    values = record.model_dump()
    values.update(changes)
    return SessionPaymentRecord(**values)


__all__ = ["ChannelOwner", "OwnerEffects", "PaymentRequest", "RunningSession", "SessionUpdate"]
