"""The one place that imports the untyped `ocpp` library, giving the rest of the package types.

`on` always skips the library's schema validation: `framing` validates requests itself, on
the event loop, so that it can answer with the error codes each OCPP version specifies.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any, TypeVar, cast

from ocpp import charge_point as _charge_point  # type: ignore[import-untyped]
from ocpp import messages as _messages
from ocpp import routing as _routing
from ocpp.exceptions import OCPPError as _OCPPError  # type: ignore[import-untyped]
from ocpp.v16 import ChargePoint as _ChargePoint16  # type: ignore[import-untyped]
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v21 import ChargePoint as _ChargePoint21  # type: ignore[import-untyped]
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as result21
from ocpp.v201 import ChargePoint as _ChargePoint201  # type: ignore[import-untyped]
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

F = TypeVar("F", bound=Callable[..., Any])

ChargePoint16: type[Any] = _ChargePoint16
ChargePoint201: type[Any] = _ChargePoint201
ChargePoint21: type[Any] = _ChargePoint21
Call: type[Any] = _messages.Call
CallResult: type[Any] = _messages.CallResult
CallError: type[Any] = _messages.CallError
OCPPError: type[Exception] = _OCPPError


def on(action: str) -> Callable[[F], F]:
    """The library's `@on`, typed, with its validation off (see module docstring)."""
    return cast(Callable[[F], F], _routing.on(action, skip_schema_validation=True))


def snake_key(key: str) -> str:
    """The library's camelCase -> snake_case rule for one key (memoised by `keys.py`)."""
    return str(next(iter(_charge_point.camel_to_snake_case({key: None}))))


def camel_key(key: str) -> str:
    """The library's snake_case -> camelCase rule for one key (memoised by `keys.py`)."""
    return str(next(iter(_charge_point.snake_to_camel_case({key: None}))))


def request_validator(action: str, ocpp_version: str) -> Any:
    """The library's cached Draft-4 validator for an inbound request, or None if none exists."""
    try:
        return _messages.get_validator(2, action, ocpp_version)
    except (OSError, ValueError):
        return None


@cache
def known_actions(ocpp_version: str) -> frozenset[str]:
    """Every action `ocpp_version` defines a request schema for (either direction), read once
    from the library's schema files: what a CALL may name and still be recognised."""
    folder = resources.files("ocpp") / (
        "v16" if ocpp_version == "1.6" else f"v{ocpp_version.replace('.', '')}"
    )
    names = [item.name.removesuffix(".json") for item in (folder / "schemas").iterdir()]
    if ocpp_version == "1.6":
        return frozenset(name for name in names if not name.endswith("Response"))
    return frozenset(name.removesuffix("Request") for name in names if name.endswith("Request"))


__all__ = [
    "Call",
    "CallError",
    "CallResult",
    "ChargePoint16",
    "ChargePoint21",
    "ChargePoint201",
    "OCPPError",
    "call16",
    "call21",
    "call201",
    "camel_key",
    "known_actions",
    "on",
    "request_validator",
    "result16",
    "result21",
    "result201",
    "snake_key",
]
