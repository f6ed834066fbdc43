"""Restarting the server mid-session loses nothing: the charger reconnects, the session goes
on and ends correctly, and energy is counted once."""

from __future__ import annotations

from mobility.charging.events import SessionEnded
from ocpp_server._ocpp import call16
from tests.ocpp.clients import Client16, Client201
from tests.ocpp.conftest import ALLOWED_TOKEN, Harness, library_client


def _mv(timestamp: str, wh: int) -> dict[str, object]:
    return {"timestamp": timestamp, "sampled_value": [{"value": str(wh), "unit": "Wh"}]}


async def test_restart_mid_session_16(harness: Harness) -> None:
    async with library_client(harness.url(), "1.6", Client16) as cp:
        started = await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag=ALLOWED_TOKEN, meter_start=1_000, timestamp="2026-01-01T12:00:00Z"
            )
        )
        tx = started.transaction_id
        await cp.call(
            call16.MeterValues(
                connector_id=1, transaction_id=tx, meter_value=[_mv("2026-01-01T12:10:00Z", 1_400)]
            )
        )
        await harness.restart()
    assert not harness.central.is_connected("CP1")

    async with library_client(harness.url(), "1.6", Client16) as cp:
        # A StartTransaction whose answer was lost in the restart is sent again: same session.
        again = await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag=ALLOWED_TOKEN, meter_start=1_000, timestamp="2026-01-01T12:00:00Z"
            )
        )
        assert again.transaction_id == tx
        # The charger replays what it queued while offline, including a repeated reading.
        await cp.call(
            call16.MeterValues(
                connector_id=1, transaction_id=tx, meter_value=[_mv("2026-01-01T12:10:00Z", 1_400)]
            )
        )
        await cp.call(
            call16.MeterValues(
                connector_id=1, transaction_id=tx, meter_value=[_mv("2026-01-01T12:20:00Z", 1_900)]
            )
        )
        stop = call16.StopTransaction(meter_stop=2_500, timestamp="2026-01-01T12:30:00Z", transaction_id=tx)
        await cp.call(stop)
        await harness.restart()
    async with library_client(harness.url(), "1.6", Client16) as cp:
        await cp.call(stop)  # replayed again after a second restart

    session = harness.store.session(tx)
    assert session is not None
    assert (session.energy_wh, session.end_reason, session.flagged) == (1_500, "Local", False)
    assert len(harness.store.sessions("CP1")) == 1
    [ended] = harness.of_type(SessionEnded)
    assert ended.energy_wh == 1_500


async def test_restart_mid_session_201(harness: Harness) -> None:
    def event(cp: object, kind: str, seq: int, at: str, wh: int, offline: bool = False) -> object:
        trigger = {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "StopAuthorized"}[kind]
        return cp._call.TransactionEvent(  # type: ignore[attr-defined]
            event_type=kind,
            timestamp=at,
            trigger_reason=trigger,
            seq_no=seq,
            transaction_info={"transaction_id": "T-9"},
            evse={"id": 1},
            offline=offline,
            meter_value=[{"timestamp": at, "sampled_value": [{"value": wh}]}],
        )

    async with library_client(harness.url(), "2.0.1", Client201) as cp:
        await cp.call(event(cp, "Started", 0, "2026-01-01T12:00:00Z", 50_000))
        await harness.restart()
    async with library_client(harness.url(), "2.0.1", Client201) as cp:
        await cp.call(event(cp, "Updated", 1, "2026-01-01T12:10:00Z", 50_700, offline=True))
        await cp.call(event(cp, "Ended", 2, "2026-01-01T12:20:00Z", 51_000))
        await cp.call(event(cp, "Ended", 2, "2026-01-01T12:20:00Z", 51_000, offline=True))
    session = harness.store.session_by_ref("CP1", "T-9")
    assert session is not None
    assert session.energy_wh == 1_000
    assert len(harness.of_type(SessionEnded)) == 1
