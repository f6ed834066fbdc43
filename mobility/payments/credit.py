"""Pay-ahead credit and its enforcement, decided per channel at every meter reading.

The engine asks the payer for a cumulative voucher covering what is owed plus a prepaid
credit window. `credit = paid - owed` is what the payer has prepaid beyond the energy
delivered; the operator is exposed only when it goes negative.

- credit >= window / 2: all is well (a limit set earlier is lifted).
- 0 <= credit < window / 2: the payer lags; after `limit_after` the engine caps power to
  `limited_power_w`, so the credit drains slowly while the wallet catches up; after
  `stop_after` it stops the session.
- credit < 0 (energy delivered and not yet paid: the operator is exposed): power is capped at
  once, and the lag clock goes on as above; a reading arriving before the first voucher of a
  session does this, and the voucher lifts the cap (as soon as it brings the credit back to
  0 or more, if the payer has lagged less than `limit_after`). Which of the two the engine
  sees first is a race it must not depend on: otherwise a flat fee larger than half the window
  kept the cap from the first reading until the next voucher, and the same payer drew less
  energy when its first voucher came a millisecond late.
- exposure (-credit) reaching half the window, or nothing left of the deposit to ask for:
  stop now. A flat fee is owed whole from the first reading, so the part of the window that
  covers fees (`fixed`) counts whole: the stop comes at `fixed + (window - fixed) / 2`.

The window thus bounds the operator's exposure: a session is stopped as soon as a reading
shows half the window owed unpaid, and a reading that shows energy unpaid caps the power
until a voucher pays it (within the grace) or brings the credit back to half the window
(after it). What it can owe unpaid at a reading is at most half the window plus what one
meter interval added: at full power only while, within the grace, the payer pays each
reading's debt (the cap then comes and goes with readings and vouchers), at the limited
power otherwise. That is within the window whenever an interval costs less than half of it
(default window: the cost of 0.5 kWh). The payer never signs for more than the delivered
energy plus the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    CONTINUE = "continue"
    LIMIT = "limit"
    STOP = "stop"


class StopReason(StrEnum):
    CREDIT_EXHAUSTED = "credit_exhausted"
    DEPOSIT_EXHAUSTED = "deposit_exhausted"
    PAYMENT_LAGGING = "payment_lagging"


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    window: int
    fixed: int = 0  # the part of the window owed at once (flat fees), not by the kWh
    limit_after: dt.timedelta = dt.timedelta(seconds=30)
    stop_after: dt.timedelta = dt.timedelta(seconds=120)
    limited_power_w: int = 3_700

    def __post_init__(self) -> None:
        if self.window <= 0:
            raise ValueError("the credit window must be positive")
        if not 0 <= self.fixed < self.window:
            raise ValueError("the fixed part must be less than the window")
        if self.stop_after < self.limit_after:
            raise ValueError("stop_after must not be shorter than limit_after")


@dataclass(frozen=True, slots=True)
class Enforcement:
    """What the engine remembers between decisions for one channel."""

    lagging_since: dt.datetime | None = None
    stopped: StopReason | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    request_amount: int
    credit: int
    reason: StopReason | None = None


def decide(
    policy: CreditPolicy, state: Enforcement, *, now: dt.datetime, owed: int, paid: int, deposit: int
) -> tuple[Enforcement, Decision]:
    """The next step for a channel whose sessions owe `owed` and whose vouchers pay `paid`."""
    credit = paid - owed
    request = min(owed + policy.window, deposit)
    if state.stopped is not None:
        return state, Decision(Action.STOP, request, credit, state.stopped)
    if owed >= deposit:
        return _stop(state, request, credit, StopReason.DEPOSIT_EXHAUSTED)
    if owed > 0 and -credit * 2 >= policy.window + policy.fixed:
        return _stop(state, request, credit, StopReason.CREDIT_EXHAUSTED)
    if credit * 2 >= policy.window:
        return Enforcement(), Decision(Action.CONTINUE, request, credit)
    since = state.lagging_since or now
    lagged = now - since
    if lagged >= policy.stop_after:
        return _stop(state, request, credit, StopReason.PAYMENT_LAGGING)
    # Not sticky: a cap set because credit went negative (a reading before the voucher that
    # covers it) is lifted by that voucher while the grace lasts; after it, the cap holds anyway.
    limited = lagged >= policy.limit_after or credit < 0
    action = Action.LIMIT if limited else Action.CONTINUE
    return Enforcement(lagging_since=since), Decision(action, request, credit)


def _stop(state: Enforcement, request: int, credit: int, reason: StopReason) -> tuple[Enforcement, Decision]:
    stopped = Enforcement(state.lagging_since, reason)
    return stopped, Decision(Action.STOP, request, credit, reason)


def default_window(energy_price_per_kwh: int, vat_bp: int = 0) -> int:
    """The cost of 0.5 kWh at `energy_price_per_kwh` micro-units (VAT included), rounded up."""
    numerator = energy_price_per_kwh * (10_000 + vat_bp)
    return -(-numerator // 20_000)
