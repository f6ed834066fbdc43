"""Reconciliation: each fleet session checked from the meter to the ledger, and totals.

For every session the four amounts are derived independently of each other where the data
allows it:

- metered energy: the session's stored meter readings (register minus meter start), ending at
  the charging layer's final register (the meter stop is not stored as a reading);
- billed: the payment layer's stored bill, and the same tariff version re-priced here from
  those readings (`price_session`), which must agree to the micro-unit;
- paid: what the payer's vouchers covered of the bill (`billed - shortfall`, once ended);
- settled: the paid amount, once the ledger confirmed the claim covering the session (block
  ID, milestone index and inclusion proof all stored).

Status, first match wins:

- ``meter anomaly``: the charging layer flagged the session (a register went backwards, an
  implausible jump, a stop without a start) or its readings cannot be priced (a register
  below the meter start, energy going down): the meter itself is in doubt, so nothing else is.
- ``mismatch``: the re-priced bill differs from the stored bill, or the metered energy
  differs from the energy the payment layer billed.
- ``unpaid``: the payment layer never took the session on (no channel could pay for it), or
  it ended with a shortfall (the vouchers did not cover the bill).
- ``unsettled``: still running, or paid but no confirmed ledger claim covers it yet. A fully
  paid session that billed nothing has nothing to settle and is not unsettled.
- ``ok``: metered, billed, paid in full and settled on the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from mobility.charging.models import SessionRecord
from mobility.fleet.store import SessionFacts
from mobility.payments.pricing import MeterSample, SessionCost, price_session
from mobility.payments.tariff import Tariff

TariffLookup = Callable[[str, int], Tariff | None]


class Status(StrEnum):
    """A session's reconciliation status (see the module docstring for each)."""

    OK = "ok"
    UNPAID = "unpaid"
    UNSETTLED = "unsettled"
    METER_ANOMALY = "meter anomaly"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class Settlement:
    """Where the ledger holds the claim covering a session."""

    settlement_id: int
    block_id: str
    milestone_index: int


@dataclass(frozen=True, slots=True)
class SessionLine:
    """One reconciled session. Money in micro-units, energy in Wh; None where unknown."""

    facts: SessionFacts
    metered_wh: int
    billed: int | None
    repriced: int | None
    paid: int | None
    settled: int
    settlement: Settlement | None
    status: Status
    reason: str
    cost: SessionCost | None
    tariff: Tariff | None

    @property
    def session_id(self) -> int:
        assert self.facts.session.id is not None
        return self.facts.session.id


@dataclass(slots=True)
class Totals:
    """Sums over a group of sessions."""

    sessions: int = 0
    energy_wh: int = 0
    billed: int = 0
    paid: int = 0
    settled: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, line: SessionLine) -> None:
        self.sessions += 1
        self.energy_wh += line.metered_wh
        self.billed += line.billed or 0
        self.paid += line.paid or 0
        self.settled += line.settled
        self.by_status[line.status.value] = self.by_status.get(line.status.value, 0) + 1


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Every session of the period, and totals over all of them."""

    lines: list[SessionLine]
    total: Totals
    by_vehicle: dict[str | None, Totals]
    by_driver: dict[str | None, Totals]
    by_site: dict[str | None, Totals]


def metered_samples(session: SessionRecord, readings: Iterable[MeterSample]) -> list[MeterSample]:
    """The session's energy curve from its readings, closed by its final register.

    Readings come in as session energy (register minus meter start); the charging layer's
    final energy (it includes the meter stop) ends the curve when it is above the last reading.
    """
    samples = sorted(readings, key=lambda s: s.at)
    last = samples[-1] if samples else None
    if last is None or last.energy_wh < session.energy_wh:
        at = session.ended_at or session.last_reading_at
        samples.append(MeterSample(max(at, last.at) if last else at, session.energy_wh))
    return samples


def _reading_samples(facts: SessionFacts) -> list[MeterSample]:
    """Session energy at each reading the meter let move forward, in arrival order.

    A register below an earlier one is what the charging layer refuses (and flags); dropping
    it here too keeps a flagged session priceable, so its bill can still be compared.
    """
    start = facts.session.meter_start_wh
    samples, highest = [], start
    for reading in facts.readings:
        if reading.register_wh >= highest:
            highest = reading.register_wh
            samples.append(MeterSample(reading.taken_at, reading.register_wh - start))
    return samples


def reconcile_session(facts: SessionFacts, tariffs: TariffLookup) -> SessionLine:
    """Check one session from meter to ledger (see the module docstring)."""
    session, payment = facts.session, facts.payment
    samples = metered_samples(session, _reading_samples(facts))
    metered_wh = max((s.energy_wh for s in samples), default=0)
    tariff = tariffs(payment.tariff_id, payment.tariff_version) if payment is not None else None
    cost: SessionCost | None = None
    unpriceable: tuple[Status, str] | None = None
    if payment is not None and tariff is None:
        unpriceable = Status.MISMATCH, f"tariff {payment.tariff_id} v{payment.tariff_version} is missing"
    elif payment is not None and tariff is not None:
        end = max(session.ended_at, samples[-1].at) if session.ended_at is not None else None
        try:
            cost = price_session(tariff, payment.started_at, samples, ended_at=end)
        except ValueError as error:
            unpriceable = Status.METER_ANOMALY, f"readings cannot be priced: {error}"

    ended = payment is not None and payment.status in ("paid", "unpaid")
    paid = payment.billed - payment.shortfall if payment is not None and ended else None
    record = facts.settlement
    confirmed = (
        record is not None
        and record.status == "confirmed"
        and record.block_id is not None
        and record.milestone_index is not None
        and bool(record.proof)
        and payment is not None
        and record.channel_id == payment.channel_id
    )
    settlement = None
    if confirmed:
        assert record is not None
        assert record.id is not None
        assert record.block_id is not None
        assert record.milestone_index is not None
        settlement = Settlement(record.id, record.block_id, record.milestone_index)
    settled = (paid or 0) if confirmed else 0

    status, reason = _status(facts, metered_wh, cost, unpriceable, paid, confirmed)
    return SessionLine(
        facts=facts,
        metered_wh=metered_wh,
        billed=payment.billed if payment is not None else None,
        repriced=cost.total_incl_vat if cost is not None else None,
        paid=paid,
        settled=settled,
        settlement=settlement,
        status=status,
        reason=reason,
        cost=cost,
        tariff=tariff,
    )


def _status(
    facts: SessionFacts,
    metered_wh: int,
    cost: SessionCost | None,
    unpriceable: tuple[Status, str] | None,
    paid: int | None,
    confirmed: bool,
) -> tuple[Status, str]:
    session, payment = facts.session, facts.payment
    if session.flagged:
        return Status.METER_ANOMALY, session.flag_reason or "flagged by the charging layer"
    if unpriceable is not None:
        return unpriceable
    if payment is None:
        return Status.UNPAID, "no channel paid for this session"
    assert cost is not None
    if cost.total_incl_vat != payment.billed:
        return Status.MISMATCH, f"billed {payment.billed}, the readings price at {cost.total_incl_vat}"
    if metered_wh != payment.energy_wh:
        return Status.MISMATCH, f"metered {metered_wh} Wh, billed for {payment.energy_wh} Wh"
    if payment.status == "unpaid":
        return Status.UNPAID, f"shortfall of {payment.shortfall}"
    if paid is None:
        return Status.UNSETTLED, "still charging"
    if not confirmed and payment.billed > 0:
        return Status.UNSETTLED, "no confirmed ledger claim covers it yet"
    return Status.OK, ""


def reconcile(facts: Iterable[SessionFacts], tariffs: TariffLookup) -> Reconciliation:
    """Reconcile sessions and total them overall, per vehicle, per driver and per site."""
    cache: dict[tuple[str, int], Tariff | None] = {}

    def cached(tariff_id: str, version: int) -> Tariff | None:
        if (tariff_id, version) not in cache:
            cache[(tariff_id, version)] = tariffs(tariff_id, version)
        return cache[(tariff_id, version)]

    lines = [reconcile_session(item, cached) for item in facts]
    total = Totals()
    by_vehicle: dict[str | None, Totals] = {}
    by_driver: dict[str | None, Totals] = {}
    by_site: dict[str | None, Totals] = {}
    for line in lines:
        total.add(line)
        by_vehicle.setdefault(line.facts.token.vehicle_id, Totals()).add(line)
        by_driver.setdefault(line.facts.token.driver_name, Totals()).add(line)
        by_site.setdefault(line.facts.site, Totals()).add(line)
    return Reconciliation(lines, total, by_vehicle, by_driver, by_site)
