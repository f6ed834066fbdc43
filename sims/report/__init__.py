"""The city run's report: a record drawn as PNG plots and one self-contained HTML page.

`write_report` is what a city run calls at its end; `python -m sims.report RECORD.json OUT_DIR`
draws the same report again from a saved record.
"""

from __future__ import annotations

from pathlib import Path

from sims.city.record import RunRecord

__all__ = ["write_report"]


def write_report(record: RunRecord, folder: Path) -> Path:
    """Write `record.json`, the plots and `report.html` into `folder`; return the page's path.

    The record is saved first, so a run whose plotting fails still leaves its data behind.
    Drawing is CPU work of a second or so and touches no pyplot state: from async code, call it
    with `asyncio.to_thread`.
    """
    # matplotlib is the optional `report` extra: importing this package (the live view uses
    # `sims.report.figures`) must not need it, only drawing does.
    from sims.report.figures import summarise
    from sims.report.page import render
    from sims.report.plots import draw

    folder.mkdir(parents=True, exist_ok=True)
    record.save(folder / "record.json")
    plots = draw(record, folder)
    page = folder / "report.html"
    page.write_text(render(record, summarise(record), plots), encoding="utf-8")
    return page
