"""`mobility demo --report` with and without the optional `report` extra (matplotlib): without it
the demo still writes the run record and says which extra draws the report."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from mobility.demo import REPORT_EXTRA, write
from sims.city.record import RunRecord

RECORD = RunRecord(
    scenario="nothing", seed=0, hours=0.0, speed=1.0, started_at=datetime(2026, 6, 17, tzinfo=UTC)
)


def written(folder: Path) -> str:
    console = Console(record=True, width=400)
    write(RECORD, folder, console)
    return console.export_text()


def test_without_matplotlib_the_record_is_written_and_the_extra_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith(("matplotlib.", "sims.report"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what `import matplotlib` finds missing
    output = written(tmp_path)
    assert REPORT_EXTRA in output
    assert "mobility[report]" in output
    assert RunRecord.load(tmp_path / "record.json") == RECORD
    assert not (tmp_path / "report.html").exists()


def test_with_matplotlib_the_report_is_drawn(tmp_path: Path) -> None:
    output = written(tmp_path)
    assert REPORT_EXTRA not in output
    assert (tmp_path / "report.html").is_file()


def test_the_demo_imports_no_matplotlib() -> None:
    """The extra is optional only if nothing on the demo's way imports it (the live view once did,
    through `sims.report`'s package)."""
    probe = "import sys, mobility.cli, mobility.demo, sims.city.run; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
