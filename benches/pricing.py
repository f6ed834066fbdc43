"""Re-pricing a running session at a reading: what enforcement pays, against the exact price.

A channel's owner prices a running session again at every reading. `session_total` gives the
same totals as `price_session` (a property test holds them together) and, for tariffs that bill
only energy and a flat fee without restrictions, works in integers on the final energy instead
of building the exact curve. The reference is `price_session` on the same samples, in the same
run; the ratio is what to read, as the machines are shared.

    .venv/bin/python -m benches.pricing
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from benches.python_crypto import best_seconds
from mobility.payments.pricing import MeterSample, price_session, session_total
from mobility.payments.tariff import Tariff

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ENERGY_ONLY = {"type": "ENERGY", "price": 300_000, "vat_bp": 1900}
TARIFFS: dict[str, dict[str, Any]] = {
    "energy": {"elements": [{"price_components": [ENERGY_ONLY]}]},
    "energy + flat": {"elements": [{"price_components": [ENERGY_ONLY, {"type": "FLAT", "price": 500_000}]}]},
    "energy + time, off-peak": {
        "elements": [
            {
                "price_components": [{"type": "ENERGY", "price": 200_000}],
                "restrictions": {"start_time": "22:00", "end_time": "06:00"},
            },
            {"price_components": [ENERGY_ONLY, {"type": "TIME", "price": 1_000_000}]},
        ]
    },
}


def samples(count: int) -> list[MeterSample]:
    """A reading every 10 s at 11 kW (30 Wh each)."""
    return [MeterSample(START + dt.timedelta(seconds=10 * (i + 1)), 30 * (i + 1)) for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readings", type=int, nargs="+", default=[6, 60, 360])
    arguments = parser.parse_args()
    print(f"{'tariff':<24} {'readings':>8} {'session_total':>14} {'price_session':>14} {'ratio':>7}")
    for name, body in TARIFFS.items():
        tariff = Tariff.model_validate({"id": "t", "currency": "EUR", **body})
        for count in arguments.readings:
            readings = samples(count)
            assert (
                session_total(tariff, START, readings)[0]
                == price_session(tariff, START, readings).total_incl_vat
            )
            fast = best_seconds(lambda: session_total(tariff, START, readings), rounds=5)  # noqa: B023
            exact = best_seconds(lambda: price_session(tariff, START, readings), rounds=5)  # noqa: B023
            print(
                f"{name:<24} {count:>8} {fast * 1e6:>11.0f} µs {exact * 1e6:>11.0f} µs {exact / fast:>6.0f}x"
            )


if __name__ == "__main__":
    main()
