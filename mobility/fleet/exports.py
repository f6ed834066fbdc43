"""Exports of reconciled sessions: OCPI 2.2.1 CDRs (JSON) and a CSV sheet.

OCPI wants decimal numbers (kWh, hours, currency units) where the engine keeps integers (Wh,
micro-units, microseconds). No float or Decimal holds them on the way: a `Fixed` is an integer
count of 10^-scale units, written out by `render_json` as an exact JSON number literal, so
12 345 Wh is exactly `12.345`. Amounts that are not whole at the scale (period energies and
durations out of the pricing's exact fractions) are rounded half up cumulatively: each period's
volume is the rounded end minus the rounded start, so the periods add up to the total exactly.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from mobility.fleet.reconcile import SessionLine
from mobility.payments.money import round_half_up
from mobility.payments.pricing import seconds_between
from mobility.payments.tariff import Dimension

COUNTRY_CODE = "XX"  # ISO 3166 user-assigned: this engine is not registered with an OCPI hub
PARTY_ID = "MOB"
KWH_SCALE = 3  # OCPI energy in kWh; whole Wh are exact with three decimals
MONEY_SCALE = 6  # micro-units of the currency
HOURS_SCALE = 6  # OCPI times in hours; a micro-hour is 3.6 ms


@dataclass(frozen=True, slots=True)
class Fixed:
    """`units` times 10^-`scale`, rendered as an exact JSON number."""

    units: int
    scale: int

    def text(self) -> str:
        sign = "-" if self.units < 0 else ""
        whole, part = divmod(abs(self.units), 10**self.scale)
        digits = f"{part:0{self.scale}d}".rstrip("0") if self.scale else ""
        return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def render_json(value: Any) -> bytes:
    """JSON text of dicts, lists, str, int, bool, None and `Fixed` (an exact number)."""
    out: list[str] = []

    def emit(item: Any) -> None:
        if isinstance(item, Fixed):
            out.append(item.text())
        elif isinstance(item, dict):
            out.append("{")
            for i, (key, inner) in enumerate(item.items()):
                out.append(("," if i else "") + json.dumps(str(key)) + ":")
                emit(inner)
            out.append("}")
        elif isinstance(item, list | tuple):
            out.append("[")
            for i, inner in enumerate(item):
                if i:
                    out.append(",")
                emit(inner)
            out.append("]")
        elif item is None or isinstance(item, str | int | bool):
            out.append(json.dumps(item))
        else:
            raise TypeError(f"cannot render {type(item).__name__} exactly")

    emit(value)
    return "".join(out).encode()


def ocpi_time(at: datetime) -> str:
    """OCPI DateTime: UTC with a `Z`, fractional seconds only when there are any."""
    utc = at.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}".rstrip("0") if utc.microsecond else ""
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _wh(wh: Fraction | int) -> int:
    return round_half_up(Fraction(wh))


def _hours_units(seconds: Fraction) -> int:
    """Seconds as micro-hours, rounded half up."""
    return round_half_up(seconds * 10**HOURS_SCALE / 3600)


def _kwh(wh: int) -> Fixed:
    return Fixed(wh, KWH_SCALE)


def _charging_periods(line: SessionLine) -> list[dict[str, Any]]:
    assert line.cost is not None
    tariff_id = line.cost.tariff_id
    periods: list[dict[str, Any]] = []
    energy, charging, parking = Fraction(0), Fraction(0), Fraction(0)
    for period in line.cost.periods:
        dims: list[dict[str, Any]] = []
        before = (_wh(energy), _hours_units(charging), _hours_units(parking))
        energy, charging, parking = (
            energy + period.energy_wh,
            charging + period.charging_s,
            parking + period.parking_s,
        )
        after = (_wh(energy), _hours_units(charging), _hours_units(parking))
        if after[0] - before[0]:
            dims.append({"type": "ENERGY", "volume": _kwh(after[0] - before[0])})
        if after[1] - before[1]:
            dims.append({"type": "TIME", "volume": Fixed(after[1] - before[1], HOURS_SCALE)})
        if after[2] - before[2]:
            dims.append({"type": "PARKING_TIME", "volume": Fixed(after[2] - before[2], HOURS_SCALE)})
        if dims:
            periods.append(
                {"start_date_time": ocpi_time(period.start), "dimensions": dims, "tariff_id": tariff_id}
            )
    return periods


def cdr(line: SessionLine) -> dict[str, Any] | None:
    """The OCPI 2.2.1 CDR of an ended, priced session; None for one that is neither.

    The engine knows charge points, not OCPI locations: `cdr_location` carries the charge point
    as location and EVSE, its site as name and its coordinates; address fields it does not know
    are empty strings, connector details the most common AC socket.
    """
    session, payment, cost, tariff = line.facts.session, line.facts.payment, line.cost, line.tariff
    if session.ended_at is None or payment is None or cost is None or tariff is None:
        return None
    total_s = seconds_between(session.started_at, session.ended_at)
    charging_s = sum((p.charging_s for p in cost.periods), Fraction(0))
    parking_s = sum((p.parking_s for p in cost.periods), Fraction(0))
    token = line.facts.token
    evse = f"{session.charge_point_id}*{session.connector_id}"
    record: dict[str, Any] = {
        "country_code": COUNTRY_CODE,
        "party_id": PARTY_ID,
        "id": str(line.session_id),
        "start_date_time": ocpi_time(session.started_at),
        "end_date_time": ocpi_time(session.ended_at),
        "session_id": str(line.session_id),
        "cdr_token": {
            "country_code": COUNTRY_CODE,
            "party_id": PARTY_ID,
            "uid": token.token,
            "type": "RFID",
            "contract_id": token.token,
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": session.charge_point_id,
            "name": line.facts.site or "",
            "address": "",
            "city": "",
            "country": "",
            "evse_uid": evse,
            "evse_id": evse,
            "connector_id": str(session.connector_id),
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": tariff.currency,
        "charging_periods": _charging_periods(line),
        "total_cost": {
            "excl_vat": Fixed(min(cost.total_excl_vat, payment.billed), MONEY_SCALE),
            "incl_vat": Fixed(payment.billed, MONEY_SCALE),
        },
        "total_energy": _kwh(line.metered_wh),
        "total_time": Fixed(_hours_units(total_s), HOURS_SCALE),
        "total_parking_time": Fixed(_hours_units(parking_s), HOURS_SCALE),
        "remark": line.status.value if line.reason == "" else f"{line.status.value}: {line.reason}",
        "last_updated": ocpi_time(session.ended_at),
    }
    energy_cost = _dimension_cost(line, Dimension.ENERGY)
    if energy_cost is not None:
        record["total_energy_cost"] = energy_cost
    if charging_s and (time_cost := _dimension_cost(line, Dimension.TIME)) is not None:
        record["total_time_cost"] = time_cost
    return record


def _dimension_cost(line: SessionLine, dimension: Dimension) -> dict[str, Fixed] | None:
    assert line.cost is not None
    charges = [c for c in line.cost.charges if c.component.type == dimension]
    if not charges:
        return None
    excl = round_half_up(sum((c.excl_vat for c in charges), Fraction(0)))
    incl = round_half_up(sum((c.incl_vat for c in charges), Fraction(0)))
    return {"excl_vat": Fixed(excl, MONEY_SCALE), "incl_vat": Fixed(incl, MONEY_SCALE)}


def cdrs(lines: Iterable[SessionLine]) -> list[dict[str, Any]]:
    """The CDRs of every ended, priced session among `lines`."""
    return [item for line in lines if (item := cdr(line)) is not None]


CSV_COLUMNS = (
    "session_id",
    "started_at",
    "ended_at",
    "charge_point_id",
    "connector_id",
    "site",
    "vehicle_id",
    "driver_name",
    "id_token",
    "metered_wh",
    "billed_micro",
    "repriced_micro",
    "paid_micro",
    "settled_micro",
    "settlement_block_id",
    "milestone_index",
    "status",
    "reason",
)


def sessions_csv(lines: Sequence[SessionLine]) -> str:
    """A CSV sheet of reconciled sessions: integers as stored (Wh, micro-units), UTC times."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        session, token = line.facts.session, line.facts.token
        writer.writerow(
            [
                line.session_id,
                ocpi_time(session.started_at),
                ocpi_time(session.ended_at) if session.ended_at else "",
                session.charge_point_id,
                session.connector_id,
                _cell(line.facts.site or ""),
                token.vehicle_id or "",
                _cell(token.driver_name or ""),
                token.token,
                line.metered_wh,
                _blank(line.billed),
                _blank(line.repriced),
                _blank(line.paid),
                line.settled,
                line.settlement.block_id if line.settlement else "",
                line.settlement.milestone_index if line.settlement else "",
                line.status.value,
                _cell(line.reason),
            ]
        )
    return buffer.getvalue()


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


def _cell(text: str) -> str:
    """Free text made inert for spreadsheets (no formula may start a cell)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
