"""The exact numbers of the fleet exports: integers rendered as decimal JSON numbers."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction

import pytest

from mobility.fleet.exports import Fixed, ocpi_time, render_json


@pytest.mark.parametrize(
    ("units", "scale", "text"),
    [
        (1_833, 3, "1.833"),
        (1_000, 3, "1"),
        (1_830, 3, "1.83"),
        (5, 3, "0.005"),
        (0, 3, "0"),
        (-1_500_000, 6, "-1.5"),
        (123_456_789_012_345_678, 3, "123456789012345.678"),  # beyond a float's 15-16 digits
        (7, 0, "7"),
    ],
)
def test_fixed_numbers_are_exact(units: int, scale: int, text: str) -> None:
    assert Fixed(units, scale).text() == text
    assert json.loads(render_json({"v": Fixed(units, scale)}), parse_float=Fraction)["v"] == Fraction(
        units, 10**scale
    )


def test_render_json_matches_json_for_plain_values() -> None:
    value = {"a": [1, 'x\n"', None, True], "b": {"c": Fixed(25, 1)}}
    assert json.loads(render_json(value)) == {"a": [1, 'x\n"', None, True], "b": {"c": 2.5}}
    with pytest.raises(TypeError):
        render_json({"f": 0.1})  # a float never slips into an export


def test_ocpi_times_are_utc_with_z() -> None:
    at = dt.datetime(2026, 3, 1, 12, 0, 5, 250_000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert ocpi_time(at) == "2026-03-01T10:00:05.25Z"
    assert ocpi_time(at.replace(microsecond=0)) == "2026-03-01T10:00:05Z"
