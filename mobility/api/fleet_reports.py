"""Fleet routes over sessions: reconciliation, exports and audit proofs.

The work is in `mobility.fleet` (`reconcile`, `exports`, `audit`); these routes check the
period, scope everything to the calling fleet and translate the results to JSON or CSV.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from mobility.api.auth import FleetPrincipal
from mobility.api.context import ApiContext, Context, fleet_with
from mobility.api.fleet_vehicles import fleet_store
from mobility.api.pagination import Page, PageParams, Paging
from mobility.api.problems import Problem
from mobility.fleet.audit import SettlementBundle, build_settlement_bundle
from mobility.fleet.exports import cdrs, ocpi_time, render_json, sessions_csv
from mobility.fleet.reconcile import Reconciliation, SessionLine, Totals, reconcile

router = APIRouter(tags=["fleet"])

Reader = Annotated[FleetPrincipal, fleet_with("fleet:read")]
From = Annotated[
    AwareDatetime, Query(alias="from", description="Sessions started at or after (UTC offset required).")
]
To = Annotated[AwareDatetime, Query(alias="to", description="Sessions started before (UTC offset required).")]
MAX_PERIOD = timedelta(days=366)


class SettlementOut(BaseModel):
    """Where the ledger holds the claim that covers a session."""

    settlement_id: int
    block_id: str
    milestone_index: int
    inclusion_proof: bool = Field(description="an inclusion proof is stored: GET .../proof")


class SessionOut(BaseModel):
    """One reconciled session. Money in micro-units, energy in Wh; null where unknown."""

    session_id: int
    charge_point_id: str
    connector_id: int
    site: str | None
    vehicle_id: str | None
    driver_name: str | None
    id_token: str
    started_at: datetime
    ended_at: datetime | None
    metered_wh: int = Field(description="from the meter readings and the final register")
    billed: int | None = Field(description="what the payment layer billed (incl. VAT)")
    repriced: int | None = Field(description="the session's tariff version applied to the readings again")
    paid: int | None = Field(description="what the vouchers covered; null while charging")
    settled: int = Field(description="paid and confirmed on the ledger")
    settlement: SettlementOut | None
    status: str = Field(description="ok, unpaid, unsettled, meter anomaly or mismatch")
    reason: str

    @classmethod
    def of(cls, line: SessionLine) -> SessionOut:
        session, token = line.facts.session, line.facts.token
        return cls(
            session_id=line.session_id,
            charge_point_id=session.charge_point_id,
            connector_id=session.connector_id,
            site=line.facts.site,
            vehicle_id=token.vehicle_id,
            driver_name=token.driver_name,
            id_token=token.token,
            started_at=session.started_at,
            ended_at=session.ended_at,
            metered_wh=line.metered_wh,
            billed=line.billed,
            repriced=line.repriced,
            paid=line.paid,
            settled=line.settled,
            settlement=SettlementOut(
                settlement_id=line.settlement.settlement_id,
                block_id=line.settlement.block_id,
                milestone_index=line.settlement.milestone_index,
                inclusion_proof=True,
            )
            if line.settlement is not None
            else None,
            status=line.status.value,
            reason=line.reason,
        )


class TotalsOut(BaseModel):
    """Sums over a group of sessions (`key` null: sessions without a vehicle, driver or site)."""

    key: str | None = None
    sessions: int
    energy_wh: int
    billed: int
    paid: int
    settled: int
    by_status: dict[str, int]

    @classmethod
    def of(cls, totals: Totals, key: str | None = None) -> TotalsOut:
        return cls(
            key=key,
            sessions=totals.sessions,
            energy_wh=totals.energy_wh,
            billed=totals.billed,
            paid=totals.paid,
            settled=totals.settled,
            by_status=dict(totals.by_status),
        )


class ReconciliationOut(BaseModel):
    """A page of the period's sessions, with totals over the whole period."""

    period_from: datetime = Field(serialization_alias="from")
    period_to: datetime = Field(serialization_alias="to")
    sessions: Page[SessionOut]
    total: TotalsOut
    vehicles: list[TotalsOut]
    drivers: list[TotalsOut]
    sites: list[TotalsOut]


def _groups(groups: dict[str | None, Totals]) -> list[TotalsOut]:
    return [TotalsOut.of(totals, key) for key, totals in sorted(groups.items(), key=lambda kv: kv[0] or "")]


def _period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period in UTC; 422 when it is backwards, too long, or off the calendar in UTC."""
    try:
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError as error:
        raise Problem(
            422, "Invalid request", "the period falls outside years 1 to 9999 in UTC", "invalid-request"
        ) from error
    if end <= start:
        raise Problem(422, "Invalid request", "`to` must be after `from`", "invalid-request")
    if end - start > MAX_PERIOD:
        raise Problem(422, "Invalid request", "a period spans at most 366 days", "invalid-request")
    return start, end


async def _reconciled(
    context: ApiContext, caller: FleetPrincipal, start: datetime, end: datetime
) -> Reconciliation:
    start, end = _period(start, end)
    facts = await asyncio.to_thread(fleet_store(context).session_facts, caller.account_id, start, end)
    return await asyncio.to_thread(reconcile, facts, context.payment_store.tariff)


@router.get("/reconciliation", response_model=ReconciliationOut, response_model_by_alias=True)
async def reconciliation(
    start: From, end: To, caller: Reader, context: Context, paging: Paging
) -> ReconciliationOut:
    """Every session of the fleet's tokens started in [from, to), checked meter to ledger.

    Status, first match wins: `meter anomaly` (the charging layer flagged the meter, or its
    readings cannot be priced), `mismatch` (re-pricing the readings at the session's tariff
    version disagrees with the bill, or metered and billed energy differ), `unpaid` (no channel
    paid, or a shortfall), `unsettled` (charging, or no confirmed ledger claim covers it yet),
    `ok`. Sessions are paginated; the totals cover the whole period.
    """
    result = await _reconciled(context, caller, start, end)
    return ReconciliationOut(
        period_from=start,
        period_to=end,
        sessions=Page[SessionOut].slice([SessionOut.of(line) for line in result.lines], paging),
        total=TotalsOut.of(result.total),
        vehicles=_groups(result.by_vehicle),
        drivers=_groups(result.by_driver),
        sites=_groups(result.by_site),
    )


def _page_headers(total: int, paging: PageParams) -> dict[str, str]:
    return {"X-Total-Count": str(total), "X-Limit": str(paging.limit), "X-Offset": str(paging.offset)}


@router.get(
    "/exports/cdrs",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "An OCPI 2.2.1 response of CDRs."}},
)
async def export_cdrs(start: From, end: To, caller: Reader, context: Context, paging: Paging) -> Response:
    """OCPI 2.2.1 CDRs of the fleet's ended sessions started in [from, to), in an OCPI response.

    Numbers are exact decimals: `total_energy` is the metered Wh in kWh, costs are the bill in
    currency units. Paginated as OCPI does: `X-Total-Count` and `X-Limit` headers.
    """
    result = await _reconciled(context, caller, start, end)
    everything = cdrs(result.lines)
    page = everything[paging.offset : paging.offset + paging.limit]
    body = {
        "data": page,
        "status_code": 1000,
        "status_message": "Success",
        "timestamp": ocpi_time(context.clock()),
    }
    return Response(
        render_json(body), media_type="application/json", headers=_page_headers(len(everything), paging)
    )


@router.get(
    "/exports/sessions.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Reconciled sessions as CSV."}},
)
async def export_csv(start: From, end: To, caller: Reader, context: Context, paging: Paging) -> Response:
    """The reconciliation's sessions as CSV (Wh, micro-units, UTC), one page per request.

    `X-Total-Count` says how many sessions the period holds.
    """
    result = await _reconciled(context, caller, start, end)
    page = result.lines[paging.offset : paging.offset + paging.limit]
    return Response(
        sessions_csv(page),
        media_type="text/csv; charset=utf-8",
        headers={
            **_page_headers(len(result.lines), paging),
            "Content-Disposition": 'attachment; filename="sessions.csv"',
        },
    )


@router.get("/sessions/{session_id}/proof", response_model=SettlementBundle)
async def session_proof(
    session_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="A session of this fleet.")],
    caller: Reader,
    context: Context,
) -> SettlementBundle:
    """A bundle proving the session's settlement is in the ledger.

    Check it offline with `mobility.fleet.audit.verify_settlement_bundle` and the coordinator
    public keys you trust. 409 while the session is not settled yet.
    """
    facts = await asyncio.to_thread(fleet_store(context).session_facts_by_id, caller.account_id, session_id)
    if facts is None:
        raise Problem(404, "Not found", f"no session {session_id} of this fleet", "not-found")
    if facts.payment is None or facts.settlement is None or facts.settlement.status != "confirmed":
        raise Problem(
            409, "Not settled", f"session {session_id} has no confirmed settlement yet", "not-settled"
        )
    bundle = await asyncio.to_thread(
        build_settlement_bundle,
        session_id,
        facts.payment.channel_id,
        facts.settlement,
        context.node.store,
        context.node.params,
    )
    if bundle is None:
        raise Problem(
            409, "Not settled", f"the ledger has no proof for session {session_id} yet", "not-settled"
        )
    return bundle
