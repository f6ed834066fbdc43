"""The city's own reading of its tariffs, and its own arithmetic for what a session costs.

The city checks the engine's bills, so it does not borrow the engine's pricing: it reads the
tariff shapes its scenarios use straight from the scenario file (OCPI-shaped, as the operator
API takes them: integer micro-units per kWh or per session, VAT in basis points) and prices a
session from the readings its simulated charger sent. Shapes it cannot price are refused when
the scenario loads, so a scenario never asks the city to trust a bill it cannot check.

What it prices, from the tariff definition (the engine's API documents the same rules):

- ENERGY and FLAT price components, with an optional `step_size` (Wh) and `vat_bp`;
- elements restricted to a local time-of-day window (`start_time` <= t < `end_time`, in the
  tariff's time zone; a window may cross midnight), or not restricted at all;
- a session's energy is linear in time between the readings its charger reported (0 Wh at the
  start); each stretch of energy is billed by the first element, in order, whose window holds
  the stretch's start and which has an ENERGY price; the flat fee by the first element active
  at the start with a FLAT price;
- each element's energy is billed in whole steps (rounded up) when its step is above 1 Wh;
- the session's total incl. VAT is summed exactly and rounded once, half up, to a micro-unit.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WH_PER_KWH = 1_000
BASIS_POINTS = 10_000
PRICED = ("ENERGY", "FLAT")
RESTRICTIONS = frozenset({"start_time", "end_time"})


class TariffShapeError(ValueError):
    """A tariff the city cannot price (or not a tariff at all); the message says why."""


@dataclass(frozen=True, slots=True)
class Component:
    """One price: micro-units per kWh (ENERGY) or per session (FLAT)."""

    dimension: str
    price: int
    vat_bp: int
    step_wh: int


@dataclass(frozen=True, slots=True)
class Element:
    """Prices that apply within a local time-of-day window (None: always)."""

    components: tuple[Component, ...]
    window: tuple[dt.time, dt.time] | None

    def active(self, local: dt.datetime) -> bool:
        """Whether the window holds this local instant."""
        if self.window is None:
            return True
        start, end = self.window
        at = local.time().replace(tzinfo=None)
        return start <= at < end if start <= end else (at >= start or at < end)

    def component(self, dimension: str) -> Component | None:
        """This element's price for `dimension`, if it has one."""
        return next((c for c in self.components if c.dimension == dimension), None)


@dataclass(frozen=True, slots=True)
class CityTariff:
    """A tariff as the city reads it; `document` is what the operator API is sent."""

    id: str
    currency: str
    zone: ZoneInfo
    elements: tuple[Element, ...]
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reading:
    """The session's energy (Wh since its start) at an instant, as the charger reported it."""

    at: dt.datetime
    energy_wh: int


def parse_tariff(raw: Any) -> CityTariff:
    """Read a scenario's tariff table; raise `TariffShapeError` for anything the city cannot price."""
    if not isinstance(raw, dict):
        raise TariffShapeError("a tariff is a table")
    unknown = set(raw) - {"id", "currency", "timezone", "elements"}
    if unknown:
        raise TariffShapeError(f"the city prices no {sorted(unknown)}")
    tariff_id, currency = raw.get("id"), raw.get("currency")
    if not isinstance(tariff_id, str) or not tariff_id:
        raise TariffShapeError("id: a non-empty string")
    if not isinstance(currency, str) or len(currency) != 3:
        raise TariffShapeError("currency: an ISO 4217 code")
    try:
        zone = ZoneInfo(str(raw.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise TariffShapeError(f"timezone: {error}") from error
    elements = raw.get("elements")
    if not isinstance(elements, list) or not elements:
        raise TariffShapeError("elements: at least one")
    parsed = tuple(_element(e, f"elements[{i}]") for i, e in enumerate(elements))
    return CityTariff(tariff_id, currency, zone, parsed, _json_ready(raw))


def _json_ready(value: Any) -> Any:
    """The table with TOML's times of day as the "HH:MM:SS" strings JSON carries."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    return value.isoformat() if isinstance(value, dt.time) else value


def _element(raw: Any, where: str) -> Element:
    if not isinstance(raw, dict) or set(raw) - {"price_components", "restrictions"}:
        raise TariffShapeError(f"{where}: price_components and restrictions only")
    components = raw.get("price_components")
    if not isinstance(components, list) or not components:
        raise TariffShapeError(f"{where}: price_components: at least one")
    restrictions = raw.get("restrictions")
    window = None
    if restrictions is not None:
        if not isinstance(restrictions, dict) or set(restrictions) != RESTRICTIONS:
            raise TariffShapeError(f"{where}: restrictions: the city prices start_time/end_time windows only")
        window = (_time(restrictions["start_time"], where), _time(restrictions["end_time"], where))
    return Element(tuple(_component(c, f"{where}.price_components") for c in components), window)


def _component(raw: Any, where: str) -> Component:
    if not isinstance(raw, dict) or set(raw) - {"type", "price", "vat_bp", "step_size"}:
        raise TariffShapeError(f"{where}: type, price, vat_bp and step_size only")
    dimension = raw.get("type")
    if dimension not in PRICED:
        raise TariffShapeError(f"{where}: the city prices {' and '.join(PRICED)} only, not {dimension!r}")
    values = [raw.get("price"), raw.get("vat_bp", 0), raw.get("step_size", 1)]
    if any(not isinstance(v, int) or isinstance(v, bool) for v in values) or min(values) < 0:
        raise TariffShapeError(f"{where}: price, vat_bp and step_size are non-negative integers")
    price, vat_bp, step = values
    if step < 1:
        raise TariffShapeError(f"{where}: step_size at least 1")
    return Component(str(dimension), price, vat_bp, step)


def _time(value: Any, where: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as error:
        raise TariffShapeError(f"{where}: {value!r} is not a time of day") from error


def session_price(
    tariff: CityTariff, started_at: dt.datetime, readings: Sequence[Reading], ended_at: dt.datetime
) -> int:
    """What the session costs, incl. VAT, in micro-units (see the module docstring)."""
    points = _points(started_at, readings, ended_at)
    cuts = sorted({t for t, _ in points} | _window_edges(tariff, started_at, ended_at, points[-1][0]))
    energy_by_element: dict[int, Fraction] = {}
    for a, b in itertools.pairwise(cuts):
        local = (started_at + dt.timedelta(microseconds=int(a * 1_000_000))).astimezone(tariff.zone)
        chosen = next(
            (i for i, e in enumerate(tariff.elements) if e.active(local) and e.component("ENERGY")), None
        )
        energy = _energy_at(points, b) - _energy_at(points, a)
        if chosen is not None and energy:
            energy_by_element[chosen] = energy_by_element.get(chosen, Fraction(0)) + energy
    total = Fraction(0)
    for index, energy in energy_by_element.items():
        component = tariff.elements[index].component("ENERGY")
        assert component is not None
        step = component.step_wh
        billed = energy if step == 1 else Fraction(-(-energy // step) * step)
        total += _with_vat(billed * component.price / WH_PER_KWH, component)
    at_start = started_at.astimezone(tariff.zone)
    flat = next(
        (c for e in tariff.elements if e.active(at_start) and (c := e.component("FLAT")) is not None), None
    )
    if flat is not None:
        total += _with_vat(Fraction(flat.price), flat)
    return int(total + Fraction(1, 2)) if total >= 0 else -int(-total + Fraction(1, 2))


def _with_vat(amount: Fraction, component: Component) -> Fraction:
    return amount * (BASIS_POINTS + component.vat_bp) / BASIS_POINTS


def _seconds(start: dt.datetime, at: dt.datetime) -> Fraction:
    return Fraction((at - start) // dt.timedelta(microseconds=1), 1_000_000)


def _points(
    started_at: dt.datetime, readings: Sequence[Reading], ended_at: dt.datetime
) -> list[tuple[Fraction, Fraction]]:
    """(seconds since the start, Wh) from the start to the end, in time order."""
    found = {Fraction(0): Fraction(0)}
    last = 0
    for reading in sorted(readings, key=lambda r: r.at):
        offset = _seconds(started_at, reading.at)
        found[offset] = max(found.get(offset, Fraction(0)), Fraction(reading.energy_wh))
        last = max(last, reading.energy_wh)
    end = _seconds(started_at, ended_at)
    if end not in found and end > max(found):
        found[end] = Fraction(last)
    return sorted(found.items())


def _energy_at(points: list[tuple[Fraction, Fraction]], at: Fraction) -> Fraction:
    if at >= points[-1][0]:
        return points[-1][1]
    for (t0, e0), (t1, e1) in itertools.pairwise(points):
        if t0 <= at < t1:
            return e0 + (e1 - e0) * (at - t0) / (t1 - t0)
    return points[0][1]


def _window_edges(
    tariff: CityTariff, started_at: dt.datetime, ended_at: dt.datetime, end: Fraction
) -> set[Fraction]:
    """Where some element's window opens or closes during the session (seconds since start)."""
    edges: set[Fraction] = set()
    times = {t for e in tariff.elements if e.window is not None for t in e.window}
    day = started_at.astimezone(tariff.zone).date()
    last = ended_at.astimezone(tariff.zone).date()
    while day <= last:
        for clock in times:
            offset = _seconds(started_at, dt.datetime.combine(day, clock, tzinfo=tariff.zone))
            if 0 < offset < end:
                edges.add(offset)
        day += dt.timedelta(days=1)
    return edges
