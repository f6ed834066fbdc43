"""The city report drawn from a small synthetic record: files, figures, marked differences, CLI.

Expected figures are computed here from the sessions directly, not through `sims.report`, so a
wrong sum or a float rounding in the report shows up as a mismatch.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from sims.city.record import SESSION_STATUSES, RunRecord, Sample, SessionRow
from sims.report import write_report
from sims.report.figures import fixed

START = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script> & co"
PLOTS = ("power", "revenue", "latency", "enforcement", "ledger")
ROOT = Path(__file__).resolve().parents[2]


def _session(session_id: int, **overrides: Any) -> SessionRow:
    base = SessionRow(
        session_id=session_id,
        site="office",
        charge_point_id=f"CITY7-{session_id:04d}",
        payer=f"driver-{session_id}",
        payer_kind="driver",
        behaviour="prompt",
        started_at=START + timedelta(minutes=5 * session_id),
        ended_at=START + timedelta(minutes=5 * session_id + 40),
        simulated_wh=7_321,
        metered_wh=7_321,
        billed=1_234_567,
        paid=1_234_567,
        settled=1_234_567,
        shortfall=0,
        enforcement=None,
        block_id="ab" * 32,
        milestone_index=4,
        settlement_latency_s=120.0,
        status="ok",
    )
    return replace(base, **overrides)


def _record() -> RunRecord:
    sessions = [
        _session(1),
        _session(
            2,
            site="depot",
            payer="fleet-1",
            payer_kind="fleet",
            behaviour="rfid",
            simulated_wh=30_500,
            metered_wh=30_500,
            billed=6_100_001,
            paid=6_100_001,
            settled=6_100_001,
            settlement_latency_s=300.5,
        ),
        _session(  # stopped for lack of payment: its gap is its shortfall, so it reconciles
            3,
            site="car park",
            behaviour="stops paying",
            billed=2_000_000,
            paid=1_500_000,
            settled=1_500_000,
            shortfall=500_000,
            enforcement="stop:credit exhausted",
            block_id="cd" * 32,
            milestone_index=7,
            settlement_latency_s=180.0,
            status="unpaid",
        ),
        _session(  # paid, never claimed
            4,
            settled=0,
            block_id=None,
            milestone_index=None,
            settlement_latency_s=None,
            status="unsettled",
        ),
        _session(5, simulated_wh=7_400, settlement_latency_s=90.25, status="meter anomaly"),
        _session(  # the bill disagrees with the vouchers; limited on the way
            6,
            site=HOSTILE,
            behaviour="slow",
            paid=1_000_000,
            settled=1_000_000,
            enforcement="limit",
            block_id="cd" * 32,
            milestone_index=7,
            settlement_latency_s=600.0,
            status="mismatch",
        ),
    ]
    samples = [
        Sample(
            at=START + timedelta(minutes=15 * i),
            power_w_by_site=by_site,
            active_sessions=active,
            energy_wh=2_000 * i,
            billed=1_000_000 * i,
            paid=900_000 * i,
            settled=500_000 * i,
            limited_sessions=limited,
            stopped_sessions=stopped,
            milestone_index=milestone,
            tips=tips,
        )
        for i, (by_site, active, limited, stopped, milestone, tips) in enumerate(
            [
                ({"office": 0}, 0, 0, 0, None, 1),
                ({"office": 11_000, "depot": 22_000}, 3, 1, 0, 3, 4),
                ({"office": 7_400, "depot": 22_000, "car park": 3_700}, 4, 2, 1, 4, 6),
                ({"depot": 11_000}, 1, 0, 1, 7, 2),
            ]
        )
    ]
    return RunRecord(
        scenario="tiny city",
        seed=7,
        hours=1.0,
        speed=60.0,
        started_at=START,
        samples=samples,
        sessions=sessions,
        notes={"engine": HOSTILE},
        currency="EUR",
    )


class _Page(HTMLParser):
    """The reconciliation rows: each as (tr attributes, [(cell text, cell classes)])."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[dict[str, str], list[tuple[str, set[str]]]]] = []
        self._in_row = False
        self._cell: tuple[list[str], set[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        if tag == "tr" and "session" in named.get("class", "").split():
            self.rows.append((named, []))
            self._in_row = True
        elif tag == "td" and self._in_row:
            self._cell = ([], set(named.get("class", "").split()))

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[0].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self.rows:
            self.rows[-1][1].append(("".join(self._cell[0]), self._cell[1]))
            self._cell = None
        elif tag == "tr":
            self._in_row = False


def _micro(micro: int) -> str:
    """Independent of sims.report: whole units and six decimal places by integer arithmetic."""
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunRecord, Path, str]:
    """One report drawn for the whole module (matplotlib is the slow part)."""
    record = _record()
    folder = tmp_path_factory.mktemp("report")
    page = write_report(record, folder / "out")
    return record, page, page.read_text(encoding="utf-8")


def test_fixed_point_display_is_exact() -> None:
    assert fixed(1_234_567, 6) == "1.234567"
    assert fixed(0, 6) == "0.000000"
    assert fixed(12_000_000, 6) == "12.000000"
    assert fixed(-5, 6) == "-0.000005"
    assert fixed(10**21 + 1, 6) == "1000000000000000.000001"  # beyond a float's 53 bits
    assert fixed(7_321, 3) == "7.321"


def test_writes_the_files(drawn: tuple[RunRecord, Path, str]) -> None:
    _, page, _ = drawn
    folder = page.parent
    assert page == folder / "report.html"
    assert (folder / "record.json").is_file()
    for name in PLOTS:
        png = folder / f"{name}.png"
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(png) as image:
            assert image.format == "PNG"
            assert image.size[0] > 300
            assert image.size[1] > 200
            image.verify()


def test_record_json_round_trips(drawn: tuple[RunRecord, Path, str]) -> None:
    record, page, _ = drawn
    assert RunRecord.load(page.parent / "record.json") == record


def test_page_is_self_contained_and_escaped(drawn: tuple[RunRecord, Path, str]) -> None:
    _, _, html = drawn
    images = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(images) == len(PLOTS)
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert "<script" not in html
    assert escape(HOSTILE) in html


def test_summary_figures(drawn: tuple[RunRecord, Path, str]) -> None:
    record, _, html = drawn
    rows = record.sessions
    summary = html[html.index('<table class="summary">') : html.index("</table>", html.index("summary"))]

    def figure(label: str) -> list[str]:
        match = re.search(rf"<tr><th>{re.escape(label)}</th>(.*?)</tr>", summary)
        assert match is not None, label
        return re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))

    assert figure("Sessions") == [str(len(rows)), ""]
    for status in SESSION_STATUSES:
        assert figure(f"Sessions {status}")[0] == str(sum(r.status == status for r in rows))
    for label, attribute in (("Billed", "billed"), ("Paid", "paid"), ("Settled", "settled")):
        total = sum(getattr(r, attribute) for r in rows)
        assert figure(label) == [f"{_micro(total)} EUR", f"{total} micro-units"]
    assert figure("Billed")[1] == "13038269 micro-units"  # by hand: 1.234567 * 4 + 6.100001 + 2
    wh = sum(r.metered_wh for r in rows)
    assert figure("Energy delivered (metered)") == [f"{wh // 1000}.{wh % 1000:03d} kWh", f"{wh} Wh"]
    assert figure("Sessions stopped for lack of payment")[0] == "1"
    assert figure("Sessions ending limited") == ["1", "peak at once: 2"]
    assert figure("Milestones issued") == ["4", "index 3 → 7"]
    assert figure("Settlement claims")[0] == str(len({r.block_id for r in rows if r.block_id}))
    latencies = sorted(r.settlement_latency_s for r in rows if r.settlement_latency_s is not None)
    assert figure("Settlement latency mean")[0] == f"{sum(latencies) / len(latencies):.1f} s"
    assert figure("Settlement latency p50")[0] == f"{latencies[math.ceil(len(latencies) / 2) - 1]:.1f} s"
    assert figure("Settlement latency p95")[0] == f"{latencies[-1]:.1f} s"  # 5 values: rank 5


def test_reconciliation_session_by_session(drawn: tuple[RunRecord, Path, str]) -> None:
    record, _, html = drawn
    banner = html.index("NOT balanced: 3 of 6 sessions do not reconcile.")
    assert banner < html.index('<table class="summary">')
    parser = _Page()
    parser.feed(html)
    assert [attrs["id"] for attrs, _ in parser.rows] == [f"session-{r.session_id}" for r in record.sessions]
    head = re.findall(r"<th>(.*?)</th>", html[html.index('<table class="reconciliation">') :])
    expected_marks = {  # (red: does not reconcile, amber: explained by the shortfall)
        1: (set(), set()),
        2: (set(), set()),
        3: (set(), {"Paid (EUR)"}),
        4: ({"Settled (EUR)"}, set()),
        5: ({"Metered Wh"}, set()),
        6: ({"Paid (EUR)"}, set()),
    }
    for row, (attrs, cells) in zip(record.sessions, parser.rows, strict=True):
        named = dict(zip(head, cells, strict=True))
        red = {column for column, (_, classes) in named.items() if "diff" in classes}
        amber = {column for column, (_, classes) in named.items() if "explained" in classes}
        red.discard("Reconciles")
        assert (red, amber) == expected_marks[row.session_id], row.session_id
        assert named["Status"][0] == row.status
        assert named["Enforcement"][0] == (row.enforcement or "")
        assert named["Billed (EUR)"][0] == _micro(row.billed)
        assert named["Reconciles"][0] == ("yes" if row.balanced else "NO")
        assert ("unbalanced" in attrs["class"].split()) == (not row.balanced)
    assert [r.session_id for r in record.sessions if not r.balanced] == [4, 5, 6]


def test_balanced_and_empty_records_draw(tmp_path: Path) -> None:
    record = _record()
    balanced = replace(record, sessions=[record.sessions[0], record.sessions[2]], samples=[])
    html = write_report(balanced, tmp_path / "balanced").read_text(encoding="utf-8")
    assert "Balanced: all 2 sessions reconcile." in html
    empty = RunRecord(scenario="nothing", seed=0, hours=0.0, speed=1.0, started_at=START)
    html = write_report(empty, tmp_path / "empty").read_text(encoding="utf-8")
    assert "Balanced: all 0 sessions reconcile." in html
    assert "no settled sessions" in html
    assert "0.000000 units" in html


def test_cli_redraws_from_a_saved_record(drawn: tuple[RunRecord, Path, str], tmp_path: Path) -> None:
    record, page, html = drawn
    done = subprocess.run(
        [sys.executable, "-m", "sims.report", str(page.parent / "record.json"), str(tmp_path / "again")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "NOT balanced" in done.stdout
    assert (tmp_path / "again" / "report.html").read_text(encoding="utf-8") == html
    assert RunRecord.load(tmp_path / "again" / "record.json") == record
