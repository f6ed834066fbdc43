"""Money is an integer count of micro-units (1 000 000 = one unit of the settlement currency).

Prices are exact rationals until the one place a total is rounded: `round_half_up`.
"""

from __future__ import annotations

from fractions import Fraction

MICRO_UNITS = 1_000_000
"""Micro-units in one unit of the configured currency."""


def round_half_up(amount: Fraction) -> int:
    """The nearest whole micro-unit, halves away from zero (amounts here are never negative)."""
    if amount < 0:
        raise ValueError(f"negative amount {amount}")
    return int((amount * 2 + 1) // 2)
