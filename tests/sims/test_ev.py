"""The EV model, the connector meter and charging-profile limits, without any network."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sims.chargers.clock import DEFAULT_START, ManualClock
from sims.chargers.connector import Connector, Transaction
from sims.chargers.ev import MJ_PER_WH, EVBattery, EVSpec
from sims.chargers.profiles import Period, Profile, ProfileSet, parse_profile_2x, parse_profile_16


def test_constant_power_below_the_taper_point() -> None:
    battery = EVBattery(EVSpec(capacity_wh=60_000, max_power_w=11_000), soc_permille=200)
    taken = battery.charge(3_600_000, limit_w=None)
    assert taken == 11_000 * MJ_PER_WH  # one hour at 11 kW is 11 kWh, exactly
    assert battery.acceptance_w() == 11_000


def test_power_tapers_towards_full_and_stops_at_full() -> None:
    battery = EVBattery(EVSpec(capacity_wh=10_000, max_power_w=10_000, taper_start_permille=800))
    powers = []
    for _ in range(40):
        powers.append(battery.power_w(None))
        battery.charge(300_000, limit_w=None)
    assert battery.full
    assert battery.soc_permille == 1000
    assert battery.power_w(None) == 0
    taper = [power for power in powers if 0 < power < 10_000]
    assert taper
    assert taper == sorted(taper, reverse=True)


def test_limit_caps_power() -> None:
    battery = EVBattery(EVSpec(capacity_wh=60_000, max_power_w=50_000))
    assert battery.power_w(7_000) == 7_000
    assert battery.charge(1_000, limit_w=7_000) == 7_000 * 1_000


def test_zero_limit_takes_nothing() -> None:
    battery = EVBattery(EVSpec(capacity_wh=60_000, max_power_w=50_000))
    assert battery.charge(60_000, limit_w=0) == 0


@settings(max_examples=200, deadline=None)
@given(
    capacity_wh=st.integers(1_000, 120_000),
    max_power_w=st.integers(1_000, 350_000),
    charger_w=st.integers(1_000, 350_000),
    taper=st.integers(0, 999),
    soc=st.integers(0, 1000),
    steps=st.lists(
        st.tuples(st.integers(0, 1_800_000), st.one_of(st.none(), st.integers(0, 400_000))),
        min_size=1,
        max_size=30,
    ),
)
def test_battery_properties(
    capacity_wh: int,
    max_power_w: int,
    charger_w: int,
    taper: int,
    soc: int,
    steps: list[tuple[int, int | None]],
) -> None:
    """Energy never decreases, power never exceeds min(charger, profile), SoC stays <= 100 %."""
    battery = EVBattery(EVSpec(capacity_wh, max_power_w, taper_start_permille=taper), soc_permille=soc)
    for duration_ms, profile_w in steps:
        limit = charger_w if profile_w is None else min(charger_w, profile_w)
        before = battery.stored_mj
        power = battery.power_w(limit)
        assert 0 <= power <= limit
        taken = battery.charge(duration_ms, limit)
        assert taken >= 0
        assert battery.stored_mj == before + taken
        assert taken <= limit * duration_ms
        assert battery.stored_mj <= battery.capacity_mj
        assert battery.soc_permille <= 1000


def _connector(max_power_w: int = 22_000) -> Connector:
    return Connector(connector_id=1, max_power_w=max_power_w, profiles=ProfileSet())


def _charging(connector: Connector, clock: ManualClock, spec: EVSpec) -> Transaction:
    connector.ev = EVBattery(spec, soc_permille=100)
    connector.updated_at = clock.now()
    connector.transaction = Transaction(1, 1, "TOKEN", clock.now(), connector.register_wh)
    return connector.transaction


@settings(max_examples=100, deadline=None)
@given(
    charger_w=st.integers(1_000, 150_000),
    plan=st.lists(
        st.tuples(st.integers(1, 900), st.one_of(st.none(), st.integers(0, 200_000))),
        min_size=1,
        max_size=20,
    ),
)
def test_connector_meter_properties(charger_w: int, plan: list[tuple[int, int | None]]) -> None:
    """The register is monotonic, grows at most at the limit, and equals the battery's intake."""
    clock = ManualClock()
    connector = _connector(charger_w)
    transaction = _charging(connector, clock, EVSpec(capacity_wh=80_000, max_power_w=120_000))
    assert connector.ev is not None
    start_mj = connector.ev.stored_mj
    for seconds, limit in plan:
        connector.profiles.clear()
        if limit is not None:
            connector.profiles.install(Profile(7, 0, 1, "TxDefaultProfile", "Relative", (Period(0, limit),)))
        allowed = min(charger_w, limit) if limit is not None else charger_w
        assert connector.power_w(clock.now()) <= allowed
        before = connector.meter_mj
        clock.advance(seconds)
        connector.advance_to(clock.now())
        assert connector.meter_mj >= before
        assert connector.meter_mj - before <= allowed * seconds * 1000
    assert connector.meter_mj == connector.ev.stored_mj - start_mj
    assert transaction.delivered_wh(connector.register_wh) == connector.register_wh


def test_profile_periods_split_the_integration() -> None:
    clock = ManualClock()
    connector = _connector(22_000)
    _charging(connector, clock, EVSpec(capacity_wh=200_000, max_power_w=50_000))
    # Relative to the transaction start: 22 kW cap first, 6 kW from minute 30.
    connector.profiles.install(
        Profile(1, 1, 1, "TxProfile", "Relative", (Period(0, 50_000), Period(1_800, 6_000)))
    )
    clock.advance(3_600)
    connector.advance_to(clock.now())
    assert connector.register_wh == 11_000 + 3_000
    assert connector.power_w(clock.now()) == 6_000


def test_profile_selection_rules() -> None:
    profiles = ProfileSet()
    at = DEFAULT_START
    profiles.install(Profile(1, 0, 0, "TxDefaultProfile", "Absolute", (Period(0, 10_000),), at))
    assert profiles.limit_w(1, at, None) == 10_000
    profiles.install(Profile(2, 1, 0, "TxProfile", "Relative", (Period(0, 20_000),)))
    assert profiles.limit_w(1, at, at) == 20_000  # TxProfile overrides TxDefaultProfile
    profiles.install(Profile(3, 0, 0, "ChargePointMaxProfile", "Absolute", (Period(0, 5_000),), at))
    assert profiles.limit_w(1, at, at) == 5_000  # the station maximum caps everything
    assert profiles.clear(purpose="ChargePointMaxProfile") == 1
    assert profiles.limit_w(1, at - timedelta(seconds=1), at) is None  # before the schedules
    assert profiles.clear() == 2
    assert profiles.limit_w(1, at, at) is None


def test_profiles_from_both_versions_and_amps() -> None:
    v16 = parse_profile_16(
        2,
        {
            "charging_profile_id": 4,
            "stack_level": 1,
            "charging_profile_purpose": "TxDefaultProfile",
            "charging_profile_kind": "Relative",
            "charging_schedule": {
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 16.0, "number_phases": 1}],
            },
        },
    )
    assert (v16.profile_id, v16.connector_id, v16.periods) == (4, 2, (Period(0, 16 * 230),))
    v2 = parse_profile_2x(
        1,
        {
            "id": 9,
            "stack_level": 2,
            "charging_profile_purpose": "TxProfile",
            "charging_profile_kind": "Absolute",
            "charging_schedule": [
                {
                    "id": 9,
                    "start_schedule": "2026-01-01T08:00:00Z",
                    "charging_rate_unit": "W",
                    "charging_schedule_period": [{"start_period": 0, "limit": 7400.5}],
                }
            ],
        },
    )
    assert v2.periods == (Period(0, 7_400),)
    assert v2.start_schedule == DEFAULT_START


async def test_manual_clock_wakes_sleepers_in_order() -> None:
    clock = ManualClock()
    woke: list[int] = []

    async def sleeper(seconds: int) -> None:
        await clock.sleep(seconds)
        woke.append(seconds)

    tasks = [asyncio.create_task(sleeper(s)) for s in (30, 10, 20)]
    await asyncio.sleep(0)
    assert clock.sleeping == 3
    clock.advance(15)
    await asyncio.sleep(0)
    assert woke == [10]
    clock.advance(15)
    await asyncio.gather(*tasks)
    assert woke == [10, 20, 30]


def test_manual_clock_refuses_going_back() -> None:
    with pytest.raises(ValueError, match="backwards"):
        ManualClock().advance(-1)
