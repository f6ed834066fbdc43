"""The report's plots, drawn with matplotlib's Agg canvas into PNG files.

Figures are built with `matplotlib.figure.Figure` and `FigureCanvasAgg`, never pyplot, so no
display or global figure state is touched (a report can be drawn from a server or a test).
Money and energy become floats here only to be drawn; every figure printed is in the page's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

from sims.city.record import RunRecord
from sims.report.figures import MICRO_UNITS, summarise


@dataclass(frozen=True, slots=True)
class Plot:
    """One PNG of the report, with the caption the page shows under it."""

    name: str
    title: str
    caption: str
    path: Path


TICK_HOURS = (1 / 12, 1 / 6, 1 / 4, 1 / 2, 1, 2, 3, 6, 12, 24, 48, 168)
"""Tick spacings in hours that fall on round clock times when the run starts on the hour."""


def _hours(record: RunRecord, at: datetime) -> float:
    return (at - record.started_at).total_seconds() / 3600


def _times(record: RunRecord) -> list[float]:
    """Sample times as hours since the run started (plotted as numbers, labelled as UTC clock)."""
    return [_hours(record, sample.at) for sample in record.samples]


def _time_axis(ax: Axes, record: RunRecord) -> None:
    start = record.started_at.astimezone(UTC)
    times = _times(record)
    span = max(times, default=0.0) - min(times, default=0.0)
    step = next((h for h in TICK_HOURS if span / h <= 8), TICK_HOURS[-1])
    crosses_midnight = start.date() != (start + timedelta(hours=span)).date()
    shape = "%H:%M\n%d %b" if crosses_midnight else "%H:%M"

    def clock(hours: float, _position: int | None) -> str:
        return (start + timedelta(hours=hours)).strftime(shape)

    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(clock))
    ax.set_xlabel(f"simulated time, UTC (run started {start:%Y-%m-%d %H:%M})")
    ax.grid(True, alpha=0.3)


def _empty(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, what, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def _power(record: RunRecord, ax: Axes, currency: str) -> None:
    if not record.samples:
        _empty(ax, "no samples")
        return
    sites = sorted({site for sample in record.samples for site in sample.power_w_by_site})
    series = [[sample.power_w_by_site.get(site, 0) / 1000 for sample in record.samples] for site in sites]
    if sites:
        ax.stackplot(_times(record), *series, labels=sites, step="post", alpha=0.85)
        ax.legend(loc="upper left", fontsize="small")
    ax.set_ylabel("power (kW, stacked by site)")
    _time_axis(ax, record)


def _revenue(record: RunRecord, ax: Axes, currency: str) -> None:
    if not record.samples:
        _empty(ax, "no samples")
        return
    times = _times(record)
    for label, values, style in (
        ("billed", [s.billed for s in record.samples], "-"),
        ("paid", [s.paid for s in record.samples], "--"),
        ("settled", [s.settled for s in record.samples], ":"),
    ):
        ax.step(times, [v / MICRO_UNITS for v in values], style, where="post", label=label, linewidth=1.8)
    ax.set_ylabel(f"cumulative revenue ({currency})")
    ax.legend(loc="upper left")
    _time_axis(ax, record)


def _latency(record: RunRecord, ax: Axes, currency: str) -> None:
    minutes = [r.settlement_latency_s / 60 for r in record.sessions if r.settlement_latency_s is not None]
    latency = summarise(record).latency
    if not minutes or latency is None:
        _empty(ax, "no settled sessions")
        return
    ax.hist(minutes, bins=min(30, max(5, len(minutes) // 2)), color="tab:blue", alpha=0.8)
    for label, seconds, style in (
        ("mean", latency.mean, "-"),
        ("p50", latency.p50, "--"),
        ("p95", latency.p95, ":"),
    ):
        ax.axvline(seconds / 60, color="black", linestyle=style, label=f"{label} {seconds / 60:.1f} min")
    ax.set_xlabel("session end to confirmed claim (simulated minutes)")
    ax.set_ylabel("sessions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    ax.grid(True, alpha=0.3)


def _enforcement(record: RunRecord, ax: Axes, currency: str) -> None:
    if not record.samples:
        _empty(ax, "no samples")
        return
    times = _times(record)
    ax.step(times, [s.active_sessions for s in record.samples], where="post", color="grey", label="active")
    ax.step(times, [s.limited_sessions for s in record.samples], where="post", label="limited (payment lags)")
    ax.step(times, [s.stopped_sessions for s in record.samples], where="post", label="stopped (cumulative)")
    ax.set_ylabel("sessions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left")
    _time_axis(ax, record)


def _ledger(record: RunRecord, ax: Axes, currency: str) -> None:
    if not record.samples:
        _empty(ax, "no samples")
        return
    times = _times(record)
    ax.step(times, [s.tips for s in record.samples], where="post", color="tab:green", label="tips")
    ax.set_ylabel("tips", color="tab:green")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    milestones = [(s.at, s.milestone_index) for s in record.samples if s.milestone_index is not None]
    if milestones:
        right = ax.twinx()
        right.step(
            [_hours(record, at) for at, _ in milestones],
            [index for _, index in milestones],
            where="post",
            color="tab:purple",
            label="milestone index",
        )
        right.set_ylabel("milestone index", color="tab:purple")
        right.yaxis.set_major_locator(MaxNLocator(integer=True))
    _time_axis(ax, record)


PLOTS: tuple[tuple[str, str, str, Callable[[RunRecord, Axes, str], None]], ...] = (
    ("power", "Power per site", "Charging power drawn at each site, stacked.", _power),
    (
        "revenue",
        "Cumulative revenue",
        "Billed to sessions, paid by accepted vouchers, settled by confirmed claims.",
        _revenue,
    ),
    (
        "latency",
        "Settlement latency",
        "From a session's end to the milestone confirming the claim that settled it.",
        _latency,
    ),
    (
        "enforcement",
        "Lagging and stopped sessions",
        "Sessions whose power was limited because vouchers lagged, and those stopped for lack of payment.",
        _enforcement,
    ),
    ("ledger", "Ledger", "Tips of the tangle and the latest milestone index.", _ledger),
)


def draw(record: RunRecord, folder: Path) -> list[Plot]:
    """Draw every plot of the report into `folder` as `<name>.png`."""
    currency = record.currency or "units"
    plots = []
    for name, title, caption, fill in PLOTS:
        figure = Figure(figsize=(9, 4), layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        ax.set_title(title)
        fill(record, ax, currency)
        path = folder / f"{name}.png"
        figure.savefig(path, format="png", dpi=100, metadata={"Software": None})
        plots.append(Plot(name, title, caption, path))
    return plots
