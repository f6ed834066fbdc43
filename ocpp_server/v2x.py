"""OCPP 2.0.1 and 2.1 adapter (their CSMS-side messages used here are the same shape).

TransactionEvent carries the charge point's own transaction ID; Started, Updated and Ended
are each idempotent on it, so offline replays (offline=true, or a resend after reconnect)
are acknowledged and applied once. An Updated or Ended for a transaction never seen Started
opens it on the spot so its energy is not lost.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from mobility.charging.events import EndReason
from mobility.charging.models import SessionRecord
from mobility.charging.timeutil import format_timestamp, parse_timestamp
from ocpp_server._ocpp import on
from ocpp_server.commands import CommandResult
from ocpp_server.framing import ConnectionContext
from ocpp_server.keys import to_camel
from ocpp_server.local_auth import LocalAuth2x
from ocpp_server.management.adapters import Management2x
from ocpp_server.readings import register_samples
from ocpp_server.reservation import Reservation2x

OPEN_TRANSACTIONS_KEPT = 64  # a station has one per EVSE; more means one never sent Ended


class V2Connection(Reservation2x, LocalAuth2x, Management2x):
    """Handlers and commands shared by 2.0.1 and 2.1; mixed before the library class."""

    transaction_answers = frozenset({"TransactionEvent"})

    def __init__(self, charge_point_id: str, connection: Any, context: ConnectionContext) -> None:
        super().__init__(charge_point_id, connection, context)
        # The station's running transactions as this connection last left them: its events are
        # handled here one at a time, and only they start or end its sessions, so an Updated
        # needs no database read. A new connection starts empty and reads on first use.
        self._open: OrderedDict[str, SessionRecord] = OrderedDict()

    async def _session(self, ref: str) -> SessionRecord | None:
        session = self._open.get(ref)
        if session is None:
            session = await self.service.session_by_ref(self.id, ref)
            if session is not None and session.ended_at is None:
                self._remember(ref, session)
        return session

    def _remember(self, ref: str, session: SessionRecord) -> None:
        self._open[ref] = session
        self._open.move_to_end(ref)
        while len(self._open) > OPEN_TRANSACTIONS_KEPT:
            self._open.popitem(last=False)

    if TYPE_CHECKING:
        _call: Any
        _call_result: Any

    def _now(self) -> str:
        return format_timestamp(self.service.clock())

    async def _id_token_info(
        self,
        id_token: dict[str, Any] | None,
        session_id: int | None = None,
        start: tuple[int, int | None] | None = None,
    ) -> dict[str, Any] | None:
        if id_token is None:
            return None
        token = str(id_token.get("id_token", ""))
        if session_id is None:
            result = await self.service.authorize(self.id, token)
        else:
            connector_id, reservation_id = start if start is not None else (None, None)
            result = await self.service.authorize_in_session(
                self.id, token, session_id, connector_id, reservation_id
            )
        return {"status": result.status.value}

    @on("BootNotification")
    async def on_boot_notification(self, charging_station: dict[str, Any], **_: Any) -> Any:
        status = await self.service.booted(
            self.id,
            str(charging_station.get("vendor_name", "")),
            str(charging_station.get("model", "")),
            charging_station.get("firmware_version"),
        )
        return self._call_result.BootNotification(
            current_time=self._now(), interval=self.context.boot_interval(status), status=status.value
        )

    @on("Heartbeat")
    async def on_heartbeat(self, **_: Any) -> Any:
        return self._call_result.Heartbeat(current_time=self._now())

    @on("StatusNotification")
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **_: Any
    ) -> Any:
        # Connectors are keyed by EVSE: the engine bills per EVSE, one cable at a time.
        await self.service.connector_status(
            self.id, evse_id, connector_status, None, parse_timestamp(timestamp)
        )
        return self._call_result.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        return self._call_result.Authorize(id_token_info=await self._id_token_info(id_token))

    @on("TransactionEvent")
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        seq_no: int,
        evse: dict[str, Any] | None = None,
        id_token: dict[str, Any] | None = None,
        meter_value: list[dict[str, Any]] | None = None,
        reservation_id: int | None = None,
        **_: Any,
    ) -> Any:
        at = parse_timestamp(timestamp)
        ref = str(transaction_info["transaction_id"])
        samples = list(register_samples(meter_value))
        session = await self._session(ref)
        if session is None:
            connector_id = int(evse["id"]) if evse else 0
            token = str(id_token["id_token"]) if id_token else None
            first = samples[0].register_wh if samples and event_type == "Started" else None
            session = await self.service.start_session(self.id, connector_id, token, first, at, ref)
            if session.ended_at is None:
                self._remember(ref, session)
        # The seqNo and the readings commit together: one transaction for the event.
        readings = [] if session.ended_at is not None else samples
        await self.service.meter_readings(self.id, session.connector_id, readings, ref, seq_no)
        if session.ended_at is None and event_type == "Ended":
            reason = EndReason.parse(transaction_info.get("stopped_reason"))
            self._open.pop(ref, None)
            await self.service.end_session(self.id, ref, None, at, reason, session.connector_id)
        start = (session.connector_id, reservation_id) if event_type == "Started" else None
        info = await self._id_token_info(id_token, session.id, start)
        if info is None:
            return self._call_result.TransactionEvent()
        return self._call_result.TransactionEvent(id_token_info=info)

    @on("MeterValues")
    async def on_meter_values(self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any) -> Any:
        await self.service.meter_readings(self.id, evse_id, list(register_samples(meter_value)))
        return self._call_result.MeterValues()

    @on("NotifyEvent")
    async def on_notify_event(
        self, generated_at: str, seq_no: int, event_data: list[dict[str, Any]], **_: Any
    ) -> Any:
        # Kept as JSON (camelCase, as sent); nothing acts on device events yet.
        events = json.dumps(to_camel(event_data), separators=(",", ":"))
        await self.service.device_events(self.id, parse_timestamp(generated_at), seq_no, events)
        return self._call_result.NotifyEvent()

    # Commands (ChargePointCommands) ------------------------------------------------------

    async def remote_start(self, connector_id: int, id_token: str) -> CommandResult:
        """RequestStartTransaction on EVSE `connector_id`."""
        self._remote_start_id = getattr(self, "_remote_start_id", 0) + 1
        payload = self._call.RequestStartTransaction(
            id_token={"id_token": id_token, "type": "Central"},
            remote_start_id=self._remote_start_id,
            evse_id=connector_id,
        )
        return await self.send_command(payload)

    async def remote_stop(self, transaction_ref: str) -> CommandResult:
        """RequestStopTransaction."""
        stop = self._call.RequestStopTransaction(transaction_id=transaction_ref)
        return await self.send_command(stop, names_transaction=True)

    async def reset(self, hard: bool = False) -> CommandResult:
        """Reset Immediate (hard) or OnIdle (soft)."""
        return await self.send_command(self._call.Reset(type="Immediate" if hard else "OnIdle"))

    async def set_power_limit(self, connector_id: int, limit_w: int, profile_id: int) -> CommandResult:
        """SetChargingProfile with a relative TxDefaultProfile capped at `limit_w` W."""
        return await self._set_cap(connector_id, limit_w, profile_id, "TxDefaultProfile", {})

    async def limit_transaction(
        self, connector_id: int, transaction_ref: str, limit_w: int, profile_id: int
    ) -> CommandResult:
        """SetChargingProfile with a TxProfile for that transaction, capped at `limit_w` W."""
        bound = {"transaction_id": transaction_ref}
        return await self._set_cap(connector_id, limit_w, profile_id, "TxProfile", bound)

    async def _set_cap(
        self, connector_id: int, limit_w: int, profile_id: int, purpose: str, extra: dict[str, Any]
    ) -> CommandResult:
        profile = {
            "id": profile_id,
            **extra,
            "stack_level": 1,
            "charging_profile_purpose": purpose,
            "charging_profile_kind": "Relative",
            "charging_schedule": [
                {
                    "id": profile_id,
                    "charging_rate_unit": "W",
                    "charging_schedule_period": [{"start_period": 0, "limit": limit_w}],
                }
            ],
        }
        command = self._call.SetChargingProfile(evse_id=connector_id, charging_profile=profile)
        return await self.send_command(command, names_transaction="transaction_id" in extra)

    async def clear_power_limit(self, profile_id: int) -> CommandResult:
        """ClearChargingProfile by ID."""
        return await self.send_command(self._call.ClearChargingProfile(charging_profile_id=profile_id))

    async def unlock_connector(self, connector_id: int) -> CommandResult:
        """UnlockConnector on EVSE `connector_id` (its connector 1)."""
        return await self.send_command(self._call.UnlockConnector(evse_id=connector_id, connector_id=1))

    async def change_availability(self, connector_id: int, operative: bool) -> CommandResult:
        """ChangeAvailability of an EVSE, or of the station for 0."""
        evse = {"id": connector_id} if connector_id else None
        status = "Operative" if operative else "Inoperative"
        return await self.send_command(self._call.ChangeAvailability(operational_status=status, evse=evse))
