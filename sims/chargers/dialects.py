"""What each OCPP version's messages look like, behind one interface the station drives.

A `Dialect` builds the CALL payloads a charge point sends (boot, heartbeat, status,
authorize, transaction messages) and reads their answers; its `client_class` is the `ocpp`
library ChargePoint with handlers for what the central system may ask (remote start/stop,
charging profiles, reset), each handing over to the version-neutral `CommandTarget`.
1.6 speaks StartTransaction / MeterValues / StopTransaction with connectors; 2.0.1 and 2.1
speak TransactionEvent with EVSEs (each simulated EVSE has one connector, number 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from sims.chargers._ocpp import (
    ChargePoint16,
    ChargePoint21,
    ChargePoint201,
    after,
    call16,
    call21,
    call201,
    on,
    result16,
)
from sims.chargers.clock import format_timestamp
from sims.chargers.connector import Connector, Transaction
from sims.chargers.local_auth import LocalAuth2x, LocalAuth16
from sims.chargers.management import Management2x, Management16
from sims.chargers.outbox import TxEvent, TxMessage
from sims.chargers.profiles import Profile, parse_profile_2x, parse_profile_16
from sims.chargers.reservations import Reservations2x, Reservations16

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CONTEXTS = {
    TxEvent.STARTED: "Transaction.Begin",
    TxEvent.UPDATED: "Sample.Periodic",
    TxEvent.ENDED: "Transaction.End",
}


class CommandTarget(Protocol):
    """The station, as the central system's commands see it (version-neutral)."""

    def remote_start(
        self, connector_id: int | None, id_token: str, remote_start_id: int | None, profile: Profile | None
    ) -> Transaction | None:
        """Start charging for `id_token`; the new transaction, or None if refused."""
        ...

    def remote_stop(self, transaction_ref: str) -> bool:
        """Stop the running transaction known as `transaction_ref`; False if none."""
        ...

    def set_profile(self, profile: Profile) -> bool:
        """Install a charging profile (its limit applies from now)."""
        ...

    def clear_profiles(
        self, profile_id: int | None, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> int:
        """Remove matching profiles; how many went."""
        ...

    def request_reset(self, hard: bool) -> None:
        """Reboot, after the answer to Reset has gone out."""
        ...

    def trigger(self, message: str, connector_id: int | None) -> str:
        """Queue the requested message; Accepted, Rejected or NotImplemented."""
        ...


@dataclass(frozen=True, slots=True)
class BootAnswer:
    """The part of a BootNotification answer the station acts on."""

    accepted: bool
    interval_s: int


class Dialect(Protocol):
    """One OCPP version's message shapes."""

    version: ClassVar[str]
    subprotocol: ClassVar[str]
    client_class: ClassVar[type[Any]]

    def boot(self, vendor: str, model: str, reason: str) -> Any:
        """BootNotification; `reason` is the 2.x BootReason (1.6 has none)."""
        ...

    def boot_answer(self, result: Any) -> BootAnswer:
        """Accepted or not, and the heartbeat interval."""
        ...

    def heartbeat(self) -> Any:
        """Heartbeat."""
        ...

    def status(self, connector: Connector, at: datetime) -> Any:
        """StatusNotification for a connector (EVSE on 2.x)."""
        ...

    def station_status(self, at: datetime) -> Any | None:
        """StatusNotification for the station as a whole (1.6 connector 0), if the version has one."""
        ...

    def authorize(self, id_token: str) -> Any:
        """Authorize."""
        ...

    def authorized(self, result: Any) -> bool:
        """True if the answer lets the token charge."""
        ...

    def transaction(self, message: TxMessage) -> Any | None:
        """The payload for a queued transaction message, or None if it can never be sent."""
        ...

    def transaction_answer(self, message: TxMessage, result: Any) -> bool:
        """Learn from the answer (1.6: the transaction ID); False if the token was refused."""
        ...


def _accepted(info: Any) -> bool:
    """True for a missing idTagInfo / idTokenInfo or one with status Accepted."""
    if not info:
        return True
    return str(info.get("status", "Accepted")) == "Accepted"


class AnswersInOrder:
    """Frames handled one at a time, as charge point firmware does: the answer to a transaction
    message is applied (on 1.6, the transaction ID learned) before the next frame is read.

    The library hands an answer to the waiting caller and reads on at once, so a command right
    behind the answer (a cap naming the new transaction) was handled before the station knew
    the ID, and refused. Mixed in before the library's ChargePoint.
    """

    APPLY_TIMEOUT_S: ClassVar[float] = 5.0

    def expect_answer(self, message_id: str) -> asyncio.Event:
        """Hold the frames after the answer to `message_id` until the returned event is set."""
        applied = asyncio.Event()
        self._applying()[message_id] = applied
        return applied

    def _applying(self) -> dict[str, asyncio.Event]:
        found: dict[str, asyncio.Event] | None = getattr(self, "_applying_answers", None)
        if found is None:
            found = {}
            self._applying_answers = found
        return found

    async def route_message(self, raw_msg: str) -> None:
        await super().route_message(raw_msg)  # type: ignore[misc]
        if not self._applying():
            return
        try:
            frame = json.loads(raw_msg)
            message_id = str(frame[1]) if frame[0] in (3, 4) else None
        except (ValueError, TypeError, IndexError, KeyError):
            return
        applied = self._applying().pop(message_id or "", None)
        if applied is not None:
            # Not `wait_for`: on 3.11 it can swallow a cancellation that meets the event's set,
            # and the receive loop then outlived the reboot that cancelled it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.APPLY_TIMEOUT_S):
                    await applied.wait()


# OCPP 1.6 --------------------------------------------------------------------------------


class Client16(AnswersInOrder, Reservations16, LocalAuth16, Management16, ChargePoint16):  # type: ignore[misc]
    """A 1.6 charge point's command handlers."""

    target: CommandTarget

    @on("RemoteStartTransaction")
    def on_remote_start(
        self, id_tag: str, connector_id: int | None = None, charging_profile: Any = None, **_: Any
    ) -> Any:
        profile = parse_profile_16(connector_id or 0, charging_profile) if charging_profile else None
        started = self.target.remote_start(connector_id, id_tag, None, profile)
        return result16.RemoteStartTransaction(status="Accepted" if started else "Rejected")

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id: int, **_: Any) -> Any:
        stopped = self.target.remote_stop(str(transaction_id))
        return result16.RemoteStopTransaction(status="Accepted" if stopped else "Rejected")

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        accepted = self.target.set_profile(parse_profile_16(connector_id, cs_charging_profiles))
        return result16.SetChargingProfile(status="Accepted" if accepted else "Rejected")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> Any:
        removed = self.target.clear_profiles(id, connector_id, charging_profile_purpose, stack_level)
        return result16.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on("Reset")
    def on_reset(self, type: str, **_: Any) -> Any:
        return result16.Reset(status="Accepted")

    @after("Reset")
    def after_reset(self, type: str, **_: Any) -> None:
        self.target.request_reset(hard=type == "Hard")

    @on("TriggerMessage")
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None, **_: Any) -> Any:
        return result16.TriggerMessage(status=self.target.trigger(requested_message, connector_id))


class Dialect16:
    """OCPP 1.6J."""

    version: ClassVar[str] = "1.6"
    subprotocol: ClassVar[str] = "ocpp1.6"
    client_class: ClassVar[type[Any]] = Client16

    def boot(self, vendor: str, model: str, reason: str) -> Any:
        return call16.BootNotification(
            charge_point_vendor=vendor, charge_point_model=model, firmware_version="sim-1"
        )

    def boot_answer(self, result: Any) -> BootAnswer:
        return BootAnswer(result.status == "Accepted", int(result.interval))

    def heartbeat(self) -> Any:
        return call16.Heartbeat()

    def status(self, connector: Connector, at: datetime) -> Any:
        return call16.StatusNotification(
            connector_id=connector.connector_id,
            error_code="NoError",
            status=_status16(connector, at),
            timestamp=format_timestamp(at),
        )

    def station_status(self, at: datetime) -> Any | None:
        return call16.StatusNotification(
            connector_id=0, error_code="NoError", status="Available", timestamp=format_timestamp(at)
        )

    def authorize(self, id_token: str) -> Any:
        return call16.Authorize(id_tag=id_token)

    def authorized(self, result: Any) -> bool:
        return _accepted(result.id_tag_info)

    def transaction(self, message: TxMessage) -> Any | None:
        tx = message.transaction
        at = format_timestamp(message.at)
        if message.event is TxEvent.STARTED:
            return call16.StartTransaction(
                connector_id=tx.connector_id,
                id_tag=tx.id_token,
                meter_start=message.register_wh,
                timestamp=at,
                reservation_id=tx.reservation_id,
            )
        if tx.ref is None:
            return None  # its StartTransaction was refused with a CALLERROR: nothing to attach to
        samples = [_meter_value16(message)]
        if message.event is TxEvent.UPDATED:
            return call16.MeterValues(
                connector_id=tx.connector_id, transaction_id=int(tx.ref), meter_value=samples
            )
        return call16.StopTransaction(
            meter_stop=message.register_wh,
            timestamp=at,
            transaction_id=int(tx.ref),
            reason=str(message.reason) if message.reason else None,
            id_tag=tx.id_token,
            transaction_data=samples,
        )

    def transaction_answer(self, message: TxMessage, result: Any) -> bool:
        if message.event is TxEvent.STARTED:
            message.transaction.ref = str(result.transaction_id)
        return _accepted(getattr(result, "id_tag_info", None))


def _status16(connector: Connector, at: datetime) -> str:
    if connector.transaction is not None:
        return "Charging" if connector.power_w(at) > 0 else "SuspendedEV"
    return "Preparing" if connector.ev is not None else "Available"


def _context(message: TxMessage) -> str:
    return "Trigger" if message.trigger == "Trigger" else CONTEXTS[message.event]


def _meter_value16(message: TxMessage) -> dict[str, Any]:
    context = _context(message)
    return {
        "timestamp": format_timestamp(message.at),
        "sampled_value": [
            {"value": str(message.register_wh), "context": context, "measurand": ENERGY, "unit": "Wh"},
            {"value": str(message.power_w), "context": context, "measurand": POWER, "unit": "W"},
        ],
    }


# OCPP 2.0.1 and 2.1 ----------------------------------------------------------------------


class _Handlers2x:
    """2.x command handlers, mixed in before the library's 2.0.1 or 2.1 ChargePoint."""

    target: CommandTarget
    _call_result: Any

    @on("RequestStartTransaction")
    def on_request_start(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: Any = None,
        **_: Any,
    ) -> Any:
        profile = parse_profile_2x(evse_id or 0, charging_profile) if charging_profile else None
        started = self.target.remote_start(evse_id, str(id_token["id_token"]), remote_start_id, profile)
        if started is None:
            return self._call_result.RequestStartTransaction(status="Rejected")
        return self._call_result.RequestStartTransaction(status="Accepted", transaction_id=started.ref)

    @on("RequestStopTransaction")
    def on_request_stop(self, transaction_id: str, **_: Any) -> Any:
        stopped = self.target.remote_stop(transaction_id)
        return self._call_result.RequestStopTransaction(status="Accepted" if stopped else "Rejected")

    @on("SetChargingProfile")
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **_: Any) -> Any:
        accepted = self.target.set_profile(parse_profile_2x(evse_id, charging_profile))
        return self._call_result.SetChargingProfile(status="Accepted" if accepted else "Rejected")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        criteria = charging_profile_criteria or {}
        removed = self.target.clear_profiles(
            charging_profile_id,
            criteria.get("evse_id"),
            criteria.get("charging_profile_purpose"),
            criteria.get("stack_level"),
        )
        return self._call_result.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on("Reset")
    def on_reset(self, type: str, **_: Any) -> Any:
        return self._call_result.Reset(status="Accepted")

    @after("Reset")
    def after_reset(self, type: str, **_: Any) -> None:
        self.target.request_reset(hard=type == "Immediate")

    @on("TriggerMessage")
    def on_trigger_message(self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any) -> Any:
        status = self.target.trigger(requested_message, int(evse["id"]) if evse else None)
        return self._call_result.TriggerMessage(status=status)


class Client201(
    AnswersInOrder,
    Reservations2x,
    LocalAuth2x,
    _Handlers2x,
    Management2x,
    ChargePoint201,  # type: ignore[misc]
):
    """A 2.0.1 charging station's command handlers."""


class Client21(
    AnswersInOrder,
    Reservations2x,
    LocalAuth2x,
    _Handlers2x,
    Management2x,
    ChargePoint21,  # type: ignore[misc]
):
    """A 2.1 charging station's command handlers."""


class Dialect2x:
    """What 2.0.1 and 2.1 share; the subclasses pick the library modules."""

    version: ClassVar[str]
    subprotocol: ClassVar[str]
    client_class: ClassVar[type[Any]]
    _call: ClassVar[Any]

    def boot(self, vendor: str, model: str, reason: str) -> Any:
        station = {"vendor_name": vendor, "model": model, "firmware_version": "sim-1"}
        return self._call.BootNotification(charging_station=station, reason=reason)

    def boot_answer(self, result: Any) -> BootAnswer:
        return BootAnswer(result.status == "Accepted", int(result.interval))

    def heartbeat(self) -> Any:
        return self._call.Heartbeat()

    def status(self, connector: Connector, at: datetime) -> Any:
        occupied = connector.ev is not None or connector.transaction is not None
        return self._call.StatusNotification(
            timestamp=format_timestamp(at),
            connector_status="Occupied" if occupied else "Available",
            evse_id=connector.connector_id,
            connector_id=1,
        )

    def station_status(self, at: datetime) -> Any | None:
        return None

    def authorize(self, id_token: str) -> Any:
        return self._call.Authorize(id_token={"id_token": id_token, "type": "ISO14443"})

    def authorized(self, result: Any) -> bool:
        return _accepted(result.id_token_info)

    def transaction(self, message: TxMessage) -> Any | None:
        tx = message.transaction
        info: dict[str, Any] = {"transaction_id": tx.ref}
        extra: dict[str, Any] = {}
        if message.event is TxEvent.STARTED:
            info["charging_state"] = "Charging"
            if tx.remote_start_id is not None:
                info["remote_start_id"] = tx.remote_start_id
            token_type = "Central" if tx.remote_start_id is not None else "ISO14443"
            extra["evse"] = {"id": tx.connector_id, "connector_id": 1}
            extra["id_token"] = {"id_token": tx.id_token, "type": token_type}
            if tx.reservation_id is not None:
                extra["reservation_id"] = tx.reservation_id
        elif message.event is TxEvent.UPDATED:
            info["charging_state"] = "Charging" if message.power_w > 0 else "SuspendedEV"
        else:
            info["charging_state"] = "Idle"
            info["stopped_reason"] = str(message.reason) if message.reason else "Local"
        if message.offline:
            extra["offline"] = True
        return self._call.TransactionEvent(
            event_type=str(message.event),
            timestamp=format_timestamp(message.at),
            trigger_reason=message.trigger,
            seq_no=message.seq_no,
            transaction_info=info,
            meter_value=[_meter_value2x(message)],
            **extra,
        )

    def transaction_answer(self, message: TxMessage, result: Any) -> bool:
        return _accepted(getattr(result, "id_token_info", None))


class Dialect201(Dialect2x):
    """OCPP 2.0.1."""

    version: ClassVar[str] = "2.0.1"
    subprotocol: ClassVar[str] = "ocpp2.0.1"
    client_class: ClassVar[type[Any]] = Client201
    _call: ClassVar[Any] = call201


class Dialect21(Dialect2x):
    """OCPP 2.1."""

    version: ClassVar[str] = "2.1"
    subprotocol: ClassVar[str] = "ocpp2.1"
    client_class: ClassVar[type[Any]] = Client21
    _call: ClassVar[Any] = call21


def _meter_value2x(message: TxMessage) -> dict[str, Any]:
    context = _context(message)
    return {
        "timestamp": format_timestamp(message.at),
        "sampled_value": [
            {
                "value": message.register_wh,
                "context": context,
                "measurand": ENERGY,
                "unit_of_measure": {"unit": "Wh"},
            },
            {
                "value": message.power_w,
                "context": context,
                "measurand": POWER,
                "unit_of_measure": {"unit": "W"},
            },
        ],
    }


DIALECTS: dict[str, Dialect] = {"1.6": Dialect16(), "2.0.1": Dialect201(), "2.1": Dialect21()}
"""One dialect per supported OCPP version, keyed by version."""
