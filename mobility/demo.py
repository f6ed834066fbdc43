"""`mobility demo`: the engine on its embedded defaults, driven by a simulated city.

It starts the whole engine in this process (OCPP server, HTTP API, ledger node and
coordinator, payments, on a fresh SQLite database) and lets the city of `sims/city` live on it
for simulated hours over real websockets and HTTP: chargers at an office, a car park and a
fleet depot, drivers paying from their app (some late, some not at all), fleet vans badging
RFID tags. Then it drains, reconciles every session from the simulated meter to the ledger,
prints the summary, optionally writes the report, and exits 1 when anything does not balance.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from sims.city.record import RunRecord
from sims.city.run import CityRun, simulate
from sims.city.scenario import DEFAULT_SCENARIO, load
from sims.city.view import LiveView, differences, summary


def exit_code(record: RunRecord) -> int:
    """0 when every session balances, else 1 (what CI checks)."""
    return 0 if record.balanced else 1


def show(record: RunRecord, console: Console) -> None:
    """The summary table, the sessions that do not balance, and the verdict."""
    console.print(summary(record))
    table = differences(record)
    if table is not None:
        console.print(table)
        for row in (row for row in record.sessions if not row.balanced):
            console.print(f"  session {row.session_id} ({row.charge_point_id}): {row.reason or row.status}")
    for key, value in sorted(record.notes.items()):
        console.print(f"  {key}: {value}")
    verdict = "[green]balanced[/green]" if record.balanced else "[red]NOT balanced[/red]"
    console.print(f"reconciliation (metered = billed = paid = settled, or the shortfall): {verdict}")


def write(record: RunRecord, folder: Path, console: Console) -> None:
    """The report (plots and HTML) when `sims.report` is there, else the record as JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    record.save(folder / "record.json")
    try:
        from sims.report import write_report
    except ImportError:
        console.print(f"report module missing: wrote {folder / 'record.json'} only")
        return
    console.print(f"report: {write_report(record, folder)}")


def run_demo(
    seed: int,
    hours: float | None,
    speed: float | None,
    chargers: int | None,
    data_dir: Path | None,
    report_dir: Path | None = None,
    scenario_file: Path | None = None,
    console: Console | None = None,
) -> int:
    """Run the demo; its exit code."""
    console = console or Console()
    if not console.is_terminal:
        console = Console(width=160)  # a log or a pipe: room for the summary's columns
    scenario = load(scenario_file or DEFAULT_SCENARIO)
    if chargers is not None:
        scenario = scenario.with_chargers(chargers)
    title = f"{scenario.name} (seed {seed})"
    console.print(
        f"{title}: {sum(s.chargers.count for s in scenario.sites)} charge points, "
        f"{scenario.drivers.count} drivers, {sum(len(f.vehicles) for f in scenario.fleets)} fleet vehicles, "
        f"{hours or scenario.hours:g} simulated hours at {speed or scenario.speed:g}x"
    )

    def go(folder: Path) -> CityRun:
        with LiveView(console, title) as view:
            return simulate(scenario, seed, folder, hours, speed, view)

    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        run = go(data_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="mobility-demo-") as folder:
            run = go(Path(folder))
    show(run.record, console)
    if report_dir is not None:
        write(run.record, report_dir, console)
    return exit_code(run.record)
