"""The report as one self-contained HTML page: plots inlined as data URIs, every text escaped.

One file, so it can be attached to a CI run or mailed and still show everything.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime
from html import escape

from sims.city.record import RunRecord, SessionRow
from sims.report.figures import Summary, differences, kwh, money
from sims.report.plots import Plot

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.banner { padding: 0.8em 1.2em; font-size: 1.2em; font-weight: bold; border-radius: 4px; }
.banner.balanced { background: #dfd; border: 2px solid #393; }
.banner.unbalanced { background: #fdd; border: 2px solid #c33; }
td.diff { background: #fcc; font-weight: bold; }
td.explained { background: #ffe8b0; }
tr.unbalanced td:first-child { border-left: 4px solid #c33; }
figure { margin: 1.5em 0; }
figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; }
"""


def _cell(text: str, *classes: str) -> str:
    attr = f' class="{escape(" ".join(classes))}"' if classes else ""
    return f"<td{attr}>{escape(text)}</td>"


def _when(at: datetime | None) -> str:
    return "" if at is None else at.isoformat(timespec="seconds")


def _rows(rows: Iterable[tuple[str, str, str]]) -> str:
    return "\n".join(
        f"<tr><th>{escape(label)}</th>{_cell(shown, 'num')}{_cell(exact, 'num')}</tr>"
        for label, shown, exact in rows
    )


def summary_table(summary: Summary, currency: str) -> str:
    """The headline figures: display value beside the exact integer it comes from."""
    total = summary.sessions
    lines: list[tuple[str, str, str]] = [("Sessions", str(total), "")]
    lines += [(f"Sessions {status}", str(n), "") for status, n in summary.by_status.items()]
    lines += [
        ("Sessions reconciled", f"{summary.balanced_sessions} of {total}", ""),
        ("Energy delivered (metered)", f"{kwh(summary.metered_wh)} kWh", f"{summary.metered_wh} Wh"),
        ("Energy delivered (simulated)", f"{kwh(summary.simulated_wh)} kWh", f"{summary.simulated_wh} Wh"),
    ]
    for label, micro in (
        ("Billed", summary.billed),
        ("Paid", summary.paid),
        ("Settled", summary.settled),
        ("Billed minus paid", summary.billed - summary.paid),
        ("Paid minus settled", summary.paid - summary.settled),
        ("Recorded shortfall", summary.shortfall),
    ):
        lines.append((label, f"{money(micro)} {currency}", f"{micro} micro-units"))
    lines += [
        (
            "Sessions stopped for lack of payment",
            str(summary.stopped),
            f"timeline: {summary.stopped_timeline}",
        ),
        ("Sessions ending limited", str(summary.limited), f"peak at once: {summary.peak_limited}"),
        (
            "Milestones issued",
            str(summary.milestones),
            ""
            if summary.first_milestone is None
            else f"index {summary.first_milestone} → {summary.last_milestone}",
        ),
        ("Settlement claims", str(summary.claims), ""),
    ]
    latency = summary.latency
    if latency is None:
        lines.append(("Settlement latency", "no settled sessions", ""))
    else:
        lines += [
            ("Settlement latency mean", f"{latency.mean:.1f} s", f"{latency.count} settled sessions"),
            ("Settlement latency p50", f"{latency.p50:.1f} s", "nearest rank"),
            ("Settlement latency p95", f"{latency.p95:.1f} s", "nearest rank"),
        ]
    return (
        '<table class="summary">\n<tr><th>Figure</th><th>Value</th><th>Exact</th></tr>\n'
        f"{_rows(lines)}\n</table>"
    )


RECONCILIATION_HEAD = (
    "Session",
    "Site",
    "Charge point",
    "Payer",
    "Behaviour",
    "Status",
    "Simulated Wh",
    "Metered Wh",
    "Billed",
    "Paid",
    "Settled",
    "Shortfall",
    "Enforcement",
    "Claim block",
    "Milestone",
    "Latency (s)",
    "Reconciles",
)


def session_row(row: SessionRow) -> str:
    """One session: its chain of figures with every cell that breaks the chain marked, `diff`
    (red) when the session does not reconcile, `explained` (amber) when its shortfall accounts
    for the gap."""
    marked = differences(row)
    mark = "diff" if not row.balanced else "explained"

    def num(field: str, text: str) -> str:
        return _cell(text, "num", mark) if field in marked else _cell(text, "num")

    block = row.block_id or ""
    cells = [
        _cell(str(row.session_id), "num"),
        _cell(row.site),
        _cell(row.charge_point_id),
        _cell(f"{row.payer} ({row.payer_kind})"),
        _cell(row.behaviour),
        _cell(row.status, "status"),
        num("simulated_wh", str(row.simulated_wh)),
        num("metered_wh", str(row.metered_wh)),
        num("billed", money(row.billed)),
        num("paid", money(row.paid)),
        num("settled", money(row.settled)),
        num("shortfall", money(row.shortfall)),
        _cell(row.enforcement or ""),
        f'<td title="{escape(block)}">{escape(block[:12] + "…" if len(block) > 12 else block)}</td>',
        _cell("" if row.milestone_index is None else str(row.milestone_index), "num"),
        _cell("" if row.settlement_latency_s is None else f"{row.settlement_latency_s:.1f}", "num"),
        _cell("yes" if row.balanced else "NO", "ok" if row.balanced else "diff"),
    ]
    state = "balanced" if row.balanced else "unbalanced"
    return f'<tr id="session-{row.session_id}" class="session {state}">{"".join(cells)}</tr>'


def _head(currency: str) -> str:
    money_columns = {"Billed", "Paid", "Settled", "Shortfall"}
    return "".join(
        f"<th>{escape(f'{h} ({currency})' if h in money_columns else h)}</th>" for h in RECONCILIATION_HEAD
    )


def reconciliation_table(record: RunRecord) -> str:
    """Every session in order of its ID, the ones that do not reconcile listed first by link."""
    rows = sorted(record.sessions, key=lambda r: r.session_id)
    failing = [r for r in rows if not r.balanced]
    links = ", ".join(f'<a href="#session-{r.session_id}">{r.session_id}</a>' for r in failing)
    lead = f"<p>Sessions that do not reconcile: {links}</p>" if failing else ""
    head = _head(record.currency or "units")
    body = "\n".join(session_row(r) for r in rows)
    return (
        f"{lead}<p>Marked cells break metered = billed = paid = settled: metered against simulated, "
        "paid against billed, settled against paid; red where the session does not reconcile, "
        "amber where an unpaid session's gaps equal its recorded shortfall (it reconciles).</p>\n"
        f'<table class="reconciliation">\n<tr>{head}</tr>\n{body}\n</table>'
    )


def _figure(plot: Plot) -> str:
    data = base64.b64encode(plot.path.read_bytes()).decode("ascii")
    return (
        f'<figure id="plot-{escape(plot.name)}"><img alt="{escape(plot.title)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{escape(plot.title)}: '
        f"{escape(plot.caption)}</figcaption></figure>"
    )


def render(record: RunRecord, summary: Summary, plots: list[Plot]) -> str:
    """The whole page."""
    currency = record.currency or "units"
    unbalanced = summary.sessions - summary.balanced_sessions
    if record.balanced:
        banner = f'<div class="banner balanced">Balanced: all {summary.sessions} sessions reconcile.</div>'
    else:
        banner = (
            f'<div class="banner unbalanced">NOT balanced: {unbalanced} of {summary.sessions} '
            "sessions do not reconcile.</div>"
        )
    run = [
        ("Scenario", record.scenario),
        ("Seed", str(record.seed)),
        ("Simulated hours", f"{record.hours:g}"),
        ("Speed", f"{record.speed:g} times real time"),
        ("Started (UTC)", _when(record.started_at)),
        ("Currency", currency),
        *sorted(record.notes.items()),
    ]
    run_rows = "\n".join(f"<tr><th>{escape(k)}</th>{_cell(v)}</tr>" for k, v in run)
    title = f"City run report: {record.scenario}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{escape(title)}</h1>
{banner}
<h2>Run</h2>
<table class="run">
{run_rows}
</table>
<h2>Summary</h2>
{summary_table(summary, currency)}
<h2>Plots</h2>
{"".join(_figure(p) for p in plots)}
<h2>Reconciliation, session by session</h2>
{reconciliation_table(record)}
</body>
</html>
"""
