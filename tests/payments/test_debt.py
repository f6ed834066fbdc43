"""Who carries a channel's debt (`mobility.payments.debt`): a table of cases, and properties
over random unpaid sessions and payments (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobility.payments.debt import attribute, newly_covered, still_owed

Shortfalls = list[tuple[int, int]]


@pytest.mark.parametrize(
    ("unpaid", "covered", "expected"),
    [
        ([], 5, []),
        ([(1, 100)], 0, [(1, 100)]),
        ([(1, 100)], 40, [(1, 60)]),
        ([(1, 100)], 100, [(1, 0)]),
        ([(1, 100)], 1_000, [(1, 0)]),  # the rest is left to running sessions
        ([(7, 100), (3, 50)], 120, [(7, 0), (3, 30)]),  # the order given, not the IDs
        ([(1, 100), (2, 50), (3, 25)], 149, [(1, 0), (2, 1), (3, 25)]),
        ([(1, 0), (2, 10)], 10, [(1, 0), (2, 0)]),
    ],
)
def test_the_oldest_unpaid_session_is_paid_off_first(
    unpaid: Shortfalls, covered: int, expected: Shortfalls
) -> None:
    assert attribute(unpaid, covered) == expected


@pytest.mark.parametrize(
    ("ended_billed", "paid", "shortfall", "covered"),
    [
        (500, 200, 300, 0),  # shortfalls already add up to the debt
        (500, 450, 300, 250),  # a voucher paid 250 more
        (500, 900, 300, 300),  # all of it, with credit left for running sessions
        (500, 200, 250, 0),  # a shortfall below the debt is not grown back
    ],
)
def test_what_a_new_paid_total_covers(ended_billed: int, paid: int, shortfall: int, covered: int) -> None:
    assert newly_covered(ended_billed, paid, shortfall) == covered


def test_nothing_negative_is_attributed() -> None:
    with pytest.raises(ValueError, match="negative amount"):
        attribute([(1, 10)], -1)
    with pytest.raises(ValueError, match="negative shortfall"):
        attribute([(1, -1)], 0)


sessions = st.lists(st.integers(0, 10**12), max_size=8).map(lambda values: list(enumerate(values, start=1)))
amounts = st.integers(0, 10**13)


@given(unpaid=sessions, covered=amounts)
def test_attribution_is_exact_and_oldest_first(unpaid: Shortfalls, covered: int) -> None:
    after = attribute(unpaid, covered)
    assert [session_id for session_id, _ in after] == [session_id for session_id, _ in unpaid]
    before_total, after_total = sum(s for _, s in unpaid), sum(s for _, s in after)
    assert before_total - after_total == min(covered, before_total)  # to the micro-unit
    for (_, old), (_, new) in zip(unpaid, after, strict=True):
        assert 0 <= new <= old
    # Once a session keeps some shortfall, every later one keeps all of its own.
    partly = next((i for i, (_, new) in enumerate(after) if new > 0), len(after))
    assert after[partly + 1 :] == unpaid[partly + 1 :]


@given(unpaid=sessions, first=amounts, second=amounts)
def test_paying_in_two_steps_is_paying_at_once(unpaid: Shortfalls, first: int, second: int) -> None:
    assert attribute(attribute(unpaid, first), second) == attribute(unpaid, first + second)


@given(billed=st.lists(st.integers(0, 10**9), max_size=8), paid=st.lists(amounts, max_size=4))
def test_shortfalls_always_add_up_to_the_debt(billed: list[int], paid: list[int]) -> None:
    """Sessions end one by one (each joins with its whole bill) while the paid total rises:
    whatever the order, the shortfalls sum to `max(0, ended billed - paid)`, and recomputing
    with nothing new paid changes nothing (idempotent)."""
    unpaid: Shortfalls = []
    total_paid, ended = 0, 0
    for step, bill in enumerate(billed, start=1):
        total_paid = max(total_paid, paid[step % len(paid)] if paid else 0)  # never goes down
        ended += bill
        unpaid.append((step, bill))
        recorded = sum(s for _, s in unpaid)
        unpaid = attribute(unpaid, newly_covered(ended, total_paid, recorded))
        assert sum(s for _, s in unpaid) == still_owed(ended, total_paid)
        assert attribute(unpaid, newly_covered(ended, total_paid, sum(s for _, s in unpaid))) == unpaid
