"""The city's own reconciliation: every session from the simulated meter to the ledger, computed
by the city and compared with what the engine reports, never taken from the engine's books.

- energy: what the simulated charger's meter delivered, against the engine's metered Wh;
- billed: the city prices the session itself (`sims.city.tariffs`, from the readings its
  charger sent and the site's tariff in the scenario) and the engine's bill must be that, to
  the micro-unit;
- paid: the engine's `billed - shortfall`, which, summed over a channel, must not exceed what
  the city's own wallet signed on that channel;
- settled: the paid amount once a claim on the session's channel is proven on the ledger
  (`sims.city.ledger_proof`) and the channel's proven claims cover everything settled on it.

The engine's side comes from the operator API (`/operator/sessions`, `/operator/settlements`)
and the node's `/ledger` routes, fetched while the engine runs (`fetch_report`); the checks
run on that snapshot, so a run can be reconciled again after the engine has stopped.

Statuses, first match wins, in the fleet API's words (so the two can be compared):
``meter anomaly`` (the engine flagged its meter), ``mismatch`` (only one side knows the
session, no payer of the city started it, energy or bill differ, or a channel was said to pay
more than its wallet signed), ``unpaid`` (no channel paid, or a shortfall), ``unsettled``
(running, or paid but not proven settled), ``ok``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from sims.city.ledger_proof import ClaimUnprovenError, Coordinator, ProvenClaim, prove_claim
from sims.city.record import SessionRow
from sims.city.tariffs import CityTariff, Reading, session_price

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE = 100


@dataclass(frozen=True, slots=True)
class SimulatedSession:
    """A transaction as the simulated charger knows it: where, when, and what its meter said."""

    charge_point_id: str
    ref: str | None
    site: str
    delivered_wh: int
    started_at: datetime
    ended_at: datetime
    readings: tuple[Reading, ...]  # session Wh at each reported instant, as sent


@dataclass(frozen=True, slots=True)
class Payer:
    """Who of the city pays a session, from which channel (hex)."""

    account: str
    kind: str  # "driver" or "fleet"
    channel_id: str


@dataclass
class EngineReport:
    """What the engine and its ledger node said at the end of the run (JSON as served)."""

    sessions: list[dict[str, Any]]
    settlements: list[dict[str, Any]]
    claims: dict[str, ProvenClaim | str]  # claim block ID -> proven claim, or why it is not


@dataclass
class CityBooks:
    """What only the city knows: its meters, tariffs, payers and what their wallets signed."""

    simulated: list[SimulatedSession]
    tariff_of_site: dict[str, CityTariff]
    payer_of_session: dict[int, Payer]  # drivers' sessions, as their app saw them start
    payer_of_token: dict[str, Payer]  # fleet RFID tokens (upper case)
    behaviour_of: dict[int, str]
    signed: dict[str, int] = field(default_factory=dict)  # channel ID -> cumulative signed


async def _pages(http: httpx.AsyncClient, path: str, headers: Mapping[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        response = await http.get(path, params={"limit": PAGE, "offset": len(items)}, headers=headers)
        response.raise_for_status()
        page = response.json()
        items += page["items"]
        if not page["items"] or len(items) >= page["total"]:
            return items


async def fetch_report(http: httpx.AsyncClient, operator_headers: Mapping[str, str]) -> EngineReport:
    """The operator's sessions and settlements, and every confirmed claim checked on the ledger."""
    sessions = await _pages(http, "/operator/sessions", operator_headers)
    settlements = await _pages(http, "/operator/settlements", operator_headers)
    coordinator = await Coordinator.announced(http)
    claims: dict[str, ProvenClaim | str] = {}
    for settlement in settlements:
        block_id = settlement["block_id"]
        if settlement["status"] != "confirmed" or block_id is None or block_id in claims:
            continue
        try:
            claims[block_id] = await prove_claim(http, block_id, coordinator)
        except ClaimUnprovenError as error:
            claims[block_id] = str(error)
    return EngineReport(sessions, settlements, claims)


def reconcile(books: CityBooks, report: EngineReport) -> tuple[list[SessionRow], dict[str, str]]:
    """One row per session (and per simulated transaction the engine never knew), and notes."""
    notes: dict[str, str] = {}
    twins = {(s.charge_point_id, s.ref): s for s in books.simulated}
    settlements = {int(s["id"]): s for s in report.settlements}
    payers = {int(s["id"]): _payer(books, s) for s in report.sessions}
    settled = _settled(books, report, settlements, payers, notes)
    overpaid = _overpaid_channels(books, report, payers, notes)
    rows = []
    for session in report.sessions:
        session_id = int(session["id"])
        twin = twins.pop((session["charge_point_id"], session["transaction_ref"]), None)
        payer = payers[session_id]
        expected = _expected(books, twin)
        status, reason = _status(session, twin, payer, expected, settled.get(session_id, 0), overpaid)
        settlement = settlements.get(session["settlement_id"] or -1)
        claim = report.claims.get(settlement["block_id"]) if settlement and settlement["block_id"] else None
        proven = claim if isinstance(claim, ProvenClaim) and session_id in settled else None
        latency = None
        if proven is not None and settlement and settlement["confirmed_at"] and session["ended_at"]:
            confirmed, ended = (datetime.fromisoformat(settlement["confirmed_at"]),
                                datetime.fromisoformat(session["ended_at"]))  # fmt: skip
            latency = (confirmed - ended).total_seconds()
        kind = payer.kind if payer else "unknown"
        rows.append(
            SessionRow(
                session_id=session_id,
                site=twin.site if twin else "",
                charge_point_id=session["charge_point_id"],
                payer=payer.account if payer else session["id_token"] or "",
                payer_kind=kind,
                behaviour=books.behaviour_of.get(session_id, "rfid" if kind == "fleet" else "unknown"),
                started_at=datetime.fromisoformat(session["started_at"]),
                ended_at=datetime.fromisoformat(session["ended_at"]) if session["ended_at"] else None,
                simulated_wh=twin.delivered_wh if twin else -1,
                metered_wh=int(session["energy_wh"]),
                billed=int(session["billed"]),
                paid=int(session["paid"]),
                settled=settled.get(session_id, 0),
                shortfall=int(session["shortfall"]),
                enforcement=session.get("enforcement"),
                block_id=proven.block_id if proven else None,
                milestone_index=proven.milestone_index if proven else None,
                settlement_latency_s=latency,
                status=status,
                expected=expected,
                reason=reason,
            )
        )
    rows.extend(_unseen(twin) for twin in twins.values())
    return sorted(rows, key=lambda r: (r.started_at, r.session_id)), notes


def _payer(books: CityBooks, session: dict[str, Any]) -> Payer | None:
    payer = books.payer_of_session.get(int(session["id"]))
    if payer is None and session["id_token"]:
        payer = books.payer_of_token.get(str(session["id_token"]).upper())
    return payer


def _expected(books: CityBooks, twin: SimulatedSession | None) -> int:
    """The city's price of the simulated session (-1: no simulated twin to price)."""
    if twin is None:
        return -1
    return session_price(books.tariff_of_site[twin.site], twin.started_at, twin.readings, twin.ended_at)


def _settled(
    books: CityBooks,
    report: EngineReport,
    settlements: dict[int, dict[str, Any]],
    payers: dict[int, Payer | None],
    notes: dict[str, str],
) -> dict[int, int]:
    """Session -> its paid amount, where a claim on its payer's channel is proven on the ledger
    and the channel's proven claims cover everything so settled on it."""
    candidates: dict[str, dict[int, int]] = {}  # channel -> session -> paid
    for session in report.sessions:
        session_id, payer = int(session["id"]), payers[int(session["id"])]
        settlement = settlements.get(session["settlement_id"] or -1)
        if payer is None or settlement is None or not session["paid"]:
            continue
        claim = report.claims.get(settlement["block_id"] or "")
        if isinstance(claim, str):
            notes[f"claim {settlement['block_id']}"] = f"not proven on the ledger: {claim}"
        if isinstance(claim, ProvenClaim) and claim.channel_id == payer.channel_id:
            candidates.setdefault(payer.channel_id, {})[session_id] = int(session["paid"])
    covered: dict[str, int] = {}
    for claim in report.claims.values():
        if isinstance(claim, ProvenClaim):
            covered[claim.channel_id] = max(covered.get(claim.channel_id, 0), claim.amount)
    settled: dict[int, int] = {}
    for channel_id, paid in candidates.items():
        if sum(paid.values()) > covered.get(channel_id, 0):
            notes[f"channel {channel_id}"] = (
                f"claims on the ledger take {covered.get(channel_id, 0)}, "
                f"its sessions were paid {sum(paid.values())}"
            )
            continue
        settled.update(paid)
    return settled


def _overpaid_channels(
    books: CityBooks, report: EngineReport, payers: dict[int, Payer | None], notes: dict[str, str]
) -> set[str]:
    """Channels whose sessions the engine says were paid more than the city's wallet signed."""
    paid: dict[str, int] = {}
    for session in report.sessions:
        payer = payers[int(session["id"])]
        if payer is not None:
            paid[payer.channel_id] = paid.get(payer.channel_id, 0) + int(session["paid"])
    overpaid = set()
    for channel_id, amount in paid.items():
        if channel_id in books.signed and amount > books.signed[channel_id]:
            overpaid.add(channel_id)
            notes[f"channel {channel_id}"] = f"paid {amount}, its wallet signed {books.signed[channel_id]}"
    return overpaid


def _status(
    session: dict[str, Any],
    twin: SimulatedSession | None,
    payer: Payer | None,
    expected: int,
    settled: int,
    overpaid: set[str],
) -> tuple[str, str]:
    billed, paid = int(session["billed"]), int(session["paid"])
    if session["flagged"]:
        return "meter anomaly", session["flag_reason"] or "flagged by the engine"
    if twin is None:
        return "mismatch", "no simulated charger ran it"
    if payer is None:
        return "mismatch", "nobody of the city started it"
    if twin.delivered_wh != int(session["energy_wh"]):
        return "mismatch", f"metered {session['energy_wh']} Wh, the meter delivered {twin.delivered_wh} Wh"
    if session["status"] == "unbilled":
        return "unpaid", "no channel paid for it"
    if session["status"] == "active":
        return "unsettled", "still charging"
    if billed != expected:
        return "mismatch", f"billed {billed}, the city prices it at {expected}"
    if payer.channel_id in overpaid:
        return "mismatch", "its channel was paid more than its wallet signed"
    if session["status"] == "unpaid":
        return "unpaid", f"shortfall of {session['shortfall']}"
    if billed > 0 and settled < paid:
        return "unsettled", "no claim on the ledger proves it settled"
    return "ok", ""


def _unseen(twin: SimulatedSession) -> SessionRow:
    return SessionRow(
        -1, twin.site, twin.charge_point_id, "", "unknown", "unknown", twin.started_at, None,
        twin.delivered_wh, 0, 0, 0, 0, 0, None, None, None, None, "mismatch",
        reason="the engine never knew it",
    )  # fmt: skip
