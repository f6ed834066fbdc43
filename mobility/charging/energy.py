"""Energy arithmetic: register values to integer Wh, and the rules that keep billing honest.

Parsing goes through `Fraction` so "12.3456" kWh is exact until it is floored to whole Wh;
no float or Decimal ever holds an energy amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

ENERGY_REGISTER = "Energy.Active.Import.Register"
_UNIT_FACTORS = {"wh": Fraction(1), "kwh": Fraction(1000)}


def register_to_wh(value: str | int | float, unit: str | None = None, multiplier: int = 0) -> int | None:
    """The register in whole Wh (floored), or None for a unit that is not energy.

    `unit` defaults to Wh (both 1.6 and 2.x say so); `multiplier` is the 2.x power of ten.
    """
    factor = _UNIT_FACTORS.get((unit or "Wh").lower())
    if factor is None:
        return None
    try:
        amount = Fraction(str(value)) * factor * Fraction(10) ** multiplier
    except (ValueError, ZeroDivisionError):
        return None
    return int(amount // 1)


@dataclass(frozen=True, slots=True)
class RegisterUpdate:
    """A session's energy state after a reading; `flag` explains a refused reading."""

    energy_wh: int
    last_register_wh: int
    last_reading_at: datetime
    flag: str | None


def apply_register(
    *,
    meter_start_wh: int,
    last_register_wh: int,
    last_reading_at: datetime,
    register_wh: int,
    at: datetime,
    max_power_w: int,
    slack_wh: int,
) -> RegisterUpdate:
    """Advance the session with a new register value, or flag it and leave energy as it was.

    Energy is `register - meter_start`, and only moves forward. A register below the last one
    (meter swapped, reset, replayed out of order) or one that grew faster than `max_power_w`
    allows (plus `slack_wh` for rounding and clock skew) is flagged, never billed.
    """
    unchanged = RegisterUpdate(last_register_wh - meter_start_wh, last_register_wh, last_reading_at, None)
    if register_wh < last_register_wh:
        return RegisterUpdate(
            unchanged.energy_wh,
            last_register_wh,
            last_reading_at,
            f"register went backwards: {last_register_wh} -> {register_wh} Wh",
        )
    elapsed_us = max((at - last_reading_at) // timedelta(microseconds=1), 0)
    allowed_wh = max_power_w * elapsed_us // 3_600_000_000 + slack_wh
    if register_wh - last_register_wh > allowed_wh:
        return RegisterUpdate(
            unchanged.energy_wh,
            last_register_wh,
            last_reading_at,
            f"implausible jump: {last_register_wh} -> {register_wh} Wh in {elapsed_us // 1_000_000} s",
        )
    return RegisterUpdate(register_wh - meter_start_wh, register_wh, max(at, last_reading_at), None)
