"""camelCase <-> snake_case for payloads, with the library's rules but memoised per key.

The library runs two regular expressions per key per message; keys repeat endlessly
(`meterValue`, `sampledValue`...), so each is converted once.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

from ocpp_server._ocpp import camel_key, snake_key

_snake = lru_cache(maxsize=4096)(snake_key)
_camel = lru_cache(maxsize=4096)(camel_key)


def to_snake(data: Any) -> Any:
    """Every dict key in `data`, recursively, in snake_case."""
    if isinstance(data, dict):
        return {_snake(key): to_snake(value) for key, value in data.items()}
    if isinstance(data, list):
        return [to_snake(value) for value in data]
    return data


def to_camel(data: Any) -> Any:
    """Every dict key in `data`, recursively, in camelCase; None values dropped (optional fields)."""
    if isinstance(data, dict):
        return {_camel(key): to_camel(value) for key, value in data.items() if value is not None}
    if isinstance(data, list):
        return [to_camel(value) for value in data if value is not None]
    return data


def payload_of(response: Any) -> Any:
    """A handler's answer (a library call_result dataclass, or a dict) as a camelCase dict."""
    if dataclasses.is_dataclass(response) and not isinstance(response, type):
        response = dataclasses.asdict(response)
    return to_camel(response)
