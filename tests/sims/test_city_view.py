"""The city's live view: what a terminal shows while the city runs, money and energy rounded in
integers, and nothing drawn when the output is not a terminal (a log, CI)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from sims.chargers.clock import ManualClock
from sims.city.agents import CityLog
from sims.city.view import LiveView, Status, render

AT = datetime(2026, 6, 17, 12, 30, tzinfo=UTC)
REVENUE = {
    "active_sessions": 3,
    "sessions": 12,
    "energy_wh": 45_678,  # 45.7 kWh
    "billed": 12_344_999,  # 12.34 (half a cent short of rounding up)
    "paid": 12_345_000,  # 12.35
    "settled": 9_000_000,
    "settling": 1_004_999,
}


def status(log: CityLog) -> Status:
    return Status(AT, {"OFFICE": 22_049, "CARPARK": 0}, REVENUE, 1, 2, 41, 3, log)


def text_of(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=120, record=True)
    console.print(renderable)
    return console.export_text()


def test_the_panel_shows_the_city_at_one_instant() -> None:
    log = CityLog(ManualClock(AT))
    log.event("OFFICE-01/1: driver 3 (prompt)")
    shown = text_of(render(status(log), "default city (seed 7)", "draining"))
    for expected in (
        "default city (seed 7)",
        "draining",
        "2026-06-17 12:30 UTC",
        "45.7",  # kWh
        "12.34",  # billed, rounded half up in integers
        "12.35",  # paid
        "9.00",
        "1.00",  # settling
        "22.0",  # OFFICE kW
        "12:30 OFFICE-01/1: driver 3 (prompt)",
    ):
        assert expected in shown, (expected, shown)
    assert "stopped for payment" in shown


def test_the_live_view_draws_on_a_terminal_only() -> None:
    log = CityLog(ManualClock(AT))
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120, record=True)
    with LiveView(terminal, "city") as view:
        view.note("setting up")
        view.show(status(log))
    assert "45.7" in terminal.export_text()

    piped = Console(file=io.StringIO(), force_terminal=False, width=120, record=True)
    with LiveView(piped, "city") as view:
        view.show(status(log))
    assert piped.export_text() == ""
