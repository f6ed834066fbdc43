"""The one module of the simulator that imports the untyped `ocpp` library.

The simulator is a client of the central system, so it uses the library from the charge
point's side; this module gives the rest of `sims.chargers` typed names for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from ocpp import routing as _routing  # type: ignore[import-untyped]
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
OCPPError: type[Exception] = _OCPPError


def on(action: str) -> Callable[[F], F]:
    """The library's `@on`, typed (the library validates what the central system sends)."""
    return cast(Callable[[F], F], _routing.on(action))


def after(action: str) -> Callable[[F], F]:
    """The library's `@after`: runs once the answer to `action` has been sent."""
    return cast(Callable[[F], F], _routing.after(action))


__all__ = [
    "ChargePoint16",
    "ChargePoint21",
    "ChargePoint201",
    "OCPPError",
    "after",
    "call16",
    "call21",
    "call201",
    "on",
    "result16",
    "result21",
    "result201",
]
