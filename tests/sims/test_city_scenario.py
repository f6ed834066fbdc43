"""The city's scenario files and its seeded plan: checked on load, the same seed the same plan."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, time
from typing import Any

import pytest

from sims.city.plan import arrivals, behaviours, fleet_visits, rate_per_s
from sims.city.scenario import DEFAULT_SCENARIO, Scenario, ScenarioError, Stay, load, parse
from sims.city.setup import station_plans

CI_SCENARIO = DEFAULT_SCENARIO.parent / "ci_city.toml"


def raw() -> dict[str, Any]:
    document: dict[str, Any] = tomllib.loads(DEFAULT_SCENARIO.read_text())
    return document


def test_the_shipped_scenarios_load() -> None:
    city = load(DEFAULT_SCENARIO)
    assert [s.id for s in city.sites] == ["OFFICE", "CARPARK", "DEPOT"]
    assert city.start == datetime(2026, 6, 17, 10, 30, tzinfo=UTC)
    office = city.tariffs[0]
    assert office.elements[0].window == (time(12, 0), time(16, 0))  # the solar window is cheaper
    assert office.elements[0].components[0].price < office.elements[1].components[0].price
    assert {c.dimension for c in city.tariffs[1].elements[0].components} == {"FLAT", "ENERGY"}
    assert load(CI_SCENARIO).hours == 0.5
    assert city.faults.per_charger_per_hour > 0  # the demo's chargers fail now and then


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["sites"][0].update(tariff="nope"), "tariff 'nope' is not among the tariffs"),
        (lambda d: d["drivers"].update(hourly_weights=[1] * 23), "hourly_weights"),
        (lambda d: d["drivers"].update(behaviours={"prompt": 1, "rude": 1}), "unknown 'rude'"),
        (lambda d: d["drivers"].update(behaviours={"prompt": 0}), "shares sum to zero"),
        (lambda d: d["sites"][1].update(id="OFFICE"), "duplicated ['OFFICE']"),
        (lambda d: d["sites"][0].update(id="a b"), "letters, digits"),
        (lambda d: d["sites"][0]["chargers"].update(mix={"1.5": 1}), "unknown '1.5'"),
        (lambda d: d["sites"][0]["chargers"].update(count=0), "count must be at least 1"),
        (lambda d: d["tariffs"][0].update(currency="EURO"), "tariffs[0]"),
        # Shapes the city cannot price itself are refused: it would have to trust the engine's bill.
        (
            lambda d: d["tariffs"][1]["elements"][0]["price_components"].append({"type": "TIME", "price": 1}),
            "prices ENERGY and FLAT only",
        ),
        (lambda d: d["tariffs"][0]["elements"][0]["restrictions"].update(min_wh=1000), "start_time/end_time"),
        (lambda d: d["tariffs"][0].update(max_price={"excl_vat": 1, "incl_vat": 1}), "max_price"),
        (lambda d: d["fleets"][0].update(site="MOON"), "site 'MOON'"),
        (lambda d: d["fleets"][0]["vehicles"][0].update(stays=[["25:00", "06:00"]]), "not a time of day"),
        (lambda d: d.update(start=datetime(2026, 6, 17, 10, 30)), "UTC offset"),
        (lambda d: d.update(hours=0), "hours must be positive"),
        (lambda d: d["faults"].update(per_charger_per_hour=-1), "faults: per_charger_per_hour"),
        (lambda d: d["faults"].update(max_offline_minutes=0), "max_offline_minutes must be positive"),
    ],
)
def test_a_bad_scenario_is_refused_naming_the_key(change: Any, message: str) -> None:
    document = raw()
    change(document)
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(document)


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    city = load(DEFAULT_SCENARIO)
    assert arrivals(city, 7, 2.0) == arrivals(city, 7, 2.0)
    assert arrivals(city, 7, 2.0) != arrivals(city, 8, 2.0)
    assert behaviours(city.drivers, 7) == behaviours(city.drivers, 7)
    assert station_plans(city, 7) == station_plans(city, 7)
    plan = arrivals(city, 7, 2.0)
    assert all(0 <= a.at_s < 7_200 for a in plan)
    assert all(a.site != "DEPOT" for a in plan)  # the depot has no weight: fleet vans only
    assert all(a.dwell_s >= city.drivers.min_dwell_minutes * 60 for a in plan)


def test_arrivals_follow_the_daily_profile() -> None:
    city = load(DEFAULT_SCENARIO)
    night = rate_per_s(city.drivers, datetime(2026, 6, 17, 3, 0, tzinfo=UTC))
    morning = rate_per_s(city.drivers, datetime(2026, 6, 17, 8, 0, tzinfo=UTC))
    assert morning == pytest.approx(20 * night)
    whole_day = arrivals(city, 1, 24.0)
    by_hour = [sum(1 for a in whole_day if int(a.at_s // 3_600) == h) for h in range(24)]
    # 10:30 + 14 h = 00:30: the small hours are quiet, the daytime busy.
    assert sum(by_hour[15:20]) < sum(by_hour[0:5])


def test_behaviours_come_in_the_shares_asked_for() -> None:
    kinds = behaviours(load(DEFAULT_SCENARIO).drivers, 3)
    assert len(kinds) == 24
    assert (kinds.count("prompt"), kinds.count("slow"), kinds.count("stops paying")) == (17, 4, 3)


def test_fleet_stays_cover_midday_and_overnight() -> None:
    city = load(DEFAULT_SCENARIO)
    two_hours = fleet_visits(city.fleets[0], city.start, 2.0)
    assert [(v.vehicle.label, v.arrive_s, v.leave_s) for v in two_hours] == [
        ("Van 1", 1_800.0, 6_000.0),
        ("Van 2", 3_000.0, 6_600.0),
    ]
    evening = datetime(2026, 6, 17, 20, 0, tzinfo=UTC)
    overnight = fleet_visits(city.fleets[0], evening, 1.0)
    van3 = next(v for v in overnight if v.vehicle.label == "Van 3")
    assert van3.arrive_s == 0.0  # under way at the start
    assert van3.leave_s == 10 * 3_600.0  # 06:00 the next morning
    assert Stay(time(19), time(6, 30)) in city.fleets[0].vehicles[0].stays


def test_chargers_can_be_rescaled_over_the_sites() -> None:
    city: Scenario = load(DEFAULT_SCENARIO)
    assert [s.chargers.count for s in city.with_chargers(18).sites] == [8, 6, 4]
    assert sum(s.chargers.count for s in city.with_chargers(5).sites) == 5
    with pytest.raises(ScenarioError):
        city.with_chargers(2)
    plans = station_plans(city, 7)
    assert [p.charge_point_id for p in plans][:2] == ["OFFICE-01", "OFFICE-02"]
    assert {p.version for p in plans if p.site == "DEPOT"} == {"1.6"}
    assert all(16 <= len(p.password) <= 40 for p in plans)
