"""Reservations as a charge point keeps them: ReserveNow / CancelReservation handled, the
reserved connector refused to other tokens until its expiry, the reservation used by its own
token's start (which then names it), and on 2.x a ReservationStatusUpdate when it expires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sims.chargers._ocpp import call21, call201, on, result16
from sims.chargers.clock import parse_timestamp


@dataclass(frozen=True, slots=True)
class HeldReservation:
    """A reservation the station has accepted."""

    id: int
    connector_id: int
    id_token: str
    expires_at: datetime


class ReservationDesk:
    """The station's reservations (one per connector), on the station's clock."""

    def __init__(
        self, now: Callable[[], datetime], connector_ids: Iterable[int], busy: Callable[[int], bool]
    ) -> None:
        self._now = now
        self._connectors = tuple(connector_ids)
        self._busy = busy
        self._held: dict[int, HeldReservation] = {}

    @property
    def held(self) -> list[HeldReservation]:
        """Reservations in force (expired ones are dropped by `expire`)."""
        return list(self._held.values())

    def reserve(
        self, reservation_id: int, connector_id: int | None, id_token: str, expires_at: datetime
    ) -> str:
        """ReserveNow's answer: Accepted, Occupied (in use or reserved for another) or Rejected
        (no such connector). A reservation with a known ID replaces that one."""
        self._held.pop(reservation_id, None)
        candidates = self._connectors if connector_id in (None, 0) else (connector_id,)
        if any(c not in self._connectors for c in candidates):
            return "Rejected"
        free = [c for c in candidates if not self._busy(c) and self.holder(c) is None]
        if not free:
            return "Occupied"
        self._held[reservation_id] = HeldReservation(reservation_id, free[0], id_token, expires_at)
        return "Accepted"

    def cancel(self, reservation_id: int) -> bool:
        """CancelReservation: True if it was held."""
        return self._held.pop(reservation_id, None) is not None

    def holder(self, connector_id: int) -> HeldReservation | None:
        """The reservation holding a connector now, if any."""
        now = self._now()
        for reservation in self._held.values():
            if reservation.connector_id == connector_id and reservation.expires_at > now:
                return reservation
        return None

    def may_start(self, connector_id: int, id_token: str) -> bool:
        """False while the connector is held for another token."""
        holder = self.holder(connector_id)
        return holder is None or holder.id_token.upper() == id_token.upper()

    def use(self, connector_id: int, id_token: str) -> int | None:
        """A start of `id_token` on the connector uses its reservation: the reservation's ID."""
        holder = self.holder(connector_id)
        if holder is None or holder.id_token.upper() != id_token.upper():
            return None
        del self._held[holder.id]
        return holder.id

    def expire(self) -> list[int]:
        """Drop reservations past their expiry; their IDs."""
        now = self._now()
        gone = [r.id for r in self._held.values() if r.expires_at <= now]
        for reservation_id in gone:
            del self._held[reservation_id]
        return gone


def expiry_notice(version: str, reservation_id: int) -> Any | None:
    """The message a station sends when a reservation expires: 2.x ReservationStatusUpdate,
    nothing on 1.6."""
    calls = {"2.0.1": call201, "2.1": call21}.get(version)
    if calls is None:
        return None
    return calls.ReservationStatusUpdate(reservation_id=reservation_id, reservation_update_status="Expired")


class Reservations16:
    """1.6 ReserveNow / CancelReservation handlers; mixed in before the library's ChargePoint."""

    target: Any

    @on("ReserveNow")
    def on_reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, **_: Any
    ) -> Any:
        desk: ReservationDesk = self.target.reservations
        status = desk.reserve(reservation_id, connector_id, id_tag, parse_timestamp(expiry_date))
        return result16.ReserveNow(status=status)

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        cancelled = self.target.reservations.cancel(reservation_id)
        return result16.CancelReservation(status="Accepted" if cancelled else "Rejected")


class Reservations2x:
    """2.x ReserveNow / CancelReservation handlers; mixed in before the library's ChargePoint."""

    target: Any
    _call_result: Any

    @on("ReserveNow")
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        desk: ReservationDesk = self.target.reservations
        token = str(id_token["id_token"])
        status = desk.reserve(id, evse_id, token, parse_timestamp(expiry_date_time))
        return self._call_result.ReserveNow(status=status)

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        cancelled = self.target.reservations.cancel(reservation_id)
        return self._call_result.CancelReservation(status="Accepted" if cancelled else "Rejected")
