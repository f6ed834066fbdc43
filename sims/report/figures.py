"""The report's numbers, computed from a record with integers kept integers.

Micro-units and Wh become decimal strings only here, by integer division, so a figure in the
report is exactly the figure in the record (no float ever rounds money).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sims.city.record import SESSION_STATUSES, RunRecord, SessionRow

MICRO_UNITS = 1_000_000
"""Micro-units in one currency unit (as mobility.payments.money)."""


def fixed(value: int, scale: int) -> str:
    """`value / 10**scale` as an exact decimal string: fixed(1_234_567, 6) == "1.234567"."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**scale)
    return f"{sign}{whole}.{frac:0{scale}d}" if scale else f"{sign}{whole}"


def money(micro: int) -> str:
    """Micro-units shown as currency units, all six decimals (nothing is rounded away)."""
    return fixed(micro, 6)


def kwh(wh: int) -> str:
    """Wh shown as kWh with three decimals (exact)."""
    return fixed(wh, 3)


def nearest_rank(values: Sequence[float], percent: int) -> float:
    """The nearest-rank percentile: the smallest value with at least `percent`% at or below it.

    Chosen because it is always one of the measured latencies, never an interpolation.
    """
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(percent * len(ordered) / 100))
    return ordered[rank - 1]


def is_stopped(row: SessionRow) -> bool:
    """The engine stopped the session for lack of payment (enforcement "stop:<reason>")."""
    return row.enforcement is not None and row.enforcement.startswith("stop")


def is_limited(row: SessionRow) -> bool:
    """The session's last enforcement was a power limit (its payer lagged but recovered or ended)."""
    return row.enforcement is not None and row.enforcement.startswith("limit")


@dataclass(frozen=True, slots=True)
class Latency:
    """Settlement latency over the sessions that were settled, simulated seconds."""

    count: int
    mean: float
    p50: float
    p95: float


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary table's figures."""

    sessions: int
    by_status: dict[str, int]
    balanced_sessions: int
    simulated_wh: int
    metered_wh: int
    billed: int
    paid: int
    settled: int
    shortfall: int
    stopped: int
    limited: int
    peak_limited: int  # most sessions limited at once, from the timeline
    stopped_timeline: int  # stopped sessions by the last sample
    first_milestone: int | None
    last_milestone: int | None
    claims: int  # distinct settlement blocks: one claim covers many sessions
    latency: Latency | None

    @property
    def milestones(self) -> int:
        """Milestones issued during the run, as the timeline saw them."""
        if self.first_milestone is None or self.last_milestone is None:
            return 0
        return self.last_milestone - self.first_milestone


def summarise(record: RunRecord) -> Summary:
    """Totals over the sessions (the reconciled truth) and peaks over the timeline."""
    rows = record.sessions
    counts = Counter(row.status for row in rows)
    by_status = {status: counts.get(status, 0) for status in SESSION_STATUSES}
    by_status.update({status: n for status, n in sorted(counts.items()) if status not in by_status})
    milestones = [s.milestone_index for s in record.samples if s.milestone_index is not None]
    latencies = [row.settlement_latency_s for row in rows if row.settlement_latency_s is not None]
    latency = (
        Latency(
            count=len(latencies),
            mean=sum(latencies) / len(latencies),
            p50=nearest_rank(latencies, 50),
            p95=nearest_rank(latencies, 95),
        )
        if latencies
        else None
    )
    return Summary(
        sessions=len(rows),
        by_status=by_status,
        balanced_sessions=sum(row.balanced for row in rows),
        simulated_wh=sum(row.simulated_wh for row in rows),
        metered_wh=sum(row.metered_wh for row in rows),
        billed=sum(row.billed for row in rows),
        paid=sum(row.paid for row in rows),
        settled=sum(row.settled for row in rows),
        shortfall=sum(row.shortfall for row in rows),
        stopped=sum(is_stopped(row) for row in rows),
        limited=sum(is_limited(row) for row in rows),
        peak_limited=max((s.limited_sessions for s in record.samples), default=0),
        stopped_timeline=record.samples[-1].stopped_sessions if record.samples else 0,
        first_milestone=min(milestones, default=None),
        last_milestone=max(milestones, default=None),
        claims=len({row.block_id for row in rows if row.block_id is not None}),
        latency=latency,
    )


DIFFERENCES = ("metered_wh", "paid", "settled")
"""The cells that can disagree with the one before them in metered = billed = paid = settled."""


def differences(row: SessionRow) -> set[str]:
    """Which of a session's cells break the chain: metered vs simulated, paid vs billed, settled
    vs paid. An unpaid session's gaps are still marked; whether they are explained by its
    shortfall is the row's `balanced`."""
    marked: set[str] = set()
    if row.metered_wh != row.simulated_wh:
        marked.add("metered_wh")
    if row.paid != row.billed:
        marked.add("paid")
    if row.settled != row.paid:
        marked.add("settled")
    return marked
