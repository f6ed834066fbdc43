"""Tariffs shaped like OCPI 2.2.1, with integer money and energy.

Differences from OCPI's JSON, all for exactness: prices are integer micro-units per unit
(per kWh for ENERGY, per hour for TIME and PARKING_TIME, per session for FLAT); VAT is in basis
points (2100 = 21 %); energy limits are Wh, power limits W, durations seconds. Current
restrictions are refused: meter values carry no current to test them against.

A tariff is identified by (id, version); a session is priced with the version it started with.

What the operator API takes is a `TariffIn`: a tariff within `mobility.limits` (prices at most
1,000 units, VAT at most 100 %, steps at most 1 MWh or 10^6 s, at most 100 elements of at most 8
components), so that no session's bill can leave a signed 64-bit integer. `Tariff` itself does
not check those bounds, so a version stored before them still loads, and a bill it cannot make
is flagged by the payment layer rather than failing the engine.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mobility.limits import (
    INT32_MAX,
    MAX_DURATION,
    MAX_POWER_W,
    MAX_PRICE,
    MAX_PRICE_COMPONENTS,
    MAX_REGISTER_WH,
    MAX_STEP,
    MAX_TARIFF_ELEMENTS,
    MAX_VAT_BP,
)

_MAX_DURATION_S = int(MAX_DURATION.total_seconds())


def _at_most(maximum: int) -> dict[str, Any]:
    """A documented maximum (OpenAPI), enforced by `TariffIn` only (see the module docstring)."""
    return {"maximum": maximum}


class Dimension(StrEnum):
    """What a price component charges for (OCPI TariffDimensionType)."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @property
    def iso_index(self) -> int:
        """Monday = 0, as `datetime.weekday()`."""
        return list(DayOfWeek).index(self)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PriceComponent(_Frozen):
    """One price for one dimension, billed in whole steps."""

    type: Dimension
    price: int = Field(
        ge=0,
        description="micro-units per kWh, per hour, or per session (FLAT)",
        json_schema_extra=_at_most(MAX_PRICE),
    )
    vat_bp: int = Field(
        default=0, ge=0, le=100_000, description="VAT in basis points", json_schema_extra=_at_most(MAX_VAT_BP)
    )
    step_size: int = Field(
        default=1, ge=1, description="Wh for ENERGY, seconds for times", json_schema_extra=_at_most(MAX_STEP)
    )


class TariffRestrictions(_Frozen):
    """When an element applies; every given condition must hold (lower bounds inclusive)."""

    start_time: dt.time | None = None
    end_time: dt.time | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    min_wh: int | None = Field(default=None, ge=0, json_schema_extra=_at_most(MAX_REGISTER_WH))
    max_wh: int | None = Field(default=None, ge=0, json_schema_extra=_at_most(MAX_REGISTER_WH))
    min_power_w: int | None = Field(default=None, ge=0, json_schema_extra=_at_most(MAX_POWER_W))
    max_power_w: int | None = Field(default=None, ge=0, json_schema_extra=_at_most(MAX_POWER_W))
    min_duration_s: int | None = Field(default=None, ge=0, json_schema_extra=_at_most(_MAX_DURATION_S))
    max_duration_s: int | None = Field(default=None, ge=0, json_schema_extra=_at_most(_MAX_DURATION_S))
    day_of_week: frozenset[DayOfWeek] | None = None
    min_current: float | None = None
    max_current: float | None = None

    @model_validator(mode="after")
    def _supported(self) -> TariffRestrictions:
        if self.min_current is not None or self.max_current is not None:
            raise ValueError("current restrictions are not supported: meter values carry no current")
        if (self.start_time is None) != (self.end_time is None):
            raise ValueError("start_time and end_time go together")
        return self


class TariffElement(_Frozen):
    price_components: tuple[PriceComponent, ...] = Field(
        min_length=1, json_schema_extra={"maxItems": MAX_PRICE_COMPONENTS}
    )
    restrictions: TariffRestrictions | None = None


class Price(_Frozen):
    excl_vat: int = Field(ge=0, json_schema_extra=_at_most(MAX_PRICE))
    incl_vat: int = Field(ge=0, json_schema_extra=_at_most(MAX_PRICE))


class Tariff(_Frozen):
    """A versioned tariff; `timezone` is where its time-of-day and date restrictions are read."""

    id: str = Field(min_length=1, max_length=36)
    version: int = Field(default=1, ge=1, le=INT32_MAX)
    currency: str = Field(min_length=3, max_length=3)
    timezone: str = "UTC"
    elements: tuple[TariffElement, ...] = Field(
        min_length=1, json_schema_extra={"maxItems": MAX_TARIFF_ELEMENTS}
    )
    min_price: Price | None = None
    max_price: Price | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as error:  # OSError: too long a name
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class TariffIn(Tariff):
    """A tariff as the operator API takes it: every money and energy field within
    `mobility.limits`, so any session's bill under it fits a signed 64-bit integer."""

    @model_validator(mode="after")
    def _within_bounds(self) -> Self:
        problems = []
        if len(self.elements) > MAX_TARIFF_ELEMENTS:
            problems.append(f"elements: at most {MAX_TARIFF_ELEMENTS}")
        for i, element in enumerate(self.elements):
            where = f"elements[{i}]"
            if len(element.price_components) > MAX_PRICE_COMPONENTS:
                problems.append(f"{where}.price_components: at most {MAX_PRICE_COMPONENTS}")
            for j, component in enumerate(element.price_components):
                problems += _over(
                    f"{where}.price_components[{j}]",
                    price=(component.price, MAX_PRICE),
                    vat_bp=(component.vat_bp, MAX_VAT_BP),
                    step_size=(component.step_size, MAX_STEP),
                )
            if (r := element.restrictions) is not None:
                problems += _over(
                    f"{where}.restrictions",
                    min_wh=(r.min_wh, MAX_REGISTER_WH),
                    max_wh=(r.max_wh, MAX_REGISTER_WH),
                    min_power_w=(r.min_power_w, MAX_POWER_W),
                    max_power_w=(r.max_power_w, MAX_POWER_W),
                    min_duration_s=(r.min_duration_s, _MAX_DURATION_S),
                    max_duration_s=(r.max_duration_s, _MAX_DURATION_S),
                )
        for name, price in (("min_price", self.min_price), ("max_price", self.max_price)):
            if price is not None:
                problems += _over(
                    name, excl_vat=(price.excl_vat, MAX_PRICE), incl_vat=(price.incl_vat, MAX_PRICE)
                )
        if problems:
            raise ValueError("; ".join(problems[:10]))
        return self


def _over(where: str, **fields: tuple[int | None, int]) -> list[str]:
    return [
        f"{where}.{name}: at most {maximum}"
        for name, (value, maximum) in fields.items()
        if value is not None and value > maximum
    ]
