"""Simulated charge points against the real CentralSystem over loopback websockets.

Simulated time is moved by hand (`step`); every wait is on an event with a real-time limit.
The core check is always the same: the energy the server stored for each session equals,
to the Wh, the energy the simulator delivered, and each session exists exactly once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest

from mobility.charging.events import ChargingEvent, SessionStarted
from mobility.charging.profile_ids import OPERATOR_LIMIT
from mobility.engine import CentralSystemCommands
from sims.chargers.clock import ManualClock
from sims.chargers.connector import StopReason, Transaction
from sims.chargers.ev import EVBattery, EVSpec
from sims.chargers.outbox import TxEvent, TxMessage
from sims.chargers.station import LinkState, SimulatedChargePoint
from tests.ocpp.conftest import ALLOWED_TOKEN, Harness
from tests.sims.conftest import LIMIT, Rig, assert_server_matches, station_config, step, stored

VERSIONS = ["1.6", "2.0.1", "2.1"]


def ev(capacity_wh: int = 60_000, max_power_w: int = 11_000, soc_permille: int = 200) -> EVBattery:
    return EVBattery(EVSpec(capacity_wh=capacity_wh, max_power_w=max_power_w), soc_permille=soc_permille)


async def test_mixed_fleet_sessions_energy_matches_exactly(
    central: Harness, clock: ManualClock, rig: Rig
) -> None:
    stations = [
        await rig.power_on(SimulatedChargePoint(station_config(central, f"MIX-{n}", version), clock))
        for n, version in enumerate(VERSIONS)
    ]
    for station in stations:
        assert central.central.is_connected(station.id)
        first = await station.plug_in(1, ev(max_power_w=11_000), ALLOWED_TOKEN)
        second = await station.plug_in(
            2, ev(capacity_wh=20_000, max_power_w=50_000, soc_permille=700), ALLOWED_TOKEN
        )
        assert first is not None
        assert second is not None
    for _ in range(10):
        await step(clock, stations, 60)
    for station in stations:
        station.stop(1)  # the driver stops at the app; connector 2 runs on into its taper
    for _ in range(30):
        await step(clock, stations, 60)
    for station in stations:
        station.unplug(2)
    await step(clock, stations, 1)
    total = 0
    for station in stations:
        total += assert_server_matches(central, station)
        first, second = station.transactions
        assert first.delivered_wh(0) == 11_000 * 10 // 60  # ten minutes at 11 kW, exactly
        assert 0 < second.delivered_wh(0) < 22_000 * 40 // 60  # tapering from 70 % SoC
        assert len(central.store.readings(stored(central, station, first).id or 0)) >= 10
    assert total == sum(station.stats.energy_wh for station in stations)


async def test_refused_token_starts_nothing(central: Harness, clock: ManualClock, rig: Rig) -> None:
    station = await rig.power_on(SimulatedChargePoint(station_config(central, "REFUSE", "2.0.1"), clock))
    assert await station.plug_in(1, ev(), "NOT-ALLOWED") is None
    assert station.stats.sessions_refused == 1
    assert station.connectors[1].ev is None
    assert central.store.sessions(station.id) == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_offline_period_replays_everything_once(
    central: Harness, clock: ManualClock, rig: Rig, version: str
) -> None:
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"OFF-{version}", version), clock)
    )
    before = await station.plug_in(1, ev(), ALLOWED_TOKEN)
    assert before is not None
    await step(clock, [station], 60)
    station.go_offline(900)
    await station.wait_until(lambda: station.state is LinkState.NO_NETWORK, LIMIT)
    for _ in range(5):
        await step(clock, [station], 60)
    station.stop(1)  # ends while offline
    during = await station.plug_in(2, ev(), ALLOWED_TOKEN)  # starts while offline
    assert during is not None
    await step(clock, [station], 120)
    assert not station.online
    assert len(station.outbox) >= 8
    assert station.stats.offline_messages >= 8
    if version == "1.6":
        assert during.ref is None  # the server has not numbered it yet
    clock.advance(900)  # the network is back; then at most one back-off ceiling
    await station.wait_until(lambda: station.state is LinkState.BACKOFF, LIMIT)
    clock.advance(station.config.backoff.cap_s)
    await station.wait_until(lambda: station.online, LIMIT)
    await station.drained(LIMIT)
    station.unplug(2)
    await step(clock, [station], 1)
    assert station.stats.reconnects == 1
    assert_server_matches(central, station)
    await central.central.stop()  # flushes the server's message log, written off the hot path
    calls = [frame for frame in map(json.loads, (r.frame for r in central.store.message_log(station.id)))]
    calls = [(frame[2], frame[3]) for frame in calls if frame[0] == 2]
    if version == "1.6":
        # The queued MeterValues learnt the transaction ID from the replayed start's answer.
        assert during.ref is not None
        replayed = [action for action, payload in calls if payload.get("transactionId") == int(during.ref)]
        assert replayed[0] == "MeterValues"
        assert replayed[-1] == "StopTransaction"
        starts = [payload for action, payload in calls if action == "StartTransaction"]
        assert len(starts) == 2
    else:
        offline_events = [
            payload for action, payload in calls if action == "TransactionEvent" and payload.get("offline")
        ]
        assert {event["eventType"] for event in offline_events} == {"Started", "Updated", "Ended"}


@pytest.mark.parametrize("version", VERSIONS)
async def test_drop_and_retransmission_count_nothing_twice(
    central: Harness, clock: ManualClock, rig: Rig, version: str
) -> None:
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"DROP-{version}", version), clock)
    )
    transaction = await station.plug_in(1, ev(), ALLOWED_TOKEN)
    assert transaction is not None
    await step(clock, [station], 60)
    assert station.drop_connection()
    await station.wait_until(lambda: station.state is LinkState.BACKOFF, LIMIT)
    await step(clock, [station], 30)
    clock.advance(station.config.backoff.cap_s)
    await station.wait_until(lambda: station.online, LIMIT)
    await step(clock, [station], 60)
    station.stop(1)
    await step(clock, [station], 1)
    ended = [m for m in station.transactions if m.stop_reason is not None]
    assert ended == [transaction]
    energy = stored(central, station, transaction).energy_wh
    assert transaction.stopped_at is not None
    seconds = (transaction.stopped_at - transaction.started_at).total_seconds()
    assert energy == transaction.delivered_wh(0) == 11_000 * int(seconds) // 3600
    # Replay the whole transaction again: same message IDs (answers lost) and fresh ones.
    sessions_before = len(central.store.sessions(station.id))
    replay = _replay_of(station, transaction)
    for _ in range(2):  # first with fresh message IDs, then the same IDs once more
        for message in replay:
            station.outbox.put(message)
        await station.drained(LIMIT)
    assert all(message.message_id is not None for message in replay)
    assert len(central.store.sessions(station.id)) == sessions_before
    assert stored(central, station, transaction).energy_wh == energy
    assert station.stats.call_errors == 0


def _replay_of(station: SimulatedChargePoint, transaction: Transaction) -> list[TxMessage]:
    """Messages as a charger that never heard the answers would send them again."""
    at = transaction.started_at
    register = transaction.start_register_wh
    stop_register = transaction.stop_register_wh
    assert transaction.stopped_at is not None
    assert stop_register is not None
    messages = [
        TxMessage(TxEvent.STARTED, transaction, at, register, 11_000, True, "Authorized", 0, None),
        TxMessage(
            TxEvent.ENDED,
            transaction,
            transaction.stopped_at,
            stop_register,
            0,
            True,
            "StopAuthorized",
            9,
            StopReason.LOCAL,
        ),
    ]
    return messages


@pytest.mark.parametrize("version", VERSIONS)
async def test_server_power_limit_lowers_simulated_power(
    central: Harness, clock: ManualClock, rig: Rig, version: str
) -> None:
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"LIM-{version}", version), clock)
    )
    transaction = await station.plug_in(1, ev(max_power_w=50_000), ALLOWED_TOKEN)
    assert transaction is not None
    await step(clock, [station], 600)
    assert station.connectors[1].power_w(clock.now()) == 22_000
    commands = central.central.commands(station.id)
    result = await commands.set_power_limit(1, 3_680, profile_id=42)
    assert result.accepted
    assert station.connectors[1].power_w(clock.now()) == 3_680
    await step(clock, [station], 3_600)
    assert station.connectors[1].power_w(clock.now()) == 3_680
    assert (await commands.clear_power_limit(42)).accepted
    assert station.connectors[1].power_w(clock.now()) == 22_000
    await step(clock, [station], 600)
    station.stop(1)
    await step(clock, [station], 1)
    # 10 min at 22 kW, one hour at 3.68 kW, 10 min at 22 kW: exactly, on both sides.
    assert transaction.delivered_wh(0) == 22_000 // 6 + 3_680 + 22_000 // 6 + 1
    assert_server_matches(central, station)


@pytest.mark.parametrize("version", VERSIONS)
async def test_payment_caps_belong_to_their_transaction_and_connector(
    central: Harness, clock: ManualClock, rig: Rig, version: str
) -> None:
    """The engine's payment caps (`CentralSystemCommands`) end with the transaction they slow
    down, and caps on two connectors of one charge point neither replace nor lift each other.
    Both failed when a cap was the connector's default profile under one ID per charge point:
    a payer stopped while capped left the cap to the next drivers on that connector."""
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"CAP-{version}", version), clock)
    )
    first = await station.plug_in(1, ev(max_power_w=50_000), ALLOWED_TOKEN)
    second = await station.plug_in(2, ev(max_power_w=50_000), ALLOWED_TOKEN)
    await step(clock, [station], 60)
    assert first is not None
    assert first.ref is not None
    assert second is not None
    assert second.ref is not None
    payments = CentralSystemCommands(central.central)
    await payments.limit_power(station.id, 1, first.ref, 3_680)
    await payments.limit_power(station.id, 2, second.ref, 3_680)
    powers = [station.connectors[n].power_w(clock.now()) for n in (1, 2)]
    assert powers == [3_680, 3_680]
    await payments.clear_limit(station.id, 2, second.ref)
    powers = [station.connectors[n].power_w(clock.now()) for n in (1, 2)]
    assert powers == [3_680, 22_000]

    station.stop(1)  # as for a payer who stopped paying, still capped
    station.unplug(1)
    await step(clock, [station], 60)
    third = await station.plug_in(1, ev(max_power_w=50_000), ALLOWED_TOKEN)
    await step(clock, [station], 60)
    assert third is not None
    assert third.ref is not None
    assert station.connectors[1].power_w(clock.now()) == 22_000
    if version != "1.6":  # 1.6 caps the connector's running transaction, whichever it is
        # A cap naming a transaction that is not running there is refused, and changes nothing.
        stale = await central.central.commands(station.id).limit_transaction(1, first.ref, 3_680, 950)
        assert not stale.accepted
        assert station.connectors[1].power_w(clock.now()) == 22_000
    station.stop(1)
    station.stop(2)
    await step(clock, [station], 1)
    assert third.delivered_wh(0) == round(22_000 / 60)  # one minute at full power, to the Wh
    assert_server_matches(central, station)


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_cap_decided_as_the_session_starts_takes_hold(
    central: Harness, clock: ManualClock, rig: Rig, version: str
) -> None:
    """A payer already lagging starts a session: the payment layer caps it on `SessionStarted`,
    published while the start is being answered, so on 1.6 the charge point may not know the
    transaction's ID yet. The cap names the transaction (1.6 requires it) and must hold all the
    same: it waits for the answer that carries the ID."""
    payments = CentralSystemCommands(central.central)
    caps: list[asyncio.Task[bool]] = []

    async def cap_on_start(event: ChargingEvent) -> None:
        if isinstance(event, SessionStarted):
            caps.append(
                asyncio.create_task(
                    payments.limit_power(
                        event.charge_point_id, event.connector_id, event.transaction_ref, 3_680
                    )
                )
            )
            await asyncio.to_thread(lambda: None)  # the payment layer records its decision

    central.service.subscribe(cap_on_start)
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"EARLY-{version}", version), clock)
    )
    transaction = await station.plug_in(1, ev(max_power_w=50_000), ALLOWED_TOKEN)
    assert transaction is not None
    await central.wait_for(lambda: bool(caps))
    assert await asyncio.gather(*caps) == [True]
    await step(clock, [station], 60)
    assert station.connectors[1].power_w(clock.now()) == 3_680


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_payment_cap_leaves_the_operators_limit_in_place(
    central: Harness, clock: ManualClock, rig: Rig, version: str
) -> None:
    """The operator's standing limit and a payment cap are different profiles on one connector:
    lifting the cap restores the operator's limit, not the charger's full power."""
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"OPCAP-{version}", version), clock)
    )
    transaction = await station.plug_in(1, ev(max_power_w=50_000), ALLOWED_TOKEN)
    await step(clock, [station], 60)
    assert transaction is not None
    assert transaction.ref is not None
    charger = central.central.commands(station.id)
    assert (await charger.set_power_limit(1, 11_000, OPERATOR_LIMIT)).accepted
    payments = CentralSystemCommands(central.central)
    await payments.limit_power(station.id, 1, transaction.ref, 3_680)
    assert station.connectors[1].power_w(clock.now()) == 3_680
    await payments.clear_limit(station.id, 1, transaction.ref)
    assert station.connectors[1].power_w(clock.now()) == 11_000
    assert (await charger.clear_power_limit(OPERATOR_LIMIT)).accepted
    assert station.connectors[1].power_w(clock.now()) == 22_000


@pytest.mark.parametrize("version", VERSIONS)
async def test_remote_start_and_stop(central: Harness, clock: ManualClock, rig: Rig, version: str) -> None:
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"REM-{version}", version), clock)
    )
    commands = central.central.commands(station.id)
    assert (await commands.remote_start(2, ALLOWED_TOKEN)).accepted
    await station.drained(LIMIT)
    (transaction,) = station.transactions
    assert transaction.connector_id == 2
    assert transaction.ref is not None
    await step(clock, [station], 900)
    assert (await commands.remote_stop(transaction.ref)).accepted
    await station.drained(LIMIT)
    assert transaction.stop_reason is StopReason.REMOTE
    assert transaction.delivered_wh(0) == 11_000 // 4
    assert not (await commands.remote_stop(transaction.ref)).accepted
    assert_server_matches(central, station)


@pytest.mark.parametrize("version", VERSIONS)
async def test_power_loss_and_reset_end_sessions_and_reboot(
    central: Harness, clock: ManualClock, rig: Rig, version: str
) -> None:
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"RBT-{version}", version), clock)
    )
    assert await station.plug_in(1, ev(), ALLOWED_TOKEN) is not None
    await step(clock, [station], 300)
    station.power_loss()
    await station.wait_until(lambda: station.state is LinkState.REBOOTING, LIMIT)
    clock.advance(station.config.reboot_delay_s)
    await station.wait_until(lambda: station.online, LIMIT)
    await station.drained(LIMIT)
    assert station.transactions[0].stop_reason is StopReason.POWER_LOSS
    station.unplug(1)
    assert await station.plug_in(1, ev(), ALLOWED_TOKEN) is not None
    await step(clock, [station], 300)
    assert (await central.central.commands(station.id).reset(hard=False)).accepted
    await station.wait_until(lambda: station.state is LinkState.REBOOTING, LIMIT)
    clock.advance(station.config.reboot_delay_s)
    await station.wait_until(lambda: station.online, LIMIT)
    await station.drained(LIMIT)
    assert station.transactions[1].stop_reason is StopReason.REBOOT
    assert station.stats.reboots == 2
    # Two 5-minute sessions at 11 kW on one meter: each floored register difference, 1833 Wh in all.
    assert sum(tx.delivered_wh(0) for tx in station.transactions) == 11_000 // 6
    assert_server_matches(central, station)


@pytest.mark.parametrize("version", ["1.6", "2.1"])
async def test_offline_start_refused_on_replay_is_deauthorized(
    central: Harness, clock: ManualClock, rig: Rig, version: str
) -> None:
    """Offline the station trusts any badge; the central system's answer on replay still rules."""
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"DEAUTH-{version}", version), clock)
    )
    station.go_offline(300)
    await station.wait_until(lambda: station.state is LinkState.NO_NETWORK, LIMIT)
    transaction = await station.plug_in(1, ev(), "STRANGER")
    assert transaction is not None
    await step(clock, [station], 300)
    await station.wait_until(lambda: station.state is LinkState.BACKOFF, LIMIT)
    clock.advance(station.config.backoff.cap_s)
    await station.wait_until(lambda: station.online, LIMIT)
    await station.wait_until(lambda: not transaction.active, LIMIT)
    await station.drained(LIMIT)
    assert transaction.stop_reason is StopReason.DE_AUTHORIZED
    assert_server_matches(central, station)


async def test_basic_auth(central: Harness, clock: ManualClock, rig: Rig) -> None:
    central.store.register_charge_point("AUTH-1", "right-password")
    wrong = SimulatedChargePoint(station_config(central, "AUTH-1", "2.0.1", password="wrong"), clock)
    rig.tasks["wrong"] = asyncio.create_task(wrong.run())
    await wrong.wait_until(lambda: wrong.stats.failed_connects == 1, LIMIT)
    assert not wrong.online
    rig.tasks.pop("wrong").cancel()
    right = SimulatedChargePoint(station_config(central, "AUTH-1", "2.0.1", password="right-password"), clock)
    await rig.power_on(right)
    assert central.central.is_connected("AUTH-1")


@pytest.mark.parametrize("version", VERSIONS)
async def test_server_restart_mid_session(
    central: Harness, clock: ManualClock, rig: Rig, version: str
) -> None:
    """The central system restarts (same port): the station reconnects and the session goes on."""
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"RST-{version}", version), clock)
    )
    transaction = await station.plug_in(1, ev(), ALLOWED_TOKEN)
    assert transaction is not None
    await step(clock, [station], 600)
    await central.restart(dataclasses.replace(central.central.config, port=central.central.port))
    await station.wait_until(lambda: station.state is LinkState.BACKOFF, LIMIT)
    await step(clock, [station], 60)  # ends the back-off; this sample may queue while away
    await station.wait_until(lambda: station.online, LIMIT)
    await step(clock, [station], 600)
    station.stop(1)
    await step(clock, [station], 1)
    assert station.stats.reconnects == 1
    assert transaction.delivered_wh(0) == 11_000 * 1_260 // 3_600
    assert_server_matches(central, station)


async def test_heal_ends_an_offline_period_early(central: Harness, clock: ManualClock, rig: Rig) -> None:
    station = await rig.power_on(SimulatedChargePoint(station_config(central, "HEAL", "2.0.1"), clock))
    assert await station.plug_in(1, ev(), ALLOWED_TOKEN) is not None
    station.go_offline(24 * 3_600)
    await station.wait_until(lambda: station.state is LinkState.NO_NETWORK, LIMIT)
    await step(clock, [station], 60)
    station.stop(1)
    station.heal()
    await station.wait_until(lambda: station.state is LinkState.BACKOFF, LIMIT)
    clock.advance(station.config.backoff.cap_s)
    await station.wait_until(lambda: station.online, LIMIT)
    await station.drained(LIMIT)
    assert_server_matches(central, station)


@pytest.mark.parametrize("version", VERSIONS)
async def test_trigger_message(central: Harness, clock: ManualClock, rig: Rig, version: str) -> None:
    station = await rig.power_on(
        SimulatedChargePoint(station_config(central, f"TRG-{version}", version), clock)
    )
    commands = central.central.commands(station.id)
    assert (await commands.trigger_message("MeterValues", 1)).status == "Rejected"  # nothing charging
    transaction = await station.plug_in(1, ev(), ALLOWED_TOKEN)
    assert transaction is not None
    clock.advance(30)
    assert (await commands.trigger_message("MeterValues", 1)).accepted
    assert (await commands.trigger_message("Heartbeat")).accepted
    assert (await commands.trigger_message("StatusNotification")).accepted
    # The device sends what the station does not (sims/chargers/management.py).
    assert (await commands.trigger_message("FirmwareStatusNotification")).accepted
    await station.drained(LIMIT)
    session = stored(central, station, transaction)
    assert session.energy_wh == 11_000 * 30 // 3_600
    assert "Trigger" in {reading.context for reading in central.store.readings(session.id or 0)}
