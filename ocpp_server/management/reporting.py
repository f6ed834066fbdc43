"""Security and reporting: the charger messages the engine keeps for the operator and answers
as the spec allows without acting on them (security events, charging limits, customer
information, monitoring and display reports, EV charging needs, certificates, 2.1's
additions). Every one is stored as a report (`GET /operator/chargers/{id}/reports`).

Certificates: until the engine has a CA, SignCertificate is Rejected and the ISO 15118
certificate requests Failed. Reservations are the reservations block's: ReservationStatusUpdate
is only kept and acknowledged here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocpp_server._ocpp import on
from ocpp_server.management.block import Block

Answer = Callable[[dict[str, Any]], dict[str, Any]]


def _empty(_: dict[str, Any]) -> dict[str, Any]:
    return {}


def _status(status: str, **fields: Any) -> Answer:
    def answer(_: dict[str, Any]) -> dict[str, Any]:
        return {"status": status, **fields}

    return answer


class kept:  # noqa: N801  (reads as the decorator it stands for)
    """An `@on(action)` handler that stores the message as a report and answers
    `answer(payload)`; `status_field` names the field kept as the report's status (its type,
    for a security event). A descriptor, so the handler is registered under the attribute's
    own name, which the library's routing looks handlers up by."""

    def __init__(self, action: str, answer: Answer = _empty, status_field: str | None = None) -> None:
        self.action = action
        self.answer = answer
        self.status_field = status_field

    def __set_name__(self, owner: type[Any], name: str) -> None:
        action, answer, status_field = self.action, self.answer, self.status_field

        async def handler(self: Block, **payload: Any) -> dict[str, Any]:
            status = payload.get(status_field) if status_field else payload.get("status")
            request_id = payload.get("request_id")
            await self.keep(
                action,
                payload,
                str(status) if status is not None else None,
                request_id if isinstance(request_id, int) else None,
            )
            return answer(payload)

        handler.__name__ = handler.__qualname__ = name
        setattr(owner, name, on(action)(handler))


class Reporting16(Block):
    """1.6 security extension: security events kept; certificate signing refused."""

    on_security_event_notification = kept("SecurityEventNotification", status_field="type")
    on_sign_certificate = kept("SignCertificate", _status("Rejected"))


class Reporting2x(Block):
    """What 2.0.1 and 2.1 stations report."""

    on_security_event_notification = kept("SecurityEventNotification", status_field="type")
    on_sign_certificate = kept("SignCertificate", _status("Rejected"), status_field="certificate_type")
    on_notify_charging_limit = kept("NotifyChargingLimit")
    on_cleared_charging_limit = kept("ClearedChargingLimit", status_field="charging_limit_source")
    on_notify_customer_information = kept("NotifyCustomerInformation")
    on_notify_monitoring_report = kept("NotifyMonitoringReport")
    on_notify_display_messages = kept("NotifyDisplayMessages")
    # The engine computes no schedules from EV needs; it keeps them and says so.
    on_notify_ev_charging_needs = kept("NotifyEVChargingNeeds", _status("Rejected"))
    on_notify_ev_charging_schedule = kept("NotifyEVChargingSchedule", _status("Accepted"))
    on_report_charging_profiles = kept("ReportChargingProfiles", status_field="charging_limit_source")
    on_get_15118_ev_certificate = kept("Get15118EVCertificate", _status("Failed", exi_response=""), "action")
    on_get_certificate_status = kept("GetCertificateStatus", _status("Failed"))


class Reporting21(Block):
    """2.1's additions: kept, and refused where an answer would promise what the engine does
    not do (periodic event streams, dynamic schedules, VAT number checks)."""

    on_battery_swap = kept("BatterySwap", status_field="event_type")
    on_close_periodic_event_stream = kept("ClosePeriodicEventStream")
    on_notify_der_alarm = kept("NotifyDERAlarm", status_field="control_type")
    on_notify_der_start_stop = kept("NotifyDERStartStop")
    on_notify_priority_charging = kept("NotifyPriorityCharging")
    on_notify_settlement = kept("NotifySettlement", status_field="status")
    on_open_periodic_event_stream = kept("OpenPeriodicEventStream", _status("Rejected"))
    on_pull_dynamic_schedule_update = kept("PullDynamicScheduleUpdate", _status("Rejected"))
    on_report_der_control = kept("ReportDERControl")
    on_vat_number_validation = kept(
        "VatNumberValidation", lambda payload: {"status": "Rejected", "vat_number": payload["vat_number"]}
    )
