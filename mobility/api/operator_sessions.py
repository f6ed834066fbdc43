"""Operator routes for sessions and money: sessions with filters, revenue and settlement
status over a period, always limited to the caller's own charge points.

Money is integer micro-units, energy integer Wh. A period is `[since, until)` on a session's
start (a settlement's creation for `/settlements`), both timezone-aware.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from mobility.api.auth import OperatorPrincipal
from mobility.api.context import operator_with
from mobility.api.operator_store import Operators, OperatorStore, SessionFilter, SessionRow
from mobility.api.pagination import Page, Paging
from mobility.api.problems import Problem
from mobility.charging.charger_rules import CHARGE_POINT_PATTERN

router = APIRouter()

SessionStatus = Literal["active", "ended", "paid", "unpaid", "unbilled"]
SettlementStatus = Literal["intent", "built", "submitted", "confirmed", "failed"]
Since = Annotated[AwareDatetime | None, Query(description="from this instant (inclusive)")]
Until = Annotated[AwareDatetime | None, Query(description="up to this instant (exclusive)")]
ChargePointQuery = Annotated[str | None, Query(min_length=1, max_length=48, pattern=CHARGE_POINT_PATTERN)]
Sessions = Annotated[OperatorPrincipal, operator_with("sessions:read")]


class SessionOut(BaseModel):
    """A charging session with what it was billed and paid.

    `status`: active (still charging), paid or unpaid (ended and billed; unpaid leaves a
    `shortfall`), unbilled (ended with no payment: refused, or payments were off).
    `enforcement`: the last power limit or stop for lagging payment and why ("limit:...",
    "stop:..."), None if the payer never lagged.
    """

    id: int
    charge_point_id: str
    connector_id: int
    transaction_ref: str
    id_token: str | None
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    energy_wh: int
    flagged: bool
    flag_reason: str | None
    status: str
    billed: int
    paid: int
    shortfall: int
    tariff_id: str | None
    tariff_version: int | None
    settlement_id: int | None
    settlement_status: str | None
    enforcement: str | None = None


class RevenueOut(BaseModel):
    """Totals over the period's sessions. `paid` is billed minus shortfall of ended sessions;
    of that, `settled` is in confirmed ledger claims, `settling` in claims still in flight."""

    since: datetime | None
    until: datetime | None
    charge_point_id: str | None
    sessions: int
    active_sessions: int
    energy_wh: int
    billed: int
    paid: int
    shortfall: int
    settled: int
    settling: int
    unsettled: int


class SettlementOut(BaseModel):
    """A ledger claim on a channel covering some of your sessions.

    `amount` is the channel's cumulative claim; `operator_amount` is what your sessions in it
    were paid. `block_id` and `milestone_index` locate it in the ledger once confirmed.
    """

    id: int
    channel_id: str
    status: str
    amount: int
    operator_amount: int
    sessions: int
    block_id: str | None
    milestone_index: int | None
    failure: str | None
    created_at: datetime
    confirmed_at: datetime | None


def _period(since: datetime | None, until: datetime | None) -> None:
    try:  # an offset can push an instant at the ends of the calendar out of range in UTC
        for instant in (since, until):
            if instant is not None:
                instant.astimezone(UTC)
    except OverflowError:
        raise Problem(422, "Invalid request", "since/until out of range", "invalid-request") from None
    if since is not None and until is not None and until <= since:
        raise Problem(422, "Invalid request", "until must be after since", "invalid-request")


async def _own_charge_point(store: OperatorStore, operator_id: str, charge_point_id: str | None) -> None:
    if charge_point_id is None:
        return
    if await asyncio.to_thread(store.charger, operator_id, charge_point_id) is None:
        raise Problem(404, "Not found", f"no charge point {charge_point_id!r} of yours", "not-found")


def _session_out(row: SessionRow) -> SessionOut:
    session, payment = row.session, row.payment
    assert session.id is not None
    if session.ended_at is None:
        status = "active"
    elif payment is None or payment.status == "active":
        status = "unbilled" if payment is None else "active"
    else:
        status = payment.status
    ended = payment is not None and payment.status in ("paid", "unpaid")
    return SessionOut(
        id=session.id,
        charge_point_id=session.charge_point_id,
        connector_id=session.connector_id,
        transaction_ref=session.transaction_ref,
        id_token=session.id_token,
        started_at=session.started_at,
        ended_at=session.ended_at,
        end_reason=session.end_reason,
        energy_wh=session.energy_wh,
        flagged=session.flagged,
        flag_reason=session.flag_reason,
        status=status,
        billed=payment.billed if payment is not None else 0,
        paid=payment.billed - payment.shortfall if payment is not None and ended else 0,
        shortfall=payment.shortfall if payment is not None else 0,
        tariff_id=payment.tariff_id if payment is not None else None,
        tariff_version=payment.tariff_version if payment is not None else None,
        settlement_id=payment.settlement_id if payment is not None else None,
        settlement_status=row.settlement_status,
        enforcement=payment.enforcement if payment is not None else None,
    )


@router.get("/sessions", response_model=Page[SessionOut])
async def list_sessions(
    caller: Sessions,
    store: Operators,
    paging: Paging,
    charge_point_id: ChargePointQuery = None,
    status: SessionStatus | None = None,
    since: Since = None,
    until: Until = None,
) -> Page[SessionOut]:
    """Sessions on your charge points, newest first, filtered by charge point, status, start."""
    _period(since, until)
    await _own_charge_point(store, caller.operator_id, charge_point_id)
    where = SessionFilter(charge_point_id, status, since, until)
    rows, total = await asyncio.to_thread(store.sessions, caller.operator_id, where, paging)
    return Page.of([_session_out(r) for r in rows], total, paging)


@router.get("/revenue", response_model=RevenueOut)
async def revenue(
    caller: Sessions,
    store: Operators,
    charge_point_id: ChargePointQuery = None,
    since: Since = None,
    until: Until = None,
) -> RevenueOut:
    """Energy, billed, paid and shortfall, and how much of it is settled on the ledger."""
    _period(since, until)
    await _own_charge_point(store, caller.operator_id, charge_point_id)
    where = SessionFilter(charge_point_id, None, since, until)
    totals = await asyncio.to_thread(store.revenue, caller.operator_id, where)
    return RevenueOut(since=since, until=until, charge_point_id=charge_point_id, **asdict(totals))


@router.get("/settlements", response_model=Page[SettlementOut])
async def list_settlements(
    caller: Sessions,
    store: Operators,
    paging: Paging,
    status: SettlementStatus | None = None,
    since: Since = None,
    until: Until = None,
) -> Page[SettlementOut]:
    """Ledger claims covering your sessions, newest first, with block ID and milestone."""
    _period(since, until)
    rows, total = await asyncio.to_thread(store.settlements, caller.operator_id, status, since, until, paging)
    items = []
    for row in rows:
        settlement = row.settlement
        assert settlement.id is not None
        items.append(
            SettlementOut(
                id=settlement.id,
                channel_id=settlement.channel_id,
                status=settlement.status,
                amount=settlement.amount,
                operator_amount=row.operator_amount,
                sessions=row.sessions,
                block_id=settlement.block_id,
                milestone_index=settlement.milestone_index,
                failure=settlement.failure,
                created_at=settlement.created_at,
                confirmed_at=settlement.confirmed_at,
            )
        )
    return Page.of(items, total, paging)
