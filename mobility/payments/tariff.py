"""Tariffs shaped like OCPI 2.2.1, with integer money and energy.

Differences from OCPI's JSON, all for exactness: prices are integer micro-units per unit
(per kWh for ENERGY, per hour for TIME and PARKING_TIME, per session for FLAT); VAT is in basis
points (2100 = 21 %); energy limits are Wh, power limits W, durations seconds. Current
restrictions are refused: meter values carry no current to test them against.

A tariff is identified by (id, version); a session is priced with the version it started with.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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
    price: int = Field(ge=0, description="micro-units per kWh, per hour, or per session (FLAT)")
    vat_bp: int = Field(default=0, ge=0, le=100_000, description="VAT in basis points")
    step_size: int = Field(default=1, ge=1, description="Wh for ENERGY, seconds for times")


class TariffRestrictions(_Frozen):
    """When an element applies; every given condition must hold (lower bounds inclusive)."""

    start_time: dt.time | None = None
    end_time: dt.time | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    min_wh: int | None = Field(default=None, ge=0)
    max_wh: int | None = Field(default=None, ge=0)
    min_power_w: int | None = Field(default=None, ge=0)
    max_power_w: int | None = Field(default=None, ge=0)
    min_duration_s: int | None = Field(default=None, ge=0)
    max_duration_s: int | None = Field(default=None, ge=0)
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
    price_components: tuple[PriceComponent, ...] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class Price(_Frozen):
    excl_vat: int = Field(ge=0)
    incl_vat: int = Field(ge=0)


class Tariff(_Frozen):
    """A versioned tariff; `timezone` is where its time-of-day and date restrictions are read."""

    id: str = Field(min_length=1, max_length=36)
    version: int = Field(default=1, ge=1)
    currency: str = Field(min_length=3, max_length=3)
    timezone: str = "UTC"
    elements: tuple[TariffElement, ...] = Field(min_length=1)
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
