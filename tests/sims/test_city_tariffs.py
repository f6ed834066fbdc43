"""The city's own pricing: worked examples from the tariff definition, and agreement with the
engine's pricing on every shape the city prices (two independent readings of one definition)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.payments.pricing import MeterSample, price_session
from mobility.payments.tariff import Tariff
from sims.city.scenario import DEFAULT_SCENARIO
from sims.city.tariffs import Reading, TariffShapeError, parse_tariff, session_price

SCENARIO_TARIFFS: list[dict[str, Any]] = tomllib.loads(DEFAULT_SCENARIO.read_text())["tariffs"]
OFFICE, CARPARK, DEPOT = SCENARIO_TARIFFS
START = datetime(2026, 6, 17, 13, 58, tzinfo=UTC)  # 15:58 in Amsterdam: the solar window ends at 16:00


def test_energy_either_side_of_a_window_edge_is_priced_by_its_own_element() -> None:
    # 1 kWh a minute from 13:58 to 14:02 UTC: 2 kWh at 0.18, 2 kWh at 0.34, plus 21 % VAT.
    readings = [Reading(START + timedelta(minutes=4), 4_000)]
    price = session_price(parse_tariff(OFFICE), START, readings, START + timedelta(minutes=4))
    assert price == (2 * 180_000 + 2 * 340_000) * 121 // 100 == 1_258_400


def test_a_flat_fee_and_energy_rounded_once_half_up() -> None:
    readings = [Reading(START + timedelta(minutes=5), 1_234)]
    price = session_price(parse_tariff(CARPARK), START, readings, START + timedelta(minutes=5))
    assert price == 1_187_325  # (500 000 + 1.234 x 390 000) x 1.21 = 1 187 324.6


def test_a_step_size_bills_whole_steps() -> None:
    stepped = {
        **DEPOT,
        "elements": [{"price_components": [{"type": "ENERGY", "price": 220_000, "step_size": 500}]}],
    }
    readings = [Reading(START + timedelta(minutes=5), 1_234)]
    assert session_price(parse_tariff(stepped), START, readings, START + timedelta(minutes=5)) == 330_000


def test_a_session_with_no_energy_pays_the_flat_fee_only() -> None:
    assert session_price(parse_tariff(CARPARK), START, [], START + timedelta(minutes=1)) == 605_000


def test_shapes_the_city_cannot_price_are_refused() -> None:
    timed = {**DEPOT, "elements": [{"price_components": [{"type": "TIME", "price": 1}]}]}
    with pytest.raises(TariffShapeError, match="ENERGY and FLAT only"):
        parse_tariff(timed)
    with pytest.raises(TariffShapeError, match="min_price"):
        parse_tariff({**DEPOT, "min_price": {"excl_vat": 1, "incl_vat": 1}})


def _shapes() -> st.SearchStrategy[dict[str, Any]]:
    component = st.fixed_dictionaries(
        {"type": st.sampled_from(["ENERGY", "FLAT"]), "price": st.integers(0, 1_000_000_000)},
        optional={"vat_bp": st.integers(0, 10_000), "step_size": st.integers(1, 5_000)},
    )
    clock = st.sampled_from(["00:00", "06:30", "12:00", "15:59", "16:00", "22:00"])
    window = st.one_of(st.none(), st.tuples(clock, clock).filter(lambda w: w[0] != w[1]))

    def element(parts: tuple[list[dict[str, Any]], tuple[str, str] | None]) -> dict[str, Any]:
        components, hours = parts
        built: dict[str, Any] = {"price_components": components}
        if hours is not None:
            built["restrictions"] = {"start_time": hours[0], "end_time": hours[1]}
        return built

    elements = st.lists(
        st.tuples(st.lists(component, min_size=1, max_size=3), window).map(element), min_size=1, max_size=4
    )
    zone = st.sampled_from(["UTC", "Europe/Amsterdam", "America/New_York"])
    return st.builds(
        lambda e, z: {"id": "t", "currency": "EUR", "timezone": z, "elements": e}, elements, zone
    )


@settings(max_examples=300, deadline=None)
@given(
    document=_shapes(),
    start_s=st.integers(0, 2 * 86_400),
    steps=st.lists(st.tuples(st.integers(1, 4 * 3_600_000), st.integers(0, 30_000)), max_size=12),
    tail_ms=st.integers(0, 600_000),
)
def test_the_city_and_the_engine_price_every_shape_alike(
    document: dict[str, Any], start_s: int, steps: list[tuple[int, int]], tail_ms: int
) -> None:
    """Readings at millisecond instants (as OCPP carries them), energy never going down."""
    start = datetime(2026, 3, 28, tzinfo=UTC) + timedelta(seconds=start_s)  # DST changes on the 29th
    at, energy, readings = start, 0, []
    for gap_ms, wh in steps:
        at, energy = at + timedelta(milliseconds=gap_ms), energy + wh
        readings.append(Reading(at, energy))
    end = at + timedelta(milliseconds=tail_ms)
    engine = price_session(
        Tariff.model_validate(document), start, [MeterSample(r.at, r.energy_wh) for r in readings], end
    )
    assert session_price(parse_tariff(document), start, readings, end) == engine.total_incl_vat
