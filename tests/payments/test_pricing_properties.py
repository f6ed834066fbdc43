"""Properties of pricing over random tariffs and sessions (hypothesis).

- The cost never decreases as a session goes on (more readings, a later end).
- Splitting the same meter readings into different samples never changes the cost: a
  reading that lies on the line between two others changes nothing, exactly.
- `session_total` (what enforcement re-prices at every reading, in integers for tariffs that
  bill only energy and a flat fee) always equals `price_session`'s totals, errors included.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.payments.pricing import MeterSample, SessionCost, price_session, session_total
from mobility.payments.tariff import Tariff

BASE = dt.datetime(2026, 3, 28, 22, 0, tzinfo=dt.UTC)  # Berlin moves to CEST at 01:00 UTC next day
EXAMPLES = int(os.environ.get("PRICING_EXAMPLES", "150"))


@st.composite
def components(draw: st.DrawFn) -> list[dict[str, Any]]:
    kinds = draw(
        st.lists(st.sampled_from(["ENERGY", "TIME", "PARKING_TIME", "FLAT"]), min_size=1, max_size=3)
    )
    return [
        {
            "type": kind,
            "price": draw(st.integers(0, 2_000_000)),
            "vat_bp": draw(st.sampled_from([0, 700, 1900, 2100])),
            "step_size": draw(st.sampled_from([1, 1, 60, 300, 500, 1000])),
        }
        for kind in dict.fromkeys(kinds)
    ]


@st.composite
def restrictions(draw: st.DrawFn) -> dict[str, Any] | None:
    if draw(st.booleans()):
        return None
    chosen: dict[str, Any] = {}
    if draw(st.booleans()):
        start, end = draw(st.integers(0, 23)), draw(st.integers(0, 23))
        chosen |= {"start_time": f"{start:02d}:00", "end_time": f"{end:02d}:30"}
    if draw(st.booleans()):
        chosen["min_wh"] = draw(st.integers(0, 30_000))
    if draw(st.booleans()):
        chosen["max_wh"] = draw(st.integers(0, 60_000))
    if draw(st.booleans()):
        chosen["min_power_w"] = draw(st.integers(0, 30_000))
    if draw(st.booleans()):
        chosen["max_duration_s"] = draw(st.integers(0, 20_000))
    if draw(st.booleans()):
        chosen["day_of_week"] = draw(st.lists(st.sampled_from(["FRIDAY", "SATURDAY", "SUNDAY"]), min_size=1))
    return chosen


@st.composite
def tariffs(draw: st.DrawFn) -> Tariff:
    elements = [
        {"price_components": draw(components()), "restrictions": draw(restrictions())}
        for _ in range(draw(st.integers(1, 4)))
    ]
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["min_price"] = {"excl_vat": draw(st.integers(0, 3_000_000)), "incl_vat": 3_000_000}
    if draw(st.booleans()):
        extra["max_price"] = {"excl_vat": draw(st.integers(3_000_000, 90_000_000)), "incl_vat": 90_000_000}
    timezone = draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
    return Tariff.model_validate(
        {"id": "p", "currency": "EUR", "timezone": timezone, "elements": elements, **extra}
    )


@st.composite
def sessions(draw: st.DrawFn) -> list[MeterSample]:
    """Readings at whole seconds with even gaps and even energy steps (so midpoints are exact)."""
    at, energy, samples = BASE, 0, []
    for _ in range(draw(st.integers(1, 12))):
        at += dt.timedelta(seconds=2 * draw(st.integers(1, 4000)))
        energy += 2 * draw(st.integers(0, 8000))
        samples.append(MeterSample(at, energy))
    return samples


def totals(cost: SessionCost) -> tuple[int, int]:
    return cost.total_excl_vat, cost.total_incl_vat


@settings(max_examples=EXAMPLES, deadline=None)
@given(tariff=tariffs(), samples=sessions(), parked_s=st.integers(0, 7200))
def test_cost_never_decreases_as_the_session_goes_on(
    tariff: Tariff, samples: list[MeterSample], parked_s: int
) -> None:
    previous = price_session(tariff, BASE, [])
    for k in range(1, len(samples) + 1):
        cost = price_session(tariff, BASE, samples[:k])
        assert cost.total_excl_vat >= previous.total_excl_vat
        assert cost.total_incl_vat >= previous.total_incl_vat
        previous = cost
    ended = price_session(tariff, BASE, samples, ended_at=samples[-1].at + dt.timedelta(seconds=parked_s))
    assert totals(ended) >= totals(previous)
    assert ended.total_excl_vat >= previous.total_excl_vat
    assert ended.total_incl_vat >= previous.total_incl_vat


@settings(max_examples=EXAMPLES, deadline=None)
@given(tariff=tariffs(), samples=sessions(), data=st.data())
def test_a_reading_on_the_line_changes_nothing(
    tariff: Tariff, samples: list[MeterSample], data: st.DataObject
) -> None:
    points = [MeterSample(BASE, 0), *samples]
    i = data.draw(st.integers(0, len(points) - 2))
    a, b = points[i], points[i + 1]
    midpoint = MeterSample(a.at + (b.at - a.at) / 2, (a.energy_wh + b.energy_wh) // 2)
    refined = sorted([*samples, midpoint], key=lambda s: s.at)
    whole, split = price_session(tariff, BASE, samples), price_session(tariff, BASE, refined)
    assert totals(split) == totals(whole)
    assert [(c.element, c.component, c.volume) for c in split.charges] == [
        (c.element, c.component, c.volume) for c in whole.charges
    ]


@settings(max_examples=EXAMPLES, deadline=None)
@given(tariff=tariffs(), samples=sessions(), data=st.data())
def test_reading_order_and_grouping_do_not_matter(
    tariff: Tariff, samples: list[MeterSample], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(samples))
    assert totals(price_session(tariff, BASE, shuffled)) == totals(price_session(tariff, BASE, samples))


@st.composite
def energy_tariffs(draw: st.DrawFn) -> Tariff:
    """Tariffs `session_total` prices in integers: no restrictions, energy and flat fees only."""
    elements = []
    for _ in range(draw(st.integers(1, 3))):
        kinds = draw(st.lists(st.sampled_from(["ENERGY", "FLAT"]), min_size=1, max_size=2, unique=True))
        prices = [
            {
                "type": kind,
                "price": draw(st.integers(0, 2_000_000)),
                "vat_bp": draw(st.sampled_from([0, 700, 1900, 2100])),
                "step_size": draw(st.sampled_from([1, 1, 7, 500, 1000])),
            }
            for kind in kinds
        ]
        elements.append({"price_components": prices})
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["min_price"] = {"excl_vat": 0, "incl_vat": draw(st.integers(0, 3_000_000))}
    if draw(st.booleans()):
        extra["max_price"] = {"excl_vat": 90_000_000, "incl_vat": draw(st.integers(0, 90_000_000))}
    return Tariff.model_validate({"id": "e", "currency": "EUR", "elements": elements, **extra})


def _expected(tariff: Tariff, samples: list[MeterSample], ended_at: dt.datetime | None) -> tuple[int, int]:
    cost = price_session(tariff, BASE, samples, ended_at)
    return cost.total_incl_vat, cost.energy_wh


@settings(max_examples=EXAMPLES, deadline=None)
@given(tariff=st.one_of(energy_tariffs(), tariffs()), samples=sessions(), parked_s=st.integers(0, 7200))
def test_the_enforced_total_is_the_priced_total(
    tariff: Tariff, samples: list[MeterSample], parked_s: int
) -> None:
    for k in range(len(samples) + 1):
        assert session_total(tariff, BASE, samples[:k]) == _expected(tariff, samples[:k], None)
    ended_at = samples[-1].at + dt.timedelta(seconds=parked_s)
    assert session_total(tariff, BASE, samples, ended_at) == _expected(tariff, samples, ended_at)


@pytest.mark.parametrize(
    ("samples", "ended_at"),
    [
        ([MeterSample(BASE - dt.timedelta(seconds=1), 0)], None),  # before the start
        (
            [
                MeterSample(BASE + dt.timedelta(seconds=9), 50),
                MeterSample(BASE + dt.timedelta(seconds=5), 60),
            ],
            None,
        ),
        ([MeterSample(BASE, 5)], None),  # energy at the start
        ([MeterSample(BASE + dt.timedelta(seconds=9), 50)], BASE + dt.timedelta(seconds=5)),  # end first
        ([MeterSample(dt.datetime(2026, 3, 28, 23), 50)], None),  # naive
    ],
)
def test_the_enforced_total_refuses_what_the_price_refuses(
    samples: list[MeterSample], ended_at: dt.datetime | None
) -> None:
    tariff = Tariff.model_validate(
        {
            "id": "e",
            "currency": "EUR",
            "elements": [{"price_components": [{"type": "ENERGY", "price": 300_000}]}],
        }
    )
    with pytest.raises(ValueError, match=r"\w") as priced:
        price_session(tariff, BASE, samples, ended_at)
    with pytest.raises(ValueError, match=r"\w") as enforced:
        session_total(tariff, BASE, samples, ended_at)
    assert str(enforced.value) == str(priced.value)
