"""OCPP 1.6J adapter: Core profile messages in, version-neutral charging calls out.

1.6 transaction IDs are integers we hand out (the session's own ID); StopTransaction replays
for stopped or unknown transactions are acknowledged and change nothing the second time.
"""

from __future__ import annotations

from typing import Any

from mobility.charging.events import EndReason
from mobility.charging.timeutil import format_timestamp, parse_timestamp
from ocpp_server._ocpp import ChargePoint16, call16, on, result16
from ocpp_server.commands import CommandResult
from ocpp_server.local_auth import LocalAuth16
from ocpp_server.management.adapters import Management16
from ocpp_server.readings import register_samples
from ocpp_server.reservation import Reservation16


class V16Connection(Reservation16, LocalAuth16, Management16, ChargePoint16):  # type: ignore[misc]
    """A charge point speaking OCPP 1.6J."""

    ocpp_version = "1.6"
    transaction_answers = frozenset({"StartTransaction"})

    def _now(self) -> str:
        return format_timestamp(self.service.clock())

    @on("BootNotification")
    async def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, firmware_version: str | None = None, **_: Any
    ) -> Any:
        status = await self.service.booted(self.id, charge_point_vendor, charge_point_model, firmware_version)
        return result16.BootNotification(
            current_time=self._now(), interval=self.context.boot_interval(status), status=status.value
        )

    @on("Heartbeat")
    async def on_heartbeat(self, **_: Any) -> Any:
        return result16.Heartbeat(current_time=self._now())

    @on("StatusNotification")
    async def on_status_notification(
        self, connector_id: int, error_code: str, status: str, timestamp: str | None = None, **_: Any
    ) -> Any:
        at = parse_timestamp(timestamp) if timestamp else self.service.clock()
        code = None if error_code == "NoError" else error_code
        await self.service.connector_status(self.id, connector_id, status, code, at)
        return result16.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_tag: str, **_: Any) -> Any:
        result = await self.service.authorize(self.id, id_tag)
        return result16.Authorize(id_tag_info={"status": result.status.value})

    @on("StartTransaction")
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
        **_: Any,
    ) -> Any:
        session = await self.service.start_session(
            self.id, connector_id, id_tag, meter_start, parse_timestamp(timestamp)
        )
        # Asked for this session: a replayed start (its answer lost, then a reconnect or a
        # restart) is Accepted while the session runs paid, though a remote start's pin was used
        # up by the first, which a fresh authorization of the app token would have Blocked.
        assert session.id is not None
        result = await self.service.authorize_in_session(
            self.id, id_tag, session.id, connector_id, reservation_id
        )
        return result16.StartTransaction(
            transaction_id=int(session.transaction_ref), id_tag_info={"status": result.status.value}
        )

    @on("StopTransaction")
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        reason: str | None = None,
        id_tag: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        ref = str(transaction_id)
        existing = await self.service.session_by_ref(self.id, ref)
        if existing is not None and existing.ended_at is None:
            samples = list(register_samples(transaction_data))
            await self.service.meter_readings(self.id, existing.connector_id, samples, ref)
        await self.service.end_session(
            self.id, ref, meter_stop, parse_timestamp(timestamp), EndReason.parse(reason)
        )
        if id_tag is None:
            return result16.StopTransaction()
        result = await self.service.authorize(self.id, id_tag)
        return result16.StopTransaction(id_tag_info={"status": result.status.value})

    @on("MeterValues")
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
        **_: Any,
    ) -> Any:
        ref = str(transaction_id) if transaction_id is not None else None
        await self.service.meter_readings(self.id, connector_id, list(register_samples(meter_value)), ref)
        return result16.MeterValues()

    # Commands (ChargePointCommands) ------------------------------------------------------

    async def remote_start(self, connector_id: int, id_token: str) -> CommandResult:
        """RemoteStartTransaction."""
        return await self.send_command(
            call16.RemoteStartTransaction(id_tag=id_token, connector_id=connector_id)
        )

    async def remote_stop(self, transaction_ref: str) -> CommandResult:
        """RemoteStopTransaction."""
        stop = call16.RemoteStopTransaction(transaction_id=int(transaction_ref))
        return await self.send_command(stop, names_transaction=True)

    async def reset(self, hard: bool = False) -> CommandResult:
        """Reset Hard or Soft."""
        return await self.send_command(call16.Reset(type="Hard" if hard else "Soft"))

    async def set_power_limit(self, connector_id: int, limit_w: int, profile_id: int) -> CommandResult:
        """SetChargingProfile with a relative TxDefaultProfile capped at `limit_w` W."""
        return await self._set_cap(connector_id, limit_w, profile_id, "TxDefaultProfile", None)

    async def limit_transaction(
        self, connector_id: int, transaction_ref: str, limit_w: int, profile_id: int
    ) -> CommandResult:
        """SetChargingProfile with a TxProfile for that transaction (OCPP 1.6 requires its
        transactionId), capped at `limit_w` W; sent once the charge point knows the ID."""
        return await self._set_cap(connector_id, limit_w, profile_id, "TxProfile", int(transaction_ref))

    async def _set_cap(
        self, connector_id: int, limit_w: int, profile_id: int, purpose: str, transaction_id: int | None
    ) -> CommandResult:
        bound = {} if transaction_id is None else {"transaction_id": transaction_id}
        profile = {
            "charging_profile_id": profile_id,
            **bound,
            "stack_level": 1,
            "charging_profile_purpose": purpose,
            "charging_profile_kind": "Relative",
            "charging_schedule": {
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": limit_w}],
            },
        }
        command = call16.SetChargingProfile(connector_id=connector_id, cs_charging_profiles=profile)
        return await self.send_command(command, names_transaction=transaction_id is not None)

    async def clear_power_limit(self, profile_id: int) -> CommandResult:
        """ClearChargingProfile by ID."""
        return await self.send_command(call16.ClearChargingProfile(id=profile_id))

    async def unlock_connector(self, connector_id: int) -> CommandResult:
        """UnlockConnector."""
        return await self.send_command(call16.UnlockConnector(connector_id=connector_id))

    async def change_availability(self, connector_id: int, operative: bool) -> CommandResult:
        """ChangeAvailability."""
        kind = "Operative" if operative else "Inoperative"
        return await self.send_command(call16.ChangeAvailability(connector_id=connector_id, type=kind))
