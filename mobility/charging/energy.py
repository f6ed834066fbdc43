"""Energy arithmetic: register values to integer Wh, and the rules that keep billing honest.

Parsing goes through `Fraction` so "12.3456" kWh is exact until it is floored to whole Wh;
no float or Decimal ever holds an energy amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from mobility.limits import MAX_REGISTER_WH

ENERGY_REGISTER = "Energy.Active.Import.Register"
_UNIT_FACTORS = {"wh": 1, "kwh": 1000}
# A plain decimal with an exponent of at most 4 digits: `Fraction("1e-999999999")` and
# `Fraction(10) ** 999999999` would each compute a billion-digit integer first.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")
MAX_MULTIPLIER = 24
"""The largest 2.x unit multiplier (a power of ten) taken either way: 1e24 is yotta."""


def register_wh(value: str | int | float, unit: str | None = None, multiplier: int = 0) -> int | None:
    """The register in whole Wh (floored), or None for a unit that is not energy; ValueError for
    a value that is not a decimal number or lies outside [0, MAX_REGISTER_WH] Wh.

    `unit` defaults to Wh (both 1.6 and 2.x say so); `multiplier` is the 2.x power of ten.
    """
    factor = _UNIT_FACTORS.get((unit or "Wh").lower())
    if factor is None:
        return None
    text = str(value)
    if abs(multiplier) > MAX_MULTIPLIER:
        raise ValueError(f"unit multiplier {multiplier} is outside +-{MAX_MULTIPLIER}")
    if len(text) > 64 or not _DECIMAL.fullmatch(text):
        raise ValueError(f"register {text[:64]!r} is not a decimal number")
    if multiplier == 0 and text.isdigit():
        wh = int(text) * factor  # whole Wh or kWh, as most meters send: exact without Fraction
    else:
        wh = int(Fraction(text) * factor * Fraction(10) ** multiplier // 1)
    if not 0 <= wh <= MAX_REGISTER_WH:
        raise ValueError(f"register of {text} {unit or 'Wh'} is outside 0 to {MAX_REGISTER_WH} Wh")
    return wh


def register_to_wh(value: str | int | float, unit: str | None = None, multiplier: int = 0) -> int | None:
    """`register_wh`, or None for a value it refuses (the OCPP server refuses those earlier)."""
    try:
        return register_wh(value, unit, multiplier)
    except ValueError:
        return None


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
