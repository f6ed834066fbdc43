"""Energy register readings out of OCPP meter values (1.6 and 2.x shapes, snake_case keys)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mobility.charging.energy import ENERGY_REGISTER, register_to_wh
from mobility.charging.timeutil import parse_timestamp


@dataclass(frozen=True, slots=True)
class RegisterSample:
    """One Energy.Active.Import.Register value, total over phases, at the outlet."""

    register_wh: int
    at: datetime
    context: str | None


def register_samples(meter_values: list[dict[str, Any]] | None) -> Iterator[RegisterSample]:
    """The import-register samples in `meter_values`, in order; everything else is skipped.

    Sampled and clock-aligned values are both taken (the context is kept). Per-phase values
    and readings at the EV side are skipped: the session is billed on the outlet's total.
    """
    for meter_value in meter_values or []:
        at = parse_timestamp(str(meter_value["timestamp"]))
        for sample in meter_value.get("sampled_value", []):
            if sample.get("measurand", ENERGY_REGISTER) != ENERGY_REGISTER:
                continue
            if sample.get("phase") or sample.get("location", "Outlet") != "Outlet":
                continue
            unit_of_measure = sample.get("unit_of_measure") or {}
            unit = sample.get("unit") or unit_of_measure.get("unit")
            multiplier = int(unit_of_measure.get("multiplier", 0))
            register_wh = register_to_wh(sample["value"], unit, multiplier)
            if register_wh is not None:
                yield RegisterSample(register_wh, at, sample.get("context"))
