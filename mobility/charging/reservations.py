"""Reservations: a connector held for one ID token until an expiry.

The operator asks (`reserve_now`); the reservation counts once the charger accepts it, and
holds the connector until it expires (by the injected clock), is cancelled, is used by a
session of its token, or the charger reports it gone (2.x ReservationStatusUpdate). While it
holds, a session of another token starting there is refused. `SqlReservations` is the one
writer of `charging_reservation`; `ReservationBook` is what the rest of the engine calls.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Engine, func, insert, select, update

from mobility.charging.token_models import ReservationRecord
from mobility.clock import Clock

RESERVATIONS = ReservationRecord.__table__  # type: ignore[attr-defined]


class ReservationState(StrEnum):
    """Where a reservation stands."""

    REQUESTED = "requested"  # sent, not answered (yet)
    ACTIVE = "active"  # the charger accepted: the connector is held
    REFUSED = "refused"  # the charger answered Faulted, Occupied, Rejected or Unavailable
    CANCELLED = "cancelled"
    USED = "used"  # a session of its token started on it
    EXPIRED = "expired"
    REMOVED = "removed"  # the charger removed it (2.x ReservationStatusUpdate Removed)


@dataclass(frozen=True, slots=True)
class Reservation:
    """One reservation; `id` is its OCPP reservationId."""

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

    def state_at(self, now: datetime) -> ReservationState:
        """The state at `now`: an active reservation past its expiry has expired."""
        if self.state is ReservationState.ACTIVE and self.expires_at <= now:
            return ReservationState.EXPIRED
        return self.state

    def holds(self, now: datetime) -> bool:
        """True while the connector is held for its token."""
        return self.state_at(now) is ReservationState.ACTIVE


class ReservationRepository(Protocol):
    """Where reservations are kept."""

    def create(
        self, charge_point_id: str, connector_id: int, id_token: str, expires_at: datetime, at: datetime
    ) -> Reservation:
        """A new reservation in state `requested`, with its ID."""
        ...

    def get(self, charge_point_id: str, reservation_id: int) -> Reservation | None:
        """One reservation of a charge point."""
        ...

    def active_on(self, charge_point_id: str, connector_id: int) -> list[Reservation]:
        """Reservations in state `active` on a connector (maybe past their expiry)."""
        ...

    def of_charge_point(
        self, charge_point_id: str, offset: int = 0, limit: int | None = None
    ) -> tuple[list[Reservation], int]:
        """A charge point's reservations, newest first, and their total."""
        ...

    def set_state(
        self,
        charge_point_id: str,
        reservation_id: int,
        state: ReservationState,
        at: datetime,
        *,
        only_from: tuple[ReservationState, ...] = (),
        charger_status: str | None = None,
        session_id: int | None = None,
    ) -> bool:
        """Move a reservation to `state` (only from `only_from` states, if given)."""
        ...


def _reservation(row: object) -> Reservation:
    return Reservation(
        id=row.id,  # type: ignore[attr-defined]
        charge_point_id=row.charge_point_id,  # type: ignore[attr-defined]
        connector_id=row.connector_id,  # type: ignore[attr-defined]
        id_token=row.id_token,  # type: ignore[attr-defined]
        expires_at=row.expires_at,  # type: ignore[attr-defined]
        state=ReservationState(row.status),  # type: ignore[attr-defined]
        charger_status=row.charger_status,  # type: ignore[attr-defined]
        session_id=row.session_id,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        updated_at=row.updated_at,  # type: ignore[attr-defined]
    )


class SqlReservations:
    """`ReservationRepository` on the engine's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self, charge_point_id: str, connector_id: int, id_token: str, expires_at: datetime, at: datetime
    ) -> Reservation:
        values = {
            "charge_point_id": charge_point_id,
            "connector_id": connector_id,
            "id_token": id_token,
            "expires_at": expires_at,
            "status": ReservationState.REQUESTED.value,
            "created_at": at,
            "updated_at": at,
        }
        with self._engine.begin() as connection:
            new_id = connection.execute(insert(RESERVATIONS).values(**values)).inserted_primary_key
        assert new_id is not None
        found = self.get(charge_point_id, int(new_id[0]))
        assert found is not None
        return found

    def get(self, charge_point_id: str, reservation_id: int) -> Reservation | None:
        query = select(RESERVATIONS).where(
            RESERVATIONS.c.id == reservation_id, RESERVATIONS.c.charge_point_id == charge_point_id
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _reservation(row)

    def active_on(self, charge_point_id: str, connector_id: int) -> list[Reservation]:
        query = select(RESERVATIONS).where(
            RESERVATIONS.c.charge_point_id == charge_point_id,
            RESERVATIONS.c.connector_id == connector_id,
            RESERVATIONS.c.status == ReservationState.ACTIVE.value,
        )
        with self._engine.connect() as connection:
            return [_reservation(row) for row in connection.execute(query).all()]

    def of_charge_point(
        self, charge_point_id: str, offset: int = 0, limit: int | None = None
    ) -> tuple[list[Reservation], int]:
        mine = RESERVATIONS.c.charge_point_id == charge_point_id
        query = (
            select(RESERVATIONS).where(mine).order_by(RESERVATIONS.c.id.desc()).offset(offset).limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
            total = connection.execute(
                select(func.count()).select_from(RESERVATIONS).where(mine)
            ).scalar_one()
        return [_reservation(row) for row in rows], int(total)

    def set_state(
        self,
        charge_point_id: str,
        reservation_id: int,
        state: ReservationState,
        at: datetime,
        *,
        only_from: tuple[ReservationState, ...] = (),
        charger_status: str | None = None,
        session_id: int | None = None,
    ) -> bool:
        query = update(RESERVATIONS).where(
            RESERVATIONS.c.id == reservation_id, RESERVATIONS.c.charge_point_id == charge_point_id
        )
        if only_from:
            query = query.where(RESERVATIONS.c.status.in_([s.value for s in only_from]))
        values: dict[str, object] = {"status": state.value, "updated_at": at}
        if charger_status is not None:
            values["charger_status"] = charger_status
        if session_id is not None:
            values["session_id"] = session_id
        with self._engine.begin() as connection:
            return bool(connection.execute(query.values(**values)).rowcount)


class ReservationBook:
    """The reservation rules, on a repository and the engine's clock."""

    def __init__(self, repository: ReservationRepository, clock: Clock) -> None:
        self.repository = repository
        self.clock = clock

    async def request(
        self, charge_point_id: str, connector_id: int, id_token: str, expires_at: datetime
    ) -> Reservation:
        """Record a reservation about to be sent (its ID is the OCPP reservationId)."""
        return await asyncio.to_thread(
            self.repository.create, charge_point_id, connector_id, id_token, expires_at, self.clock()
        )

    async def answered(self, charge_point_id: str, reservation_id: int, charger_status: str) -> None:
        """The charger's answer to ReserveNow: Accepted holds the connector, anything else refuses."""
        state = ReservationState.ACTIVE if charger_status == "Accepted" else ReservationState.REFUSED
        await asyncio.to_thread(
            self.repository.set_state,
            charge_point_id,
            reservation_id,
            state,
            self.clock(),
            only_from=(ReservationState.REQUESTED,),
            charger_status=charger_status,
        )

    async def cancelled(self, charge_point_id: str, reservation_id: int) -> None:
        """The charger accepted a CancelReservation."""
        await asyncio.to_thread(
            self.repository.set_state,
            charge_point_id,
            reservation_id,
            ReservationState.CANCELLED,
            self.clock(),
            only_from=(ReservationState.REQUESTED, ReservationState.ACTIVE),
        )

    async def reported(self, charge_point_id: str, reservation_id: int, status: str) -> bool:
        """A 2.x ReservationStatusUpdate: Expired, Removed (or 2.1 NoTransaction: expired
        unused). False for a reservation this charge point does not have."""
        state = ReservationState.REMOVED if status == "Removed" else ReservationState.EXPIRED
        return await asyncio.to_thread(
            self.repository.set_state,
            charge_point_id,
            reservation_id,
            state,
            self.clock(),
            only_from=(ReservationState.REQUESTED, ReservationState.ACTIVE),
        )

    async def holding(self, charge_point_id: str, connector_id: int) -> Reservation | None:
        """The reservation holding a connector now, or None."""
        now = self.clock()
        found = await asyncio.to_thread(self.repository.active_on, charge_point_id, connector_id)
        holding = [reservation for reservation in found if reservation.holds(now)]
        return min(holding, key=lambda r: r.expires_at) if holding else None

    async def claim(
        self,
        charge_point_id: str,
        connector_id: int,
        id_token: str,
        session_id: int,
        reservation_id: int | None = None,
    ) -> str | None:
        """A session of `id_token` starts on a connector: None if it may (using up its own
        reservation there, if any), else why not (the connector is held for another token)."""
        now = self.clock()
        found = await asyncio.to_thread(self.repository.active_on, charge_point_id, connector_id)
        holding = [reservation for reservation in found if reservation.holds(now)]
        if not holding:
            return None
        for reservation in holding:
            if reservation.id == reservation_id or reservation.id_token.upper() == id_token.upper():
                await asyncio.to_thread(
                    self.repository.set_state,
                    charge_point_id,
                    reservation.id,
                    ReservationState.USED,
                    now,
                    only_from=(ReservationState.ACTIVE,),
                    session_id=session_id,
                )
                return None
        first = min(holding, key=lambda r: r.expires_at)
        return f"connector {connector_id} is reserved for another token until {first.expires_at.isoformat()}"
