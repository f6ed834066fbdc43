"""OCPP 2.0.1 and 2.1 through `ocpp` library charging stations, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mobility.charging.events import ConnectorStatusChanged, SessionEnded, SessionStarted
from tests.ocpp.clients import Client21, Client201
from tests.ocpp.conftest import ALLOWED_TOKEN, Harness, library_client

VERSIONS = [("2.0.1", Client201), ("2.1", Client21)]


def _calls(cp: Any) -> Any:
    return cp._call


def _mv(timestamp: str, wh: float, unit: str = "Wh", multiplier: int = 0, context: str | None = None) -> Any:
    sample: dict[str, Any] = {
        "value": wh,
        "measurand": "Energy.Active.Import.Register",
        "unit_of_measure": {"unit": unit, "multiplier": multiplier},
    }
    if context:
        sample["context"] = context
    return {"timestamp": timestamp, "sampled_value": [sample]}


def _event(cp: Any, event_type: str, seq: int, timestamp: str, tx: str, **extra: Any) -> Any:
    trigger = {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "EVCommunicationLost"}
    return _calls(cp).TransactionEvent(
        event_type=event_type,
        timestamp=timestamp,
        trigger_reason=trigger[event_type],
        seq_no=seq,
        transaction_info={"transaction_id": tx, **extra.pop("info", {})},
        **extra,
    )


@pytest.mark.parametrize(("version", "cls"), VERSIONS)
async def test_boot_heartbeat_status_authorize(harness: Harness, version: str, cls: type[Any]) -> None:
    async with library_client(harness.url(), version, cls) as cp:
        call = _calls(cp)
        boot = await cp.call(
            call.BootNotification(charging_station={"model": "M2", "vendor_name": "V2"}, reason="PowerUp")
        )
        assert (boot.status, boot.interval) == ("Accepted", 300)
        assert (await cp.call(call.Heartbeat())).current_time == "2026-01-01T12:00:00Z"
        await cp.call(
            call.StatusNotification(
                timestamp="2026-01-01T12:00:00Z", connector_status="Occupied", evse_id=1, connector_id=1
            )
        )
        accepted = await cp.call(call.Authorize(id_token={"id_token": ALLOWED_TOKEN, "type": "ISO14443"}))
        refused = await cp.call(call.Authorize(id_token={"id_token": "NOPE", "type": "ISO14443"}))
        assert accepted.id_token_info["status"] == "Accepted"
        assert refused.id_token_info["status"] == "Invalid"
    record = harness.store.charge_point("CP1")
    assert record is not None
    assert (record.vendor, record.model, record.protocol) == ("V2", "M2", f"ocpp{version}")
    [status] = harness.of_type(ConnectorStatusChanged)
    assert (status.connector_id, status.status) == (1, "Occupied")


@pytest.mark.parametrize(("version", "cls"), VERSIONS)
async def test_transaction_started_updated_ended(harness: Harness, version: str, cls: type[Any]) -> None:
    token = {"id_token": ALLOWED_TOKEN, "type": "ISO14443"}
    async with library_client(harness.url(), version, cls) as cp:
        started = await cp.call(
            _event(
                cp,
                "Started",
                0,
                "2026-01-01T12:00:00Z",
                "tx-1",
                evse={"id": 1, "connector_id": 1},
                id_token=token,
                meter_value=[_mv("2026-01-01T12:00:00Z", 20_000, context="Transaction.Begin")],
            )
        )
        assert started.id_token_info["status"] == "Accepted"
        await cp.call(
            _event(
                cp,
                "Updated",
                1,
                "2026-01-01T12:30:00Z",
                "tx-1",
                meter_value=[_mv("2026-01-01T12:30:00Z", 21.5, "kWh")],
            )
        )
        await cp.call(
            _event(
                cp,
                "Ended",
                2,
                "2026-01-01T13:00:00Z",
                "tx-1",
                info={"stopped_reason": "EVDisconnected"},
                meter_value=[_mv("2026-01-01T13:00:00Z", 2.3, "Wh", multiplier=4, context="Transaction.End")],
            )
        )
        # The same Ended, replayed offline after a reconnect: acknowledged, applied once.
        replay = _event(
            cp,
            "Ended",
            2,
            "2026-01-01T13:00:00Z",
            "tx-1",
            offline=True,
            info={"stopped_reason": "EVDisconnected"},
            meter_value=[_mv("2026-01-01T13:00:00Z", 99_000)],
        )
        assert await cp.call(replay) is not None
    session = harness.store.session_by_ref("CP1", "tx-1")
    assert session is not None
    assert (session.meter_start_wh, session.energy_wh, session.end_reason) == (
        20_000,
        3_000,
        "EVDisconnected",
    )
    assert (session.last_seq_no, session.missing_seq_nos) == (2, 0)
    assert not session.flagged
    assert len(harness.of_type(SessionStarted)) == 1
    [ended] = harness.of_type(SessionEnded)
    assert ended.energy_wh == 3_000


@pytest.mark.parametrize(("version", "cls"), VERSIONS)
async def test_a_running_transactions_events_need_no_session_read(
    harness: Harness, version: str, cls: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection knows the transactions it started: an Updated reads nothing back; a new
    connection reads once, and an Ended transaction is forgotten."""
    reads: list[str] = []
    by_ref = harness.service.session_by_ref

    async def counted(charge_point_id: str, ref: str) -> Any:
        reads.append(ref)
        return await by_ref(charge_point_id, ref)

    monkeypatch.setattr(harness.service, "session_by_ref", counted)
    async with library_client(harness.url(), version, cls) as cp:
        await cp.call(
            _event(cp, "Started", 0, "2026-01-01T12:00:00Z", "tx-1", evse={"id": 1, "connector_id": 1})
        )
        for seq in range(1, 4):
            stamp = f"2026-01-01T12:0{seq}:00Z"
            await cp.call(_event(cp, "Updated", seq, stamp, "tx-1", meter_value=[_mv(stamp, 100 * seq)]))
    assert reads == ["tx-1"]  # the Started looked the transaction up; the Updated did not
    async with library_client(harness.url(), version, cls) as cp:  # reconnected: read once
        for seq, kind in ((4, "Updated"), (5, "Updated"), (6, "Ended")):
            stamp = f"2026-01-01T12:0{seq}:00Z"
            await cp.call(_event(cp, kind, seq, stamp, "tx-1", meter_value=[_mv(stamp, 100 * seq)]))
        await cp.call(_event(cp, "Ended", 6, "2026-01-01T12:06:00Z", "tx-1"))  # replayed
    assert reads == ["tx-1", "tx-1", "tx-1"]
    session = harness.store.session_by_ref("CP1", "tx-1")
    assert session is not None
    assert (session.energy_wh, session.ended_at is not None) == (500, True)  # from the first reading


@pytest.mark.parametrize(("version", "cls"), VERSIONS)
async def test_offline_transaction_without_started_is_applied_once(
    harness: Harness, version: str, cls: type[Any]
) -> None:
    async with library_client(harness.url(), version, cls) as cp:
        for _ in range(2):
            await cp.call(
                _event(
                    cp,
                    "Updated",
                    3,
                    "2026-01-01T12:10:00Z",
                    "tx-off",
                    offline=True,
                    evse={"id": 2},
                    meter_value=[_mv("2026-01-01T12:10:00Z", 5_000)],
                )
            )
        await cp.call(
            _event(
                cp,
                "Ended",
                4,
                "2026-01-01T12:40:00Z",
                "tx-off",
                offline=True,
                meter_value=[_mv("2026-01-01T12:40:00Z", 5_600)],
            )
        )
    [session] = harness.store.sessions("CP1")
    assert (session.connector_id, session.meter_start_wh, session.energy_wh) == (2, 5_000, 600)
    assert (session.last_seq_no, session.missing_seq_nos) == (4, 3)  # Started (0) to 2 never came
    assert len(harness.of_type(SessionEnded)) == 1


@pytest.mark.parametrize(("version", "cls"), VERSIONS)
async def test_meter_values_and_notify_event(harness: Harness, version: str, cls: type[Any]) -> None:
    async with library_client(harness.url(), version, cls) as cp:
        call = _calls(cp)
        await cp.call(call.MeterValues(evse_id=1, meter_value=[_mv("2026-01-01T12:10:00Z", 1_234)]))
        await cp.call(
            call.NotifyEvent(
                generated_at="2026-01-01T12:10:00Z",
                seq_no=0,
                event_data=[
                    {
                        "event_id": 1,
                        "timestamp": "2026-01-01T12:10:00Z",
                        "trigger": "Delta",
                        "actual_value": "Available",
                        "event_notification_type": "HardWiredNotification",
                        "component": {"name": "Connector"},
                        "variable": {"name": "AvailabilityState"},
                    }
                ],
            )
        )
    await harness.central.stop()
    assert any('"NotifyEvent"' in record.frame for record in harness.store.message_log("CP1"))
    [report] = harness.store.device_events("CP1")
    assert report.seq_no == 0
    assert json.loads(report.events)[0]["actualValue"] == "Available"
