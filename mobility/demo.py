"""`mobility demo`: the engine on its embedded defaults, driven by a simulated city of chargers.

It starts the whole engine in this process (OCPP server, HTTP API, ledger node and
coordinator, on a fresh SQLite database), lets a seeded fleet of simulated charge points
(OCPP 1.6, 2.0.1 and 2.1 mixed, with dropped connections and offline replays) charge EVs
against it over real websockets in accelerated time, and then reconciles: the energy the
engine billed must equal, to the Wh, the energy the simulated meters delivered. It exits
non-zero when it does not.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, select

from mobility.charging.models import SessionRecord
from mobility.engine import Engine, EngineOptions
from mobility.ledger.config import LedgerSettings
from mobility.settings import Settings
from sims.chargers.clock import AcceleratedClock
from sims.chargers.fleet import Fleet, FleetConfig, FleetSummary

DEMO_TOKEN = "DEMO-DRIVER"


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the simulated city saw, what the engine recorded, and whether they agree."""

    fleet: FleetSummary
    engine_sessions: int
    engine_energy_wh: int
    flagged: int
    milestone: int | None

    @property
    def balanced(self) -> bool:
        return (
            self.fleet.energy_wh == self.engine_energy_wh
            and self.fleet.sessions_started == self.engine_sessions
            and self.fleet.undelivered == 0
        )


async def run_city(data_dir: Path, seed: int, hours: float, speed: float, chargers: int) -> DemoResult:
    """Run the engine and the fleet, and reconcile."""
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'mobility.db'}",
        ocpp_port=0,
        api_port=0,
        accept_unknown_chargers=True,
    )
    ledger = LedgerSettings(milestone_interval_seconds=2.0)
    options = EngineOptions(allowed_tokens=(DEMO_TOKEN,), heartbeat_interval=600)
    engine = await asyncio.to_thread(Engine.build, settings, options, ledger)
    await engine.start()
    try:
        fleet = Fleet(
            FleetConfig(
                url=f"ws://127.0.0.1:{engine.central.port}/ocpp",
                count=chargers,
                seed=seed,
                id_tokens=(DEMO_TOKEN,),
                prefix=f"CITY{seed}",
                mean_idle_s=1_200.0,
                mean_dwell_s=2 * 3_600.0,
                faults_per_hour=0.5,
            ),
            AcceleratedClock(speed),
        )
        summary = await fleet.run(hours * 3_600.0, limit=20.0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{engine.api_port}") as http:
            info = (await http.get("/ledger/info")).json()
    finally:
        await engine.stop()
    records = await asyncio.to_thread(_sessions, settings.resolved_database_url)
    latest = (info.get("latest_milestone") or {}).get("index")
    return DemoResult(
        fleet=summary,
        engine_sessions=len(records),
        engine_energy_wh=sum(r.energy_wh for r in records),
        flagged=sum(1 for r in records if r.flagged),
        milestone=int(latest) if latest is not None else None,
    )


def _sessions(url: str) -> list[SessionRecord]:
    from mobility.db import create_db_engine

    engine = create_db_engine(url)
    with Session(engine) as db:
        records = list(db.exec(select(SessionRecord)))
    engine.dispose()
    return records


def show(result: DemoResult, console: Console) -> None:
    """The reconciliation as a table."""
    table = Table(title="Simulated city against the engine")
    table.add_column("")
    table.add_column("simulated chargers", justify="right")
    table.add_column("engine", justify="right")
    fleet = result.fleet
    table.add_row("sessions", str(fleet.sessions_started), str(result.engine_sessions))
    table.add_row("energy (Wh)", str(fleet.energy_wh), str(result.engine_energy_wh))
    table.add_row("flagged meter anomalies", "", str(result.flagged))
    table.add_row("faults (drops / reboots)", f"{fleet.drops} / {fleet.reboots}", "")
    table.add_row("messages replayed after offline", str(fleet.offline_messages), "")
    table.add_row("ledger milestones", "", str(result.milestone))
    console.print(table)
    verdict = "[green]balanced[/green]" if result.balanced else "[red]NOT balanced[/red]"
    console.print(f"reconciliation: {verdict}")


def run_demo(seed: int, hours: float, speed: float, chargers: int, data_dir: Path | None) -> bool:
    """Run the demo; True when the reconciliation balances."""
    console = Console()
    console.print(
        f"engine + {chargers} simulated charge points, {hours:g} simulated hours at {speed:g}x (seed {seed})"
    )
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(run_city(data_dir, seed, hours, speed, chargers))
    else:
        with tempfile.TemporaryDirectory(prefix="mobility-demo-") as folder:
            result = asyncio.run(run_city(Path(folder), seed, hours, speed, chargers))
    show(result, console)
    return result.balanced
