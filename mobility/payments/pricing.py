"""The cost of a charging session under a tariff: exact, integer, and reproducible.

The meter readings define session energy as a piecewise-linear function of time. The session
is cut at every instant where something a restriction looks at can change: a reading, a
local-time or date boundary of the tariff, a duration threshold, the moment the energy
crosses a kWh threshold (solved exactly on the segment). Within each piece every restriction
has one value, so for each dimension the first active element with a price for it applies
(OCPI's rule). Volumes are exact fractions; each price component bills its total volume (in
whole steps when it has a step size); the session total is rounded once, half up, to a micro-unit.

Rounding rule: a step size above 1 rounds up the total volume billed at each price component
(OCPI applies the last element's step to the whole dimension, which can make a longer session
cheaper; this rule cannot); step size 1, the default, bills the exact volume. Totals excl.
and incl. VAT are each rounded half up, then each is clamped to the tariff's min and max price.
The flat fee is chosen at the start, where power is not yet known, so power restrictions do
not choose it.

Because nothing depends on how the readings were grouped, a reading that lies on the line
between two others never changes the cost, and the cost never decreases as a session goes on.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from mobility.payments.money import round_half_up
from mobility.payments.tariff import Dimension, PriceComponent, Tariff, TariffElement, TariffRestrictions

_MICROSECOND = dt.timedelta(microseconds=1)
_UNITS_PER_PRICE_UNIT = {Dimension.ENERGY: 1000, Dimension.TIME: 3600, Dimension.PARKING_TIME: 3600}
_BASIS_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class MeterSample:
    """Session energy (Wh since the session started) at an instant (UTC-aware)."""

    at: dt.datetime
    energy_wh: int


@dataclass(frozen=True, slots=True)
class ChargingPeriod:
    """A stretch of the session billed by the same elements (an OCPI CDR charging period)."""

    start: dt.datetime
    elements: tuple[tuple[Dimension, int], ...]
    energy_wh: Fraction
    charging_s: Fraction
    parking_s: Fraction


@dataclass(frozen=True, slots=True)
class ComponentCharge:
    """What one price component billed: exact volume, stepped volume, exact amounts."""

    element: int
    component: PriceComponent
    volume: Fraction
    billed_volume: Fraction
    excl_vat: Fraction
    incl_vat: Fraction


@dataclass(frozen=True, slots=True)
class SessionCost:
    """The priced session: integer totals in micro-units plus the breakdown behind them."""

    tariff_id: str
    tariff_version: int
    total_excl_vat: int
    total_incl_vat: int
    energy_wh: int
    charges: tuple[ComponentCharge, ...]
    periods: tuple[ChargingPeriod, ...]


@dataclass(frozen=True, slots=True)
class _State:
    """What restrictions see during one piece of the session (power None: not yet known)."""

    local: dt.datetime
    duration_s: Fraction
    energy_wh: Fraction
    power_w: Fraction | None


class _Curve:
    """Session energy against seconds since the start, linear between readings."""

    def __init__(self, started_at: dt.datetime, samples: Sequence[MeterSample], ended_at: dt.datetime | None):
        points: dict[Fraction, Fraction] = {Fraction(0): Fraction(0)}
        last_energy = 0
        for sample in samples:
            if sample.at.tzinfo is None:
                raise ValueError(f"reading time {sample.at} must be timezone-aware (UTC)")
        for sample in sorted(samples, key=lambda s: s.at):
            if sample.at < started_at:
                raise ValueError(f"reading at {sample.at} precedes the session start {started_at}")
            if sample.energy_wh < last_energy:
                raise ValueError(f"session energy went down to {sample.energy_wh} Wh at {sample.at}")
            last_energy = sample.energy_wh
            offset = seconds_between(started_at, sample.at)
            if offset == 0 and sample.energy_wh != 0:
                raise ValueError(f"session energy at the start must be 0 Wh, got {sample.energy_wh}")
            # Two readings at one instant: the higher is the later; the curve reaches it directly.
            points[offset] = max(points.get(offset, Fraction(0)), Fraction(sample.energy_wh))
        if ended_at is not None:
            end = seconds_between(started_at, ended_at)
            if end < max(points):
                raise ValueError(f"session end {ended_at} precedes its last reading")
            points.setdefault(end, Fraction(last_energy))
        self.times = sorted(points)
        self.energies = [points[t] for t in self.times]
        self.final_energy_wh = last_energy

    @property
    def end(self) -> Fraction:
        return self.times[-1]

    def segment(self, at: Fraction) -> int:
        """Index i of the segment [times[i], times[i+1]) containing `at` (last one at the end)."""
        low, high = 0, len(self.times) - 2
        while low < high:
            middle = (low + high + 1) // 2
            if self.times[middle] <= at:
                low = middle
            else:
                high = middle - 1
        return max(low, 0)

    def energy_at(self, at: Fraction) -> Fraction:
        if len(self.times) == 1:
            return self.energies[0]
        i = self.segment(at)
        t0, t1, e0, e1 = self.times[i], self.times[i + 1], self.energies[i], self.energies[i + 1]
        return e0 + (e1 - e0) * (at - t0) / (t1 - t0)

    def power_w(self, at: Fraction) -> Fraction:
        """Average power of the reading segment that starts at or before `at`."""
        if len(self.times) == 1:
            return Fraction(0)
        i = self.segment(at)
        return (self.energies[i + 1] - self.energies[i]) * 3600 / (self.times[i + 1] - self.times[i])

    def crossing(self, energy_wh: int) -> Fraction | None:
        """First instant the energy reaches `energy_wh`, if it does after the start."""
        target = Fraction(energy_wh)
        for i in range(len(self.times) - 1):
            e0, e1 = self.energies[i], self.energies[i + 1]
            if e0 < target <= e1:
                return self.times[i] + (target - e0) * (self.times[i + 1] - self.times[i]) / (e1 - e0)
        return None


def seconds_between(start: dt.datetime, at: dt.datetime) -> Fraction:
    """Exact seconds from `start` to `at` (both aware; microsecond resolution)."""
    if start.tzinfo is None or at.tzinfo is None:
        raise ValueError("times must be timezone-aware (UTC)")
    return Fraction((at - start) // _MICROSECOND, 1_000_000)


def _instant(start: dt.datetime, offset: Fraction) -> dt.datetime:
    """The instant `offset` seconds after `start`, floored to the microsecond."""
    return start + dt.timedelta(microseconds=math.floor(offset * 1_000_000))


def _active(restrictions: TariffRestrictions | None, state: _State) -> bool:
    if restrictions is None:
        return True
    r = restrictions
    local_time, local_date = state.local.time(), state.local.date()
    if r.start_time is not None and r.end_time is not None:
        if r.start_time <= r.end_time:
            inside = r.start_time <= local_time < r.end_time
        else:  # crosses midnight, e.g. 22:00 to 06:00
            inside = local_time >= r.start_time or local_time < r.end_time
        if not inside:
            return False
    checks = (
        r.start_date is None or local_date >= r.start_date,
        r.end_date is None or local_date < r.end_date,
        r.min_wh is None or state.energy_wh >= r.min_wh,
        r.max_wh is None or state.energy_wh < r.max_wh,
        r.min_power_w is None or state.power_w is None or state.power_w >= r.min_power_w,
        r.max_power_w is None or state.power_w is None or state.power_w < r.max_power_w,
        r.min_duration_s is None or state.duration_s >= r.min_duration_s,
        r.max_duration_s is None or state.duration_s < r.max_duration_s,
        r.day_of_week is None or any(d.iso_index == local_date.weekday() for d in r.day_of_week),
    )
    return all(checks)


def _boundaries(tariff: Tariff, started_at: dt.datetime, curve: _Curve) -> list[Fraction]:
    """Every instant in (0, end) where the active elements may change."""
    end = curve.end
    found: set[Fraction] = set(curve.times)
    zone = tariff.zone
    for element in tariff.elements:
        r = element.restrictions
        if r is None:
            continue
        for threshold in (r.min_duration_s, r.max_duration_s):
            if threshold is not None:
                found.add(Fraction(threshold))
        for energy in (r.min_wh, r.max_wh):
            if energy is not None and (crossing := curve.crossing(energy)) is not None:
                found.add(crossing)
    day = started_at.astimezone(zone).date()
    last_day = _instant(started_at, end).astimezone(zone).date()
    clock_times = {dt.time(0)} | {
        t
        for element in tariff.elements
        if element.restrictions is not None
        for t in (element.restrictions.start_time, element.restrictions.end_time)
        if t is not None
    }
    while day <= last_day:
        for clock in clock_times:
            found.add(seconds_between(started_at, dt.datetime.combine(day, clock, tzinfo=zone)))
        day += dt.timedelta(days=1)
    return sorted(b for b in found if 0 <= b <= end)


def _first_with(
    elements: Sequence[TariffElement], active: Iterable[int], dimension: Dimension
) -> tuple[int, PriceComponent] | None:
    for index in active:
        for component in elements[index].price_components:
            if component.type == dimension:
                return index, component
    return None


def _bill(element: int, component: PriceComponent, volume: Fraction) -> ComponentCharge:
    step = component.step_size
    if component.type == Dimension.FLAT:
        billed = Fraction(1)
    elif step == 1:
        billed = volume  # no stepping: the exact volume, so a split never adds a Wh or a second
    else:
        billed = Fraction(math.ceil(volume / step) * step)
    excl = billed * component.price / _UNITS_PER_PRICE_UNIT.get(component.type, 1)
    incl = excl * (_BASIS_POINTS + component.vat_bp) / _BASIS_POINTS
    return ComponentCharge(element, component, volume, billed, excl, incl)


def price_session(
    tariff: Tariff,
    started_at: dt.datetime,
    samples: Sequence[MeterSample],
    ended_at: dt.datetime | None = None,
) -> SessionCost:
    """The cost of a session from its start, readings and (if it has ended) its end."""
    curve = _Curve(started_at, samples, ended_at)
    zone = tariff.zone
    cuts = _boundaries(tariff, started_at, curve)
    volumes: dict[tuple[int, Dimension], Fraction] = {}
    components: dict[tuple[int, Dimension], PriceComponent] = {}
    periods: list[ChargingPeriod] = []

    def state_at(offset: Fraction, power_known: bool = True) -> _State:
        return _State(
            local=_instant(started_at, offset).astimezone(zone),
            duration_s=offset,
            energy_wh=curve.energy_at(offset),
            power_w=curve.power_w(offset) if power_known else None,
        )

    def active_at(state: _State) -> list[int]:
        return [i for i, e in enumerate(tariff.elements) if _active(e.restrictions, state)]

    for a, b in itertools.pairwise(cuts):
        state = state_at(a)
        active = active_at(state)
        energy = curve.energy_at(b) - state.energy_wh
        charging = state.power_w is not None and state.power_w > 0
        pieces = {Dimension.ENERGY: energy, Dimension.TIME if charging else Dimension.PARKING_TIME: b - a}
        used: list[tuple[Dimension, int]] = []
        for dimension, volume in pieces.items():
            chosen = _first_with(tariff.elements, active, dimension)
            if chosen is None or volume == 0:
                continue
            index, component = chosen
            volumes[(index, dimension)] = volumes.get((index, dimension), Fraction(0)) + volume
            components[(index, dimension)] = component
            used.append((dimension, index))
        _extend_periods(periods, _instant(started_at, a), tuple(used), energy, charging, b - a)

    # The flat fee is fixed when the session starts, before any power is known, so power
    # restrictions do not choose it (a later reading must not change a fee already due).
    at_start = active_at(state_at(Fraction(0), power_known=False))
    if (flat := _first_with(tariff.elements, at_start, Dimension.FLAT)) is not None:
        volumes[(flat[0], Dimension.FLAT)] = Fraction(1)
        components[(flat[0], Dimension.FLAT)] = flat[1]

    charges = tuple(_bill(index, components[(index, d)], v) for (index, d), v in sorted(volumes.items()))
    total_excl = round_half_up(sum((c.excl_vat for c in charges), Fraction(0)))
    total_incl = round_half_up(sum((c.incl_vat for c in charges), Fraction(0)))
    if tariff.min_price is not None:
        total_excl = max(total_excl, tariff.min_price.excl_vat)
        total_incl = max(total_incl, tariff.min_price.incl_vat)
    if tariff.max_price is not None:
        total_excl = min(total_excl, tariff.max_price.excl_vat)
        total_incl = min(total_incl, tariff.max_price.incl_vat)
    return SessionCost(
        tariff_id=tariff.id,
        tariff_version=tariff.version,
        total_excl_vat=total_excl,
        total_incl_vat=total_incl,
        energy_wh=curve.final_energy_wh,
        charges=charges,
        periods=tuple(periods),
    )


def session_total(
    tariff: Tariff,
    started_at: dt.datetime,
    samples: Sequence[MeterSample],
    ended_at: dt.datetime | None = None,
) -> tuple[int, int]:
    """(total incl. VAT, energy Wh) of a session: what a channel's owner enforces on.

    Equal to `price_session`'s totals, and raising its ValueErrors for aware times (property
    and example tests hold them together), but for a tariff
    whose elements have no restrictions and bill only energy and a flat fee, the cost depends on
    nothing but the final energy: that case is checked and summed in integers, without building
    the exact curve, so re-pricing a running session at every reading stays cheap.
    """
    if not _energy_only(tariff):
        cost = price_session(tariff, started_at, samples, ended_at)
        return cost.total_incl_vat, cost.energy_wh
    energy_wh = _final_energy(started_at, samples, ended_at)
    incl = Fraction(0)
    for dimension in (Dimension.ENERGY, Dimension.FLAT):
        chosen = _first_with(tariff.elements, range(len(tariff.elements)), dimension)
        if chosen is None or (dimension == Dimension.ENERGY and energy_wh == 0):
            continue
        incl += _bill(
            chosen[0], chosen[1], Fraction(energy_wh if dimension == Dimension.ENERGY else 1)
        ).incl_vat
    total_incl = round_half_up(incl)
    if tariff.min_price is not None:
        total_incl = max(total_incl, tariff.min_price.incl_vat)
    if tariff.max_price is not None:
        total_incl = min(total_incl, tariff.max_price.incl_vat)
    return total_incl, energy_wh


def _energy_only(tariff: Tariff) -> bool:
    return all(
        element.restrictions is None
        and all(c.type in (Dimension.ENERGY, Dimension.FLAT) for c in element.price_components)
        for element in tariff.elements
    )


def _final_energy(
    started_at: dt.datetime, samples: Sequence[MeterSample], ended_at: dt.datetime | None
) -> int:
    """The session's energy, after the checks `_Curve` makes (the same errors, in integers)."""
    if started_at.tzinfo is None:
        raise ValueError("times must be timezone-aware (UTC)")
    for sample in samples:
        if sample.at.tzinfo is None:
            raise ValueError(f"reading time {sample.at} must be timezone-aware (UTC)")
    last_energy, last_at = 0, started_at
    for sample in sorted(samples, key=lambda s: s.at):
        if sample.at < started_at:
            raise ValueError(f"reading at {sample.at} precedes the session start {started_at}")
        if sample.energy_wh < last_energy:
            raise ValueError(f"session energy went down to {sample.energy_wh} Wh at {sample.at}")
        if sample.at == started_at and sample.energy_wh != 0:
            raise ValueError(f"session energy at the start must be 0 Wh, got {sample.energy_wh}")
        last_energy, last_at = sample.energy_wh, sample.at
    if ended_at is not None:
        if ended_at.tzinfo is None:
            raise ValueError("times must be timezone-aware (UTC)")
        if ended_at < last_at:
            raise ValueError(f"session end {ended_at} precedes its last reading")
    return last_energy


def _extend_periods(
    periods: list[ChargingPeriod],
    start: dt.datetime,
    used: tuple[tuple[Dimension, int], ...],
    energy: Fraction,
    charging: bool,
    seconds: Fraction,
) -> None:
    """Append a piece, merging it into the previous period when the same elements bill it."""
    charging_s, parking_s = (seconds, Fraction(0)) if charging else (Fraction(0), seconds)
    if periods and periods[-1].elements == used:
        last = periods[-1]
        periods[-1] = ChargingPeriod(
            last.start,
            used,
            last.energy_wh + energy,
            last.charging_s + charging_s,
            last.parking_s + parking_s,
        )
    else:
        periods.append(ChargingPeriod(start, used, energy, charging_s, parking_s))
