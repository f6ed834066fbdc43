"""Pure rules of `mobility.charging`: register parsing, energy advancement, passwords, UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobility.charging.authorization import AllowListAuthorizer
from mobility.charging.energy import apply_register, register_to_wh
from mobility.charging.passwords import hash_password, verify_password
from mobility.charging.store import ChargingStore, ReadingRequest
from mobility.charging.timeutil import parse_timestamp
from mobility.db import create_db_engine
from mobility.limits import MAX_REGISTER_WH

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "unit", "multiplier", "expected"),
    [
        ("1234", None, 0, 1234),
        ("1234.9", "Wh", 0, 1234),
        ("12.3456", "kWh", 0, 12345),
        ("0.1", "kWh", 0, 100),
        (2.3, "Wh", 4, 23000),
        (1.5, "kWh", -1, 150),
        ("12", "varh", 0, None),
        ("n/a", "Wh", 0, None),
        # Out of bounds (mobility.limits), and what would cost a billion-digit integer first.
        ("1e308", "kWh", 0, None),
        (str(2**70), "Wh", 0, None),
        ("-5", "Wh", 0, None),
        ("inf", "Wh", 0, None),
        ("1e-999999999", "Wh", 0, None),
        ("10", "Wh", 999_999_999, None),
        ("1e9", "kWh", 0, 10**12),
    ],
)
def test_register_to_wh(value: str | float, unit: str | None, multiplier: int, expected: int | None) -> None:
    assert register_to_wh(value, unit, multiplier) == expected


@given(
    st.integers(min_value=0, max_value=10**13),
    st.sampled_from([None, "Wh", "kWh", "KWH"]),
    st.sampled_from([0, 0, 0, 1, -1, 3, -3]),
    st.sampled_from(["", "0", "00", ".0", ".5"]),
)
def test_whole_numbers_read_the_same_as_exact_fractions(
    whole: int, unit: str | None, multiplier: int, padding: str
) -> None:
    """Whole registers take a path without Fraction; it must give what the exact path gives."""
    text = padding.lstrip(".") + str(whole) if not padding.startswith(".") else str(whole) + padding
    factor = 1000 if (unit or "Wh").lower() == "kwh" else 1
    exact = int(Fraction(text) * factor * Fraction(10) ** multiplier // 1)
    expected = exact if 0 <= exact <= MAX_REGISTER_WH else None
    assert register_to_wh(text, unit, multiplier) == expected


@given(st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=30))
def test_energy_never_decreases_and_never_exceeds_register_span(registers: list[int]) -> None:
    start, last, at, energy = registers[0], registers[0], T0, 0
    for index, register in enumerate(registers[1:], start=1):
        update = apply_register(
            meter_start_wh=start,
            last_register_wh=last,
            last_reading_at=at,
            register_wh=register,
            at=T0 + timedelta(hours=index),
            max_power_w=1_000_000,
            slack_wh=1_000,
        )
        assert update.energy_wh >= energy
        assert update.energy_wh == update.last_register_wh - start
        if register < last:
            assert update.flag is not None
        energy, last, at = update.energy_wh, update.last_register_wh, update.last_reading_at


def test_passwords_are_salted_and_verified() -> None:
    first, second = hash_password("pw"), hash_password("pw")
    assert first != second
    assert verify_password("pw", first)
    assert not verify_password("wrong", first)
    assert not verify_password("pw", "garbage")


def test_timestamps_are_utc_aware() -> None:
    assert parse_timestamp("2026-01-01T12:00:00Z") == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert parse_timestamp("2026-01-01T14:00:00+02:00") == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert parse_timestamp("2026-01-01T12:00:00").tzinfo is UTC


def test_datetimes_come_back_utc_aware(database_url: str) -> None:
    engine = create_db_engine(database_url)
    store = ChargingStore(engine)
    store.register_charge_point("CP", None)
    store.set_online("CP", True, "ocpp1.6", datetime(2026, 5, 1, 14, 0, tzinfo=UTC))
    record = store.charge_point("CP")
    assert record is not None
    assert record.last_seen == datetime(2026, 5, 1, 14, 0, tzinfo=UTC)
    assert record.last_seen.tzinfo is not None
    with pytest.raises(Exception, match="naive"):
        store.set_online("CP", True, None, datetime(2026, 5, 1, 14, 0))
    engine.dispose()


def test_readings_of_one_session_with_and_without_its_ref_advance_one_state(database_url: str) -> None:
    """A reading without a ref and a later one with it, in one journal batch: each advanced a
    copy of the session of its own, and the copy written last took its energy back to the
    earlier reading's (1,000 Wh instead of 2,000)."""
    engine = create_db_engine(database_url)
    store = ChargingStore(engine)
    store.register_charge_point("CP", None)
    session, _ = store.start_session("CP", 1, "TAG", 1_000, T0)
    assert session.id is not None
    readings = [
        ReadingRequest("CP", 1, 2_000, T0 + timedelta(minutes=1)),
        ReadingRequest("CP", 1, 3_000, T0 + timedelta(minutes=2), session.transaction_ref),
    ]
    with engine.begin() as connection:
        outcomes = store.write_readings(connection, readings)
    assert [outcome.energy_wh for outcome in outcomes] == [1_000, 2_000]
    stored = store.session(session.id)
    assert stored is not None
    assert (stored.energy_wh, stored.last_register_wh) == (2_000, 3_000)
    engine.dispose()


async def test_allow_list() -> None:
    authorizer = AllowListAuthorizer(["abc"])
    assert (await authorizer.authorize("CP", "ABC")).accepted
    assert not (await authorizer.authorize("CP", "XYZ")).accepted
    authorizer.allow("xyz")
    assert (await authorizer.authorize("CP", "XYZ")).accepted
