"""Enforcement: request ahead, limit when the payer lags, stop before the operator is exposed."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.payments.credit import Action, CreditPolicy, Enforcement, StopReason, decide, default_window

T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
POLICY = CreditPolicy(
    window=150_000, limit_after=dt.timedelta(seconds=30), stop_after=dt.timedelta(seconds=90)
)
DEPOSIT = 50_000_000


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_default_window_is_half_a_kwh() -> None:
    assert default_window(300_000) == 150_000
    assert default_window(300_001) == 150_001  # rounded up
    assert default_window(300_000, vat_bp=1900) == 178_500


def test_paid_ahead_continues_and_asks_for_the_window() -> None:
    state, decision = decide(POLICY, Enforcement(), now=T0, owed=1_000_000, paid=1_150_000, deposit=DEPOSIT)
    assert decision.action == Action.CONTINUE
    assert decision.request_amount == 1_150_000
    assert state == Enforcement()


def test_lagging_limits_after_grace_then_stops() -> None:
    state = Enforcement()
    steps = []
    for second, owed in [(0, 1_000_000), (20, 1_050_000), (55, 1_060_000), (115, 1_070_000)]:
        state, decision = decide(POLICY, state, now=at(second), owed=owed, paid=1_100_000, deposit=DEPOSIT)
        steps.append(decision.action)
    assert steps == [Action.CONTINUE, Action.CONTINUE, Action.LIMIT, Action.STOP]
    assert state.stopped == StopReason.PAYMENT_LAGGING


def test_catching_up_lifts_the_limit() -> None:
    state, _ = decide(POLICY, Enforcement(), now=at(0), owed=1_000_000, paid=1_050_000, deposit=DEPOSIT)
    state, decision = decide(POLICY, state, now=at(31), owed=1_010_000, paid=1_050_000, deposit=DEPOSIT)
    assert decision.action == Action.LIMIT
    state, decision = decide(POLICY, state, now=at(40), owed=1_020_000, paid=1_170_000, deposit=DEPOSIT)
    assert decision.action == Action.CONTINUE
    assert state == Enforcement()


def test_exposure_of_half_the_window_stops_at_once_and_stays_stopped() -> None:
    _, below = decide(POLICY, Enforcement(), now=T0, owed=1_074_999, paid=1_000_000, deposit=DEPOSIT)
    assert below.action == Action.LIMIT  # exposed: capped at once, not stopped yet
    state, decision = decide(POLICY, Enforcement(), now=T0, owed=1_075_000, paid=1_000_000, deposit=DEPOSIT)
    assert (decision.action, decision.reason) == (Action.STOP, StopReason.CREDIT_EXHAUSTED)
    _, again = decide(POLICY, state, now=at(5), owed=1_000_000, paid=5_000_000, deposit=DEPOSIT)
    assert again.action == Action.STOP


def test_the_first_voucher_gets_the_grace_too() -> None:
    state, decision = decide(POLICY, Enforcement(), now=T0, owed=0, paid=0, deposit=DEPOSIT)
    assert (decision.action, decision.request_amount) == (Action.CONTINUE, POLICY.window)
    _, later = decide(POLICY, state, now=at(31), owed=0, paid=0, deposit=DEPOSIT)
    assert later.action == Action.LIMIT
    # A reading before the first voucher: exposed, so capped, but the voucher still gets its grace.
    state, metered = decide(POLICY, state, now=at(10), owed=1, paid=0, deposit=DEPOSIT)
    assert metered.action == Action.LIMIT
    state, paid = decide(POLICY, state, now=at(12), owed=1, paid=POLICY.window + 1, deposit=DEPOSIT)
    assert paid.action == Action.CONTINUE
    assert state == Enforcement()


def test_the_order_of_the_first_reading_and_the_first_voucher_does_not_matter() -> None:
    """A flat fee above half the window: after the first voucher the payer lags either way
    (the fee is owed at once), but only the lag clock, not which message came first, caps it."""
    policy = CreditPolicy(window=840_950, fixed=605_000)
    fee = 605_000
    # The voucher first, then the reading that makes the fee owed.
    state, _ = decide(policy, Enforcement(), now=T0, owed=0, paid=0, deposit=DEPOSIT)
    state, _ = decide(policy, state, now=T0, owed=0, paid=policy.window, deposit=DEPOSIT)
    voucher_first, a = decide(policy, state, now=T0, owed=fee, paid=policy.window, deposit=DEPOSIT)
    # The reading first: exposed, capped at once; then the voucher lifts the cap.
    state, _ = decide(policy, Enforcement(), now=T0, owed=0, paid=0, deposit=DEPOSIT)
    state, capped = decide(policy, state, now=T0, owed=fee, paid=0, deposit=DEPOSIT)
    assert capped.action == Action.LIMIT
    reading_first, b = decide(policy, state, now=T0, owed=fee, paid=policy.window, deposit=DEPOSIT)
    assert a.action == b.action == Action.CONTINUE
    assert voucher_first == reading_first
    # Either way the lag clock runs from the start and caps after `limit_after`.
    _, later = decide(
        policy, reading_first, now=at(31), owed=fee + 1_000, paid=policy.window, deposit=DEPOSIT
    )
    assert later.action == Action.LIMIT


def test_deposit_exhausted() -> None:
    _, decision = decide(POLICY, Enforcement(), now=T0, owed=900_000, paid=1_000_000, deposit=900_000)
    assert (decision.action, decision.reason) == (Action.STOP, StopReason.DEPOSIT_EXHAUSTED)
    _, near = decide(POLICY, Enforcement(), now=T0, owed=800_000, paid=900_000, deposit=900_000)
    assert near.request_amount == 900_000  # never ask beyond the deposit


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 60), st.integers(0, 60_000), st.booleans()), min_size=1, max_size=60
    )
)
def test_exposure_is_bounded_by_half_the_window_and_one_interval(steps: list[tuple[int, int, bool]]) -> None:
    """Whatever the payer does, the operator never delivers past a reading that showed half the
    window unpaid, and any unpaid energy is drawn at limited power: unpaid cost is below half the
    window plus what one interval added, and the payer never signs beyond owed + window."""
    state, now, owed, paid = Enforcement(), T0, 0, POLICY.window
    for seconds, cost_step, pays in steps:
        now += dt.timedelta(seconds=seconds)
        owed += cost_step
        state, decision = decide(POLICY, state, now=now, owed=owed, paid=paid, deposit=DEPOSIT)
        assert (owed - paid) * 2 < POLICY.window + 2 * cost_step
        if owed > paid:
            assert decision.action in (Action.LIMIT, Action.STOP)
        assert decision.request_amount <= owed + POLICY.window
        if decision.action == Action.STOP:
            break
        if pays:
            paid = max(paid, decision.request_amount)


def test_a_flat_fee_owed_at_the_first_reading_caps_power_but_does_not_stop() -> None:
    policy = CreditPolicy(window=840_950, fixed=605_000)  # 5.00 flat + 0.5 kWh at 3.90, 21 % VAT
    first_reading = 605_000 + 472  # the flat fee and 1 Wh, before the first voucher came back
    _, decision = decide(policy, Enforcement(), now=T0, owed=first_reading, paid=0, deposit=DEPOSIT)
    assert decision.action == Action.LIMIT
    _, gone = decide(policy, Enforcement(), now=T0, owed=722_975, paid=0, deposit=DEPOSIT)
    assert (gone.action, gone.reason) == (Action.STOP, StopReason.CREDIT_EXHAUSTED)
