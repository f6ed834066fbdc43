"""The engine's bounds (`mobility.limits`) keep every bill in a signed 64-bit integer, and
`bounded_json` refuses nesting before the parser recurses (issue 14, points 4 and 6)."""

from __future__ import annotations

import json

import pytest

from mobility import bounded_json
from mobility.limits import INT64_MAX, worst_case_bill


def test_the_worst_bill_under_the_bounds_fits_a_signed_64_bit_integer() -> None:
    assert worst_case_bill() < INT64_MAX // 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 0),
        ("[]", 1),
        ('[{"a": [1]}]', 3),
        ('["[[[[", "{{{{"]', 1),  # brackets in strings do not count
        ('["\\"[[[["]', 1),  # nor after an escaped quote
    ],
)
def test_depth(text: str, expected: int) -> None:
    assert bounded_json.depth(text) == expected


def test_loads_refuses_deep_nesting_before_parsing() -> None:
    assert bounded_json.loads("[" * 32 + "]" * 32) is not None
    with pytest.raises(bounded_json.TooDeepError):
        bounded_json.loads("[" * 33 + "]" * 33)
    with pytest.raises(bounded_json.TooDeepError):
        bounded_json.loads("[" * 200_000)
    with pytest.raises(ValueError, match="Expecting"):
        bounded_json.loads("[" * 10)
    wide = json.dumps([[i] for i in range(1000)])  # many brackets, shallow
    assert len(bounded_json.loads(wide)) == 1000
