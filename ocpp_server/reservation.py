"""The reservation block on every version: ReserveNow and CancelReservation out, and on 2.x
ReservationStatusUpdate in. Mixed into the version adapters, before `FramedConnection`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from mobility.charging.timeutil import format_timestamp
from ocpp_server._ocpp import call16, on
from ocpp_server.commands import CommandResult

if TYPE_CHECKING:
    from mobility.charging.service import ChargingService


class ReservationCommands(Protocol):
    """Reserve a connector (an EVSE on 2.x) for an ID token, or cancel that."""

    async def reserve_now(
        self, reservation_id: int, connector_id: int, id_token: str, expires_at: datetime
    ) -> CommandResult:
        """ReserveNow; the answer's status is Accepted, Faulted, Occupied, Rejected or Unavailable."""
        ...

    async def cancel_reservation(self, reservation_id: int) -> CommandResult:
        """CancelReservation; Accepted or Rejected."""
        ...


class _Sends(Protocol):
    async def send_command(self, payload: Any, names_transaction: bool = False) -> CommandResult: ...


class Reservation16:
    """1.6 ReserveNow / CancelReservation (Reservation profile)."""

    async def reserve_now(
        self, reservation_id: int, connector_id: int, id_token: str, expires_at: datetime
    ) -> CommandResult:
        """ReserveNow on a connector."""
        command = call16.ReserveNow(
            connector_id=connector_id,
            expiry_date=format_timestamp(expires_at),
            id_tag=id_token,
            reservation_id=reservation_id,
        )
        return await _sender(self).send_command(command)

    async def cancel_reservation(self, reservation_id: int) -> CommandResult:
        """CancelReservation."""
        return await _sender(self).send_command(call16.CancelReservation(reservation_id=reservation_id))


class Reservation2x:
    """2.0.1 / 2.1 ReserveNow / CancelReservation and the station's ReservationStatusUpdate."""

    if TYPE_CHECKING:
        id: str
        service: ChargingService
        _call: Any
        _call_result: Any

    async def reserve_now(
        self, reservation_id: int, connector_id: int, id_token: str, expires_at: datetime
    ) -> CommandResult:
        """ReserveNow on an EVSE, for a Central token (the operator's)."""
        command = self._call.ReserveNow(
            id=reservation_id,
            expiry_date_time=format_timestamp(expires_at),
            id_token={"id_token": id_token, "type": "Central"},
            evse_id=connector_id,
        )
        return await _sender(self).send_command(command)

    async def cancel_reservation(self, reservation_id: int) -> CommandResult:
        """CancelReservation."""
        return await _sender(self).send_command(self._call.CancelReservation(reservation_id=reservation_id))

    @on("ReservationStatusUpdate")
    async def on_reservation_status_update(
        self, reservation_id: int, reservation_update_status: str, **_: Any
    ) -> Any:
        await self.service.reservation_status(self.id, reservation_id, reservation_update_status)
        return self._call_result.ReservationStatusUpdate()


def _sender(connection: object) -> _Sends:
    return connection  # type: ignore[return-value]
