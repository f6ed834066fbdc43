"""What OCPP's JSON schemas cannot say about a request, checked before anything is applied.

The schemas say "integer" and "date-time" but bound nothing: a connectorId of -1 or 2**31, a
meterStart of -5, a timestamp of "yesterday" or in the year 9999, a register of 1e308 kWh or a
2.x unit multiplier of a billion all passed, and then failed deep in a handler (InternalError,
half applied) or were stored as they came. Each is refused here, as a whole message, with
PropertyConstraintViolation: the value has the right JSON type but is not an acceptable value.
A message ID over 36 characters (OCPP-J's limit) is refused by `framing` as a malformed frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mobility.charging.energy import ENERGY_REGISTER, register_wh
from mobility.charging.timeutil import parse_timestamp
from mobility.limits import EARLIEST_TIME, INT32_MAX, LATEST_TIME, MAX_REGISTER_WH
from ocpp_server.errors import Problem

MAX_MESSAGE_ID = 36
"""OCPP-J: a message ID is a string of at most 36 characters."""


class ValueViolationError(ValueError):
    """A field holds a value the engine does not accept."""


Payload = dict[str, Any]
Check = Callable[[Payload], None]


def _integer(payload: Payload, field: str, low: int = 0, high: int = INT32_MAX) -> None:
    value = payload.get(field)
    if value is not None and not low <= value <= high:
        raise ValueViolationError(f"{field} {value} is outside {low} to {high}")


def _timestamp(payload: Payload, field: str) -> None:
    value = payload.get(field)
    if value is None:
        return
    try:
        at = parse_timestamp(value)
    except ValueError:
        raise ValueViolationError(f"{field} {value[:40]!r} is not an RFC 3339 date-time") from None
    if not EARLIEST_TIME <= at < LATEST_TIME:
        years = f"{EARLIEST_TIME.year} to {LATEST_TIME.year}"
        raise ValueViolationError(f"{field} {value[:40]} is outside {years}")


def _register(payload: Payload, field: str) -> None:
    _integer(payload, field, 0, MAX_REGISTER_WH)


def _meter_values(payload: Payload, field: str) -> None:
    """Timestamps, and the energy registers the engine reads (`readings.register_samples`)."""
    for meter_value in payload.get(field) or ():
        _timestamp(meter_value, "timestamp")
        for sample in meter_value.get("sampledValue", ()):
            if sample.get("measurand", ENERGY_REGISTER) != ENERGY_REGISTER or sample.get("phase"):
                continue
            if sample.get("location", "Outlet") != "Outlet" or sample.get("format") == "SignedData":
                continue
            unit_of_measure = sample.get("unitOfMeasure") or {}
            unit = sample.get("unit") or unit_of_measure.get("unit")
            try:
                register_wh(sample.get("value", ""), unit, unit_of_measure.get("multiplier", 0))
            except ValueError as error:
                raise ValueViolationError(f"{field}: {error}") from None


def _start_16(payload: Payload) -> None:
    _integer(payload, "connectorId", 1)
    _register(payload, "meterStart")
    _timestamp(payload, "timestamp")


def _stop_16(payload: Payload) -> None:
    _register(payload, "meterStop")
    _timestamp(payload, "timestamp")
    _meter_values(payload, "transactionData")


def _meter_values_16(payload: Payload) -> None:
    _integer(payload, "connectorId")
    _meter_values(payload, "meterValue")


def _status_16(payload: Payload) -> None:
    _integer(payload, "connectorId")
    _timestamp(payload, "timestamp")


def _status_2x(payload: Payload) -> None:
    _timestamp(payload, "timestamp")
    _integer(payload, "evseId")
    _integer(payload, "connectorId")


def _transaction_event(payload: Payload) -> None:
    _timestamp(payload, "timestamp")
    _integer(payload, "seqNo")
    evse = payload.get("evse") or {}
    _integer(evse, "id")
    _integer(evse, "connectorId")
    _meter_values(payload, "meterValue")


def _meter_values_2x(payload: Payload) -> None:
    _integer(payload, "evseId")
    _meter_values(payload, "meterValue")


def _notify_event(payload: Payload) -> None:
    _timestamp(payload, "generatedAt")
    _integer(payload, "seqNo")


_V16: dict[str, Check] = {
    "StartTransaction": _start_16,
    "StopTransaction": _stop_16,
    "MeterValues": _meter_values_16,
    "StatusNotification": _status_16,
}
_V2X: dict[str, Check] = {
    "StatusNotification": _status_2x,
    "TransactionEvent": _transaction_event,
    "MeterValues": _meter_values_2x,
    "NotifyEvent": _notify_event,
}


def value_violation(action: str, ocpp_version: str, payload: Payload) -> tuple[Problem, str] | None:
    """Why a schema-valid request's values are refused, if they are (camelCase payload)."""
    check = (_V16 if ocpp_version == "1.6" else _V2X).get(action)
    if check is None:
        return None
    try:
        check(payload)
    except ValueViolationError as violation:
        return Problem.PROPERTY, str(violation)[:200]
    return None
