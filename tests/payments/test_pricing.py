"""Tariff pricing: worked examples per restriction, exact rounding, and the two properties."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from mobility.payments.pricing import MeterSample, price_session
from mobility.payments.tariff import Tariff

UTC = dt.UTC
START = dt.datetime(2026, 6, 3, 8, 0, tzinfo=UTC)  # a Wednesday; 10:00 in Berlin (CEST)


def at(**delta: float) -> dt.datetime:
    return START + dt.timedelta(**delta)


def tariff(*elements: dict[str, Any], **extra: Any) -> Tariff:
    return Tariff.model_validate({"id": "t1", "currency": "EUR", "elements": list(elements), **extra})


def energy(price: int, **component: Any) -> dict[str, Any]:
    return {"type": "ENERGY", "price": price, **component}


def steady(kw: int, hours: float, every_s: int = 900, start: dt.datetime = START) -> list[MeterSample]:
    """Readings of a constant-power session."""
    total_s = int(hours * 3600)
    return [
        MeterSample(start + dt.timedelta(seconds=s), kw * 1000 * s // 3600)
        for s in range(every_s, total_s + 1, every_s)
    ]


def test_flat_energy_price() -> None:
    cost = price_session(tariff({"price_components": [energy(300_000)]}), START, steady(10, 1))
    assert cost.energy_wh == 10_000
    assert cost.total_excl_vat == 3_000_000
    assert cost.total_incl_vat == 3_000_000


def test_vat_and_half_up_rounding() -> None:
    # 1 Wh at 0.000333 per kWh = 0.333 micro-units; 2 Wh = 0.666; 3 Wh = 0.999 -> 1.
    t = tariff({"price_components": [energy(333, vat_bp=2100)]})
    samples = [MeterSample(START + dt.timedelta(seconds=60), 3)]
    cost = price_session(t, START, samples)
    assert cost.total_excl_vat == 1  # 0.999 rounds to 1
    assert cost.total_incl_vat == 1  # 1.20879 rounds to 1
    big = price_session(t, START, steady(11, 2))  # 22 kWh -> 7 326 excl, 8 864.46 incl
    assert (big.total_excl_vat, big.total_incl_vat) == (7_326, 8_864)


def test_energy_step_size_rounds_each_component_up() -> None:
    t = tariff({"price_components": [energy(400_000, step_size=1000)]})
    samples = [MeterSample(START + dt.timedelta(hours=1), 10_001)]
    assert price_session(t, START, samples).total_excl_vat == 11 * 400_000


def test_time_while_charging_and_parking_after() -> None:
    t = tariff(
        {
            "price_components": [
                energy(250_000),
                {"type": "TIME", "price": 1_200_000},
                {"type": "PARKING_TIME", "price": 3_000_000, "step_size": 300},
            ]
        }
    )
    charged = steady(11, 1)
    ended = START + dt.timedelta(hours=1, minutes=20)  # 20 min parked after charging stopped
    cost = price_session(t, START, charged, ended_at=ended)
    # 11 kWh * 0.25 + 1 h * 1.20 + 20 min * 3.00/h = 2.75 + 1.20 + 1.00
    assert cost.total_excl_vat == 4_950_000
    assert [p.parking_s for p in cost.periods][-1] == 1200


def test_flat_fee_once() -> None:
    t = tariff({"price_components": [{"type": "FLAT", "price": 500_000}, energy(300_000)]})
    assert price_session(t, START, steady(10, 1)).total_excl_vat == 3_500_000
    assert price_session(t, START, []).total_excl_vat == 500_000


def test_midday_solar_is_priced_per_period_in_local_time() -> None:
    """10:00-12:00 Berlin at 11 kW: the hour from 11:00 is in the cheap solar window."""
    t = tariff(
        {
            "price_components": [energy(100_000)],
            "restrictions": {"start_time": "11:00", "end_time": "15:00"},
        },
        {"price_components": [energy(400_000)]},
        timezone="Europe/Berlin",
    )
    # Only two readings, neither on the boundary: the 11:00 cut falls inside a reading segment.
    samples = [
        MeterSample(START + dt.timedelta(minutes=30), 5_500),
        MeterSample(START + dt.timedelta(hours=2), 22_000),
    ]
    cost = price_session(t, START, samples)
    assert cost.total_excl_vat == 11_000 * 400 + 11_000 * 100
    assert [p.start.astimezone(dt.UTC).hour for p in cost.periods] == [8, 9]


def test_night_window_across_midnight() -> None:
    t = tariff(
        {"price_components": [energy(150_000)], "restrictions": {"start_time": "22:00", "end_time": "06:00"}},
        {"price_components": [energy(350_000)]},
    )
    start = dt.datetime(2026, 6, 3, 21, 0, tzinfo=UTC)
    cost = price_session(t, start, steady(4, 10, start=start))  # 21:00 to 07:00 UTC
    assert cost.total_excl_vat == 4_000 * 350 + 32_000 * 150 + 4_000 * 350


def test_energy_tiers_cut_inside_a_segment() -> None:
    t = tariff(
        {"price_components": [energy(500_000)], "restrictions": {"max_wh": 5_000}},
        {"price_components": [energy(250_000)]},
    )
    samples = [MeterSample(START + dt.timedelta(hours=1), 12_000)]
    assert price_session(t, START, samples).total_excl_vat == 5_000 * 500 + 7_000 * 250


def test_power_restriction_for_fast_charging() -> None:
    t = tariff(
        {"price_components": [energy(690_000)], "restrictions": {"min_power_w": 50_000}},
        {"price_components": [energy(390_000)]},
    )
    fast = [MeterSample(START + dt.timedelta(minutes=30), 60_000 // 2)]  # 60 kW
    slow = [MeterSample(START + dt.timedelta(hours=3), 33_000)]  # 11 kW
    assert price_session(t, START, fast).total_excl_vat == 30_000 * 690
    assert price_session(t, START, slow).total_excl_vat == 33_000 * 390


def test_duration_restriction_blocking_fee() -> None:
    t = tariff(
        {
            "price_components": [{"type": "TIME", "price": 6_000_000}],
            "restrictions": {"min_duration_s": 7200},
        },
        {"price_components": [energy(300_000)]},
    )
    cost = price_session(t, START, steady(3, 3))  # 3 h at 3 kW: the last hour costs 6.00 more
    assert cost.total_excl_vat == 9_000 * 300 + 6_000_000


def test_day_of_week() -> None:
    t = tariff(
        {"price_components": [energy(200_000)], "restrictions": {"day_of_week": ["SATURDAY", "SUNDAY"]}},
        {"price_components": [energy(300_000)]},
    )
    saturday = dt.datetime(2026, 6, 6, 10, 0, tzinfo=UTC)
    assert price_session(t, saturday, steady(10, 1, start=saturday)).total_excl_vat == 2_000_000
    assert price_session(t, START, steady(10, 1)).total_excl_vat == 3_000_000


def test_min_and_max_price() -> None:
    bounds = {"min_price": {"excl_vat": 1_000_000, "incl_vat": 1_190_000}}
    t = tariff({"price_components": [energy(300_000, vat_bp=1900)]}, **bounds)
    assert price_session(t, START, []).total_incl_vat == 1_190_000
    capped = tariff(
        {"price_components": [energy(300_000)]}, max_price={"excl_vat": 2_000_000, "incl_vat": 2_000_000}
    )
    assert price_session(capped, START, steady(22, 1)).total_excl_vat == 2_000_000


def test_no_matching_element_means_free_dimension() -> None:
    t = tariff(
        {"price_components": [energy(300_000)], "restrictions": {"start_time": "00:00", "end_time": "01:00"}}
    )
    assert price_session(t, START, steady(10, 1)).total_excl_vat == 0


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (
            [MeterSample(START + dt.timedelta(hours=1), 10), MeterSample(START + dt.timedelta(hours=2), 5)],
            "went down",
        ),
        ([MeterSample(START - dt.timedelta(seconds=1), 0)], "precedes"),
        ([MeterSample(START, 10)], "at the start must be 0"),
        ([MeterSample(dt.datetime(2026, 6, 3, 9), 10)], "timezone-aware"),
    ],
)
def test_bad_readings_are_refused(samples: list[MeterSample], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        price_session(tariff({"price_components": [energy(1)]}), START, samples)


@pytest.mark.parametrize(
    ("restrictions", "extra", "message"),
    [
        ({"min_current": 16}, {}, "current"),
        ({"start_time": "10:00"}, {}, "go together"),
        ({}, {"timezone": "Mars/Olympus"}, "time zone"),
    ],
)
def test_bad_tariffs_are_refused(restrictions: dict[str, Any], extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        tariff({"price_components": [energy(1)], "restrictions": restrictions}, **extra)


def test_session_keeps_its_tariff_version() -> None:
    v1 = tariff({"price_components": [energy(300_000)]})
    v2 = v1.model_copy(update={"version": 2})
    cost = price_session(v1, START, steady(10, 1))
    assert (cost.tariff_id, cost.tariff_version) == ("t1", 1)
    assert price_session(v2, START, steady(10, 1)).tariff_version == 2


def test_flat_fee_is_not_chosen_by_power() -> None:
    """Found by the monotonicity property: a fee fixed at the start must not move later."""
    t = tariff(
        {"price_components": [{"type": "FLAT", "price": 0}], "restrictions": {"min_power_w": 1}},
        {"price_components": [{"type": "FLAT", "price": 1_000_000}]},
    )
    before = price_session(t, START, [])
    after = price_session(t, START, steady(10, 1))
    assert before.total_excl_vat == after.total_excl_vat == 0
