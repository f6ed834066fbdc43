"""JSON text from outside (a charger's frame, a payer's stream message) parsed with its nesting
bounded.

`json.loads` recurses once per level: 200 KB of `[[[[...` raised RecursionError, which nothing
expected, and the websocket closed with 1011; a few hundred levels parsed but broke the code
walking the result afterwards. Here anything nested deeper than `MAX_DEPTH` is a plain
`TooDeepError` (a `ValueError`, like any other unparseable text), found before parsing.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
"""OCPP frames nest about 8 levels deep (frame, payload, meterValue, sampledValue, ...)."""

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class TooDeepError(ValueError):
    """The text nests arrays and objects deeper than allowed."""


def depth(text: str) -> int:
    """How deeply `text` nests arrays and objects (brackets inside strings do not count)."""
    deepest = level = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            level += 1
            deepest = max(deepest, level)
        else:
            level -= 1
    return deepest


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, refusing text nested deeper than `max_depth` with `TooDeepError`."""
    if isinstance(text, bytes):
        text = text.decode()
    # Counting brackets is fast; only text with enough of them to be too deep is scanned.
    if text.count("[") + text.count("{") > max_depth and depth(text) > max_depth:
        raise TooDeepError(f"JSON nested deeper than {max_depth} levels")
    return json.loads(text)
