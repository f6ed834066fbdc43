"""The engine's bounds on energy, time and money, chosen so that no bill can overflow.

Every amount is stored in a signed 64-bit integer (SQLite INTEGER, PostgreSQL BIGINT). A bill
is at most energy x energy price + duration x (time price + parking price) + a flat fee, each
stepped up by at most one step per tariff element, plus VAT; with the bounds below the worst
case is about 2.0e18 micro-units, under 2**63 - 1 (~9.2e18) with room to spare
(`worst_case_bill`, checked by the tests). Input outside them is refused where it enters: the
OCPP server answers PropertyConstraintViolation, the API 422.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
"""OCPP's `integer` is 32 bits; so are the database's integer columns (connector IDs, seqNos)."""

MAX_REGISTER_WH = 10**12
"""1 TWh: a meter register (and so a session's energy) above this is refused. A 350 kW charger
running flat out for 30 years meters 9.2e10 Wh."""

EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)
"""Charger timestamps outside [EARLIEST_TIME, LATEST_TIME) are refused: "year 9999" is a broken
clock, and the window bounds any session's duration to a century."""
MAX_DURATION = LATEST_TIME - EARLIEST_TIME

MAX_PRICE = 10**9
"""1,000 currency units in micro-units: the most a tariff may charge per kWh, per hour, per
session (flat), or as a minimum or maximum session price."""
MAX_VAT_BP = 10_000
"""VAT of at most 100 % (in basis points)."""
MAX_STEP = 10**6
"""A price component's step: at most 1 MWh (ENERGY) or 1,000,000 s (times)."""
MAX_TARIFF_ELEMENTS = 100
MAX_PRICE_COMPONENTS = 8
MAX_POWER_W = 10**9

MAX_VOUCHER_NONCE = INT64_MAX
"""A voucher nonce is a u64 on the ledger, stored signed: higher ones are refused as malformed."""


def worst_case_bill() -> int:
    """An upper bound of any session's bill under the bounds above (micro-units, VAT included).

    Each (element, dimension) pair bills its volume rounded up to a step, so rounding adds at
    most MAX_STEP per element to a dimension's volume.
    """
    rounding = MAX_TARIFF_ELEMENTS * MAX_STEP
    energy = (MAX_REGISTER_WH + rounding) * MAX_PRICE // 1000 + 1
    seconds = MAX_DURATION // timedelta(seconds=1) + rounding
    times = 2 * (seconds * MAX_PRICE // 3600 + 1)  # TIME and PARKING_TIME
    excl_vat = energy + times + MAX_PRICE
    return max(excl_vat * (10_000 + MAX_VAT_BP) // 10_000 + 1, MAX_PRICE)
