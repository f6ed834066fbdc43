"""Redraw a report from a saved record: `python -m sims.report RECORD.json OUT_DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path

from sims.city.record import RunRecord
from sims.report import write_report


def main(argv: list[str] | None = None) -> int:
    """Load the record, write the report, print the page's path and whether the run balanced.

    Exits 0 whenever the report is drawn: judging the run is `mobility demo`'s exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m sims.report", description=__doc__)
    parser.add_argument("record", type=Path, help="a record.json written by a city run")
    parser.add_argument("out_dir", type=Path, help="folder for record.json, the PNGs and report.html")
    args = parser.parse_args(argv)
    record = RunRecord.load(args.record)
    page = write_report(record, args.out_dir)
    print(f"{page} ({'balanced' if record.balanced else 'NOT balanced'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
