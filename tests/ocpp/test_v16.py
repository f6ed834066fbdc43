"""OCPP 1.6 Core through an `ocpp` library charge point, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from mobility.charging.events import ConnectorStatusChanged, MeterReading, SessionEnded, SessionStarted
from ocpp_server._ocpp import call16
from tests.ocpp.clients import Client16
from tests.ocpp.conftest import ALLOWED_TOKEN, Harness, library_client

T0 = "2026-01-01T12:00:00Z"


def _energy(value: str, unit: str | None = None, **extra: str) -> dict[str, Any]:
    sample: dict[str, Any] = {"value": value, "measurand": "Energy.Active.Import.Register", **extra}
    if unit:
        sample["unit"] = unit
    return sample


def _meter_value(timestamp: str, *samples: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": timestamp, "sampled_value": list(samples)}


async def _start(cp: Any, meter_start: int = 10_000, token: str = ALLOWED_TOKEN) -> Any:
    return await cp.call(
        call16.StartTransaction(connector_id=1, id_tag=token, meter_start=meter_start, timestamp=T0)
    )


async def test_boot_heartbeat_and_disabled_charge_point(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        boot = await cp.call(call16.BootNotification(charge_point_model="M1", charge_point_vendor="V1"))
        assert boot.status == "Accepted"
        assert boot.interval == 300
        heartbeat = await cp.call(call16.Heartbeat())
        assert heartbeat.current_time == "2026-01-01T12:00:00Z"
    record = harness.store.charge_point("CP1")
    assert record is not None
    assert (record.vendor, record.model) == ("V1", "M1")

    harness.store.register_charge_point("CP1", "secret1", enabled=False)
    async with library_client(harness.url(), "1.6", Client16) as cp:
        boot = await cp.call(call16.BootNotification(charge_point_model="M1", charge_point_vendor="V1"))
        assert boot.status == "Rejected"


async def test_authorize_uses_the_allow_list(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        assert (await cp.call(call16.Authorize(id_tag=ALLOWED_TOKEN.lower()))).id_tag_info[
            "status"
        ] == "Accepted"
        assert (await cp.call(call16.Authorize(id_tag="STRANGER"))).id_tag_info["status"] == "Invalid"


async def test_status_notification_is_stored_and_published(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        for status in ("Available", "Available", "Preparing"):
            await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status=status))
    connector = harness.store.connector("CP1", 1)
    assert connector is not None
    assert connector.status == "Preparing"
    assert [event.status for event in harness.of_type(ConnectorStatusChanged)] == ["Available", "Preparing"]


async def test_full_session_with_meter_values_and_transaction_data(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        started = await _start(cp)
        tx = started.transaction_id
        assert started.id_tag_info["status"] == "Accepted"
        await cp.call(
            call16.MeterValues(
                connector_id=1,
                transaction_id=tx,
                meter_value=[
                    _meter_value(
                        "2026-01-01T12:15:00Z",
                        _energy("10.5", "kWh"),
                        _energy("3500", "Wh", phase="L1"),  # per-phase: ignored
                        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                    )
                ],
            )
        )
        # No transaction ID: attached to the open session on connector 1 (clock-aligned).
        await cp.call(
            call16.MeterValues(
                connector_id=1,
                meter_value=[_meter_value("2026-01-01T12:30:00Z", _energy("11234", context="Sample.Clock"))],
            )
        )
        stop = await cp.call(
            call16.StopTransaction(
                meter_stop=12_000,
                timestamp="2026-01-01T13:00:00Z",
                transaction_id=tx,
                reason="EVDisconnected",
                id_tag=ALLOWED_TOKEN,
                transaction_data=[_meter_value("2026-01-01T12:45:00Z", _energy("11800"))],
            )
        )
        assert stop.id_tag_info["status"] == "Accepted"

    session = harness.store.session(tx)
    assert session is not None
    assert session.energy_wh == 2_000
    assert session.end_reason == "EVDisconnected"
    assert not session.flagged
    assert session.ended_at is not None
    assert session.ended_at.isoformat() == "2026-01-01T13:00:00+00:00"
    assert [reading.register_wh for reading in harness.store.readings(tx)] == [10_500, 11_234, 11_800]
    assert [event.energy_wh for event in harness.of_type(MeterReading)] == [500, 1_234, 1_800]
    assert len(harness.of_type(SessionStarted)) == 1
    [ended] = harness.of_type(SessionEnded)
    assert (ended.session_id, ended.energy_wh, ended.reason.value) == (tx, 2_000, "EVDisconnected")


async def test_stop_replays_are_acknowledged_and_applied_once(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        tx = (await _start(cp)).transaction_id
        stop = call16.StopTransaction(meter_stop=13_000, timestamp="2026-01-01T13:00:00Z", transaction_id=tx)
        await cp.call(stop)
        # An offline replay of the same stop, with a different message ID and a later meter.
        late = call16.StopTransaction(meter_stop=14_000, timestamp="2026-01-01T14:00:00Z", transaction_id=tx)
        assert await cp.call(late) is not None
        # A stop for a transaction this system never handed out.
        unknown = call16.StopTransaction(
            meter_stop=500, timestamp="2026-01-01T14:00:00Z", transaction_id=999_999
        )
        assert await cp.call(unknown) is not None
        assert await cp.call(unknown) is not None
    session = harness.store.session(tx)
    assert session is not None
    assert session.energy_wh == 3_000
    assert len(harness.of_type(SessionEnded)) == 2
    orphan = harness.store.session_by_ref("CP1", "999999")
    assert orphan is not None
    assert orphan.flagged
    assert orphan.energy_wh == 0


async def test_register_going_backwards_is_flagged_not_billed(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        tx = (await _start(cp)).transaction_id
        for timestamp, value in (("2026-01-01T12:10:00Z", "11000"), ("2026-01-01T12:20:00Z", "10200")):
            await cp.call(
                call16.MeterValues(
                    connector_id=1, transaction_id=tx, meter_value=[_meter_value(timestamp, _energy(value))]
                )
            )
        await cp.call(
            call16.StopTransaction(meter_stop=10_300, timestamp="2026-01-01T12:30:00Z", transaction_id=tx)
        )
    session = harness.store.session(tx)
    assert session is not None
    assert session.flagged
    assert session.flag_reason is not None
    assert "backwards" in session.flag_reason
    assert session.energy_wh == 1_000
    [ended] = harness.of_type(SessionEnded)
    assert ended.flagged


async def test_implausible_jump_is_flagged_not_billed(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        tx = (await _start(cp)).transaction_id
        # 5 MWh in one minute.
        mv = [_meter_value("2026-01-01T12:01:00Z", _energy("5010000"))]
        await cp.call(call16.MeterValues(connector_id=1, transaction_id=tx, meter_value=mv))
    session = harness.store.session(tx)
    assert session is not None
    assert session.flagged
    assert session.energy_wh == 0


async def test_meter_values_without_session_are_kept_as_connector_readings(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        mv = [_meter_value("2026-01-01T12:01:00Z", _energy("777"))]
        await cp.call(call16.MeterValues(connector_id=2, meter_value=mv))
    [reading] = harness.of_type(MeterReading)
    assert (reading.connector_id, reading.session_id, reading.register_wh) == (2, None, 777)


async def test_data_transfer_is_answered(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        answer = await cp.call(call16.DataTransfer(vendor_id="com.example", message_id="x", data="{}"))
        assert answer.status == "UnknownVendorId"
