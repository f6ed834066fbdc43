"""Operator reservations: `reserve_now` and `cancel_reservation` commands (ReserveNow /
CancelReservation on every version) and the list of a charge point's reservations.

The engine gives each reservation its ID (the OCPP reservationId) and records it before the
command goes out; the charger's answer decides whether it holds the connector.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from mobility.api.auth import OperatorPrincipal
from mobility.api.command_scope import CommandScope, ScopedCommand
from mobility.api.context import Context, operator_with
from mobility.api.operator_store import Operators
from mobility.api.pagination import Page, Paging
from mobility.api.problems import Problem
from mobility.charging.charger_rules import CHARGE_POINT_PATTERN, MAX_ID_LENGTH
from mobility.charging.reservations import Reservation, ReservationState, SqlReservations
from ocpp_server.commands import CommandResult

router = APIRouter()

IdToken = Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[\x21-\x7e]+$")]
MAX_RESERVATION = timedelta(days=7)


class ReserveNowCommand(ScopedCommand):
    """Hold a connector (an EVSE on 2.x) for `id_token` until `expires_at` (at most 7 days
    ahead): ReserveNow. The answer carries `reservation_id`, the ID to cancel it by."""

    type: Literal["reserve_now"]
    connector_id: int = Field(ge=1, le=1000)
    id_token: IdToken
    expires_at: AwareDatetime

    async def check(self, scope: CommandScope) -> None:
        now = scope.service.reservations.clock()
        if not now < self.expires_at <= now + MAX_RESERVATION:
            raise Problem(422, "Invalid request", "expires_at lies in the next 7 days", "bad-expiry")

    async def run_in(self, scope: CommandScope) -> CommandResult:
        book = scope.service.reservations
        reservation = await book.request(
            scope.charge_point_id, self.connector_id, self.id_token, self.expires_at
        )
        result = await scope.central.reservations(scope.charge_point_id).reserve_now(
            reservation.id, self.connector_id, self.id_token, self.expires_at
        )
        await book.answered(scope.charge_point_id, reservation.id, result.status)
        return CommandResult(result.status, {**result.payload, "reservation_id": reservation.id})


class CancelReservationCommand(ScopedCommand):
    """Cancel a reservation by the ID `reserve_now` answered: CancelReservation. 404 for a
    reservation this charge point does not have."""

    type: Literal["cancel_reservation"]
    reservation_id: int = Field(ge=1, le=2**31 - 1)

    async def check(self, scope: CommandScope) -> None:
        repository = scope.service.reservations.repository
        found = await asyncio.to_thread(repository.get, scope.charge_point_id, self.reservation_id)
        if found is None:
            raise Problem(404, "Not found", f"no reservation {self.reservation_id} here", "not-found")

    async def run_in(self, scope: CommandScope) -> CommandResult:
        sent = scope.central.reservations(scope.charge_point_id)
        result = await sent.cancel_reservation(self.reservation_id)
        if result.accepted:
            await scope.service.reservations.cancelled(scope.charge_point_id, self.reservation_id)
        return result


class ReservationOut(BaseModel):
    """A reservation. `state`: requested (no answer yet), active (holds the connector),
    refused (`charger_status` says why), cancelled, used (by `session_id`), expired, removed."""

    id: int
    charge_point_id: str
    connector_id: int
    id_token: str
    expires_at: datetime
    state: ReservationState
    charger_status: str | None
    session_id: int | None
    created_at: datetime
    updated_at: datetime


def reservation_out(reservation: Reservation, now: datetime) -> ReservationOut:
    """The API's view, with the state at `now` (an active one past its expiry shows expired)."""
    return ReservationOut(
        id=reservation.id,
        charge_point_id=reservation.charge_point_id,
        connector_id=reservation.connector_id,
        id_token=reservation.id_token,
        expires_at=reservation.expires_at,
        state=reservation.state_at(now),
        charger_status=reservation.charger_status,
        session_id=reservation.session_id,
        created_at=reservation.created_at,
        updated_at=reservation.updated_at,
    )


ChargePointPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=CHARGE_POINT_PATTERN)]


@router.get("/chargers/{charge_point_id}/reservations", response_model=Page[ReservationOut])
async def list_reservations(
    charge_point_id: ChargePointPath,
    caller: Annotated[OperatorPrincipal, operator_with("chargers:read")],
    context: Context,
    store: Operators,
    paging: Paging,
) -> Page[ReservationOut]:
    """One of your charge points' reservations, newest first."""
    if await asyncio.to_thread(store.charger, caller.operator_id, charge_point_id) is None:
        raise Problem(404, "Not found", f"no charge point {charge_point_id!r} of yours", "not-found")
    repository = SqlReservations(context.charging.engine)
    found, total = await asyncio.to_thread(
        repository.of_charge_point, charge_point_id, paging.offset, paging.limit
    )
    now = context.central.service.reservations.clock() if context.central is not None else context.clock()
    return Page.of([reservation_out(r, now) for r in found], total, paging)
