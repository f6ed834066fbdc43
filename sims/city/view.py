"""What the city shows: a live `rich` panel while it runs (only on a terminal) and the summary
table at the end. Money is shown in units of the currency (micro-units / 10^6), energy in kWh;
the record keeps the integers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from sims.city.agents import CityLog
from sims.city.record import RunRecord, Sample
from sims.report.figures import fixed


def units(micro: int) -> str:
    """Micro-units as units with two decimals, rounded half up in integers (no float)."""
    return fixed((micro + 5_000) // 10_000, 2)


def kwh(wh: int) -> str:
    """Wh as kWh with one decimal, rounded half up in integers."""
    return fixed((wh + 50) // 100, 1)


@dataclass(frozen=True, slots=True)
class Status:
    """The city at one instant, as the APIs and the simulated chargers report it."""

    at: datetime
    power_w_by_site: dict[str, int]
    revenue: dict[str, Any]  # `/operator/revenue`
    limited: int
    stopped: int
    milestone: int | None
    tips: int
    log: CityLog

    def sample(self) -> Sample:
        """The record's sample of this instant."""
        r = self.revenue
        return Sample(
            at=self.at,
            power_w_by_site=dict(self.power_w_by_site),
            active_sessions=int(r["active_sessions"]),
            energy_wh=int(r["energy_wh"]),
            billed=int(r["billed"]),
            paid=int(r["paid"]),
            settled=int(r["settled"]),
            limited_sessions=self.limited,
            stopped_sessions=self.stopped,
            milestone_index=self.milestone,
            tips=self.tips,
        )


class LiveView:
    """The live panel; a no-op unless the console is a terminal."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self.enabled = console.is_terminal
        self._live: Live | None = None
        self._note = ""

    def __enter__(self) -> LiveView:
        if self.enabled:
            self._live = Live(Panel(self._note or "starting", title=self.title), console=self.console)
            self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, error, trace)
            self._live = None

    def note(self, text: str) -> None:
        """A line about what the run is doing (set-up, draining)."""
        self._note = text
        if self._live is not None:
            self._live.update(Panel(text, title=self.title))

    def show(self, status: Status) -> None:
        """Redraw with the latest status."""
        if self._live is not None:
            self._live.update(render(status, self.title, self._note))


def render(status: Status, title: str, note: str = "") -> Panel:
    """The live panel's contents."""
    r = status.revenue
    figures = Table.grid(padding=(0, 2))
    for _ in range(4):
        figures.add_column()
    figures.add_row(
        "simulated time", f"{status.at:%Y-%m-%d %H:%M} UTC", "active sessions", str(r["active_sessions"])
    )
    figures.add_row("sessions", str(r["sessions"]), "energy (kWh)", kwh(int(r["energy_wh"])))
    figures.add_row("billed", units(int(r["billed"])), "paid", units(int(r["paid"])))
    figures.add_row("settled", units(int(r["settled"])), "settling", units(int(r["settling"])))
    figures.add_row("power limited", str(status.limited), "stopped for payment", str(status.stopped))
    figures.add_row("milestone", str(status.milestone), "tips", str(status.tips))
    sites = Table("site", "kW", box=None)
    for site, watts in status.power_w_by_site.items():
        sites.add_row(site, fixed((watts + 50) // 100, 1))
    events = "\n".join(status.log.recent) or "-"
    parts: list[Any] = [figures, sites, Panel(events, title="recent")]
    if note:
        parts.insert(0, note)
    return Panel(Group(*parts), title=title)


def summary(record: RunRecord) -> Table:
    """The end-of-run table: totals by payer behaviour and status, and the verdict per group."""
    table = Table(title=f"{record.scenario}: seed {record.seed}, {record.hours:g} h at {record.speed:g}x")
    for column in (
        "payers",
        "sessions",
        "simulated kWh",
        "metered kWh",
        "billed",
        "paid",
        "settled",
        "shortfall",
    ):
        table.add_column(column, justify="right" if column != "payers" else "left")
    table.add_column("statuses")
    table.add_column("balanced")
    groups: dict[str, list[Any]] = {}
    for row in record.sessions:
        groups.setdefault(row.behaviour, []).append(row)
    for name, rows in [*sorted(groups.items()), ("all", record.sessions)]:
        statuses = Counter(row.status for row in rows)
        table.add_row(
            name,
            str(len(rows)),
            kwh(sum(max(row.simulated_wh, 0) for row in rows)),
            kwh(sum(row.metered_wh for row in rows)),
            units(sum(row.billed for row in rows)),
            units(sum(row.paid for row in rows)),
            units(sum(row.settled for row in rows)),
            units(sum(row.shortfall for row in rows)),
            ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())),
            "yes" if all(row.balanced for row in rows) else "[red]NO[/red]",
        )
    return table


def differences(record: RunRecord) -> Table | None:
    """The sessions that do not balance, if any."""
    bad = [row for row in record.sessions if not row.balanced]
    if not bad:
        return None
    table = Table(title="sessions that do not balance")
    for column in (
        "session",
        "charger",
        "payer",
        "status",
        "sim Wh",
        "metered Wh",
        "billed",
        "city's price",
        "paid",
        "settled",
    ):
        table.add_column(column)
    for row in bad:
        table.add_row(
            str(row.session_id), row.charge_point_id, row.behaviour, row.status, str(row.simulated_wh),
            str(row.metered_wh), str(row.billed), str(row.expected), str(row.paid), str(row.settled),
        )  # fmt: skip
    return table
