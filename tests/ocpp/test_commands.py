"""Outbound commands: version-neutral API, one CALL at a time, timeouts, no crossed replies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from mobility.charging.events import ChargingEvent, SessionStarted
from ocpp_server.commands import CommandRejectedError, CommandTimeoutError
from ocpp_server.server import NotConnectedError, WrongVersionError
from tests.ocpp.clients import Client16, Client21, Client201
from tests.ocpp.conftest import Harness, library_client, raw_client
from tests.ocpp.frames import NOW, exchange, receive

VERSIONS = [("1.6", Client16), ("2.0.1", Client201), ("2.1", Client21)]


async def _connected(harness: Harness) -> None:
    await harness.wait_for(lambda: harness.central.is_connected("CP1"))


@pytest.mark.parametrize(("version", "cls"), VERSIONS)
async def test_commands_reach_the_charge_point(quick: Harness, version: str, cls: type[Any]) -> None:
    async with library_client(quick.url(), version, cls) as cp:
        await _connected(quick)
        commands = quick.central.commands("CP1")
        assert (await commands.remote_start(1, "ALLOWED01")).accepted
        assert (await commands.remote_stop("42")).accepted
        assert (await commands.reset(hard=True)).status in ("Accepted", "Scheduled")
        assert (await commands.set_power_limit(1, 3_700, profile_id=7)).accepted
        cleared = await commands.clear_power_limit(7)
        assert cleared.status in ("Accepted", "Unknown")
    actions = [action for action, _ in cp.received]
    assert actions[0] in ("RemoteStartTransaction", "RequestStartTransaction")
    assert actions[1] in ("RemoteStopTransaction", "RequestStopTransaction")
    assert actions[2:] == ["Reset", "SetChargingProfile", "ClearChargingProfile"]
    profile = dict(cp.received[3][1])
    if version == "1.6":
        assert (
            profile["cs_charging_profiles"]["charging_schedule"]["charging_schedule_period"][0]["limit"]
            == 3_700
        )
    else:
        assert (
            profile["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0]["limit"]
            == 3_700
        )


@pytest.mark.parametrize(("version", "cls"), VERSIONS)
async def test_a_transaction_cap_is_a_tx_profile(quick: Harness, version: str, cls: type[Any]) -> None:
    async with library_client(quick.url(), version, cls) as cp:
        await _connected(quick)
        commands = quick.central.commands("CP1")
        assert (await commands.limit_transaction(2, "42", 3_700, profile_id=902)).accepted
    ((action, payload),) = cp.received
    assert action == "SetChargingProfile"
    if version == "1.6":  # 1.6 requires the transactionId of a TxProfile
        assert payload["connector_id"] == 2
        profile = payload["cs_charging_profiles"]
        assert (profile["charging_profile_id"], profile["transaction_id"]) == (902, 42)
    else:
        assert payload["evse_id"] == 2
        profile = payload["charging_profile"]
        assert (profile["id"], profile["transaction_id"]) == (902, "42")
    assert profile["charging_profile_purpose"] == "TxProfile"


@pytest.mark.parametrize(("version", "cls"), VERSIONS)
async def test_unlock_availability_trigger(quick: Harness, version: str, cls: type[Any]) -> None:
    async with library_client(quick.url(), version, cls) as cp:
        await _connected(quick)
        commands = quick.central.commands("CP1")
        assert (await commands.unlock_connector(1)).status == "Unlocked"
        assert (await commands.change_availability(0, operative=False)).accepted
        assert (await commands.trigger_message("StatusNotification", 1)).accepted
    assert [action for action, _ in cp.received] == [
        "UnlockConnector",
        "ChangeAvailability",
        "TriggerMessage",
    ]


async def test_configuration_16(quick: Harness) -> None:
    async with library_client(quick.url(), "1.6", Client16):
        await _connected(quick)
        configuration = quick.central.configuration_16("CP1")
        answer = await configuration.get_configuration(["HeartbeatInterval", "Nope"])
        assert answer.payload["configuration_key"][0]["value"] == "300"
        assert answer.payload["unknown_key"] == ["Nope"]
        assert (await configuration.change_configuration("HeartbeatInterval", "60")).accepted
        with pytest.raises(WrongVersionError):
            quick.central.variables_2x("CP1")


@pytest.mark.parametrize(("version", "cls"), VERSIONS[1:])
async def test_variables_2x(quick: Harness, version: str, cls: type[Any]) -> None:
    async with library_client(quick.url(), version, cls):
        await _connected(quick)
        variables = quick.central.variables_2x("CP1")
        answer = await variables.get_variables([("OCPPCommCtrlr", "HeartbeatInterval")])
        assert answer.payload["get_variable_result"][0]["attribute_value"] == "300"
        answer = await variables.set_variables([("OCPPCommCtrlr", "HeartbeatInterval", "60")])
        assert answer.payload["set_variable_result"][0]["attribute_status"] == "Accepted"
        with pytest.raises(WrongVersionError):
            quick.central.configuration_16("CP1")


async def test_command_to_absent_charge_point(quick: Harness) -> None:
    with pytest.raises(NotConnectedError):
        quick.central.commands("CP1")


async def test_callerror_answer_raises(quick: Harness) -> None:
    async with raw_client(quick.url(), "1.6") as websocket:
        await _connected(quick)
        task = asyncio.create_task(quick.central.commands("CP1").reset())
        frame = await receive(websocket)
        await websocket.send(json.dumps([4, frame[1], "NotSupported", "no", {}]))
        with pytest.raises(CommandRejectedError) as rejected:
            await task
        assert rejected.value.code == "NotSupported"


async def test_one_call_at_a_time_and_late_reply_never_lands_in_wrong_call(quick: Harness) -> None:
    """Three commands queue behind each other; the first times out (0.5 s in `quick`),
    its late answer arrives while the second waits and must be ignored."""
    async with raw_client(quick.url(), "1.6") as websocket:
        await _connected(quick)
        commands = quick.central.commands("CP1")
        first = asyncio.create_task(commands.reset(hard=True))
        second = asyncio.create_task(commands.reset(hard=False))
        call1 = await receive(websocket)
        assert call1[2:] == ["Reset", {"type": "Hard"}]
        with pytest.raises(CommandTimeoutError):
            await first  # never answered
        call2 = await receive(websocket)
        assert call2[2:] == ["Reset", {"type": "Soft"}]
        # Late answer to the first call, then the real answer to the second.
        await websocket.send(json.dumps([3, call1[1], {"status": "Accepted"}]))
        await websocket.send(json.dumps([3, call2[1], {"status": "Rejected"}]))
        assert (await second).status == "Rejected"


async def test_second_command_waits_for_first_answer(quick: Harness) -> None:
    sent: list[str] = []
    original = quick.central._context.log_frame

    def spy(charge_point_id: str, direction: str, frame: str) -> None:
        if direction == "out" and frame.startswith("[2"):
            sent.append(frame)
        original(charge_point_id, direction, frame)

    quick.central._context.log_frame = spy
    async with raw_client(quick.url(), "1.6") as websocket:
        await _connected(quick)
        commands = quick.central.commands("CP1")
        tasks = [asyncio.create_task(commands.reset()) for _ in range(2)]
        call1 = await receive(websocket)
        for _ in range(50):  # let every ready task run; nothing here waits for time
            await asyncio.sleep(0)
        assert len(sent) == 1
        await websocket.send(json.dumps([3, call1[1], {"status": "Accepted"}]))
        call2 = await receive(websocket)
        assert len(sent) == 2
        await websocket.send(json.dumps([3, call2[1], {"status": "Accepted"}]))
        assert [(await task).status for task in tasks] == ["Accepted", "Accepted"]


def _transaction_start(version: str) -> list[Any]:
    if version == "1.6":
        payload: dict[str, Any] = {"connectorId": 1, "idTag": "X", "meterStart": 0, "timestamp": NOW}
        return [2, "start", "StartTransaction", payload]
    event = {
        "eventType": "Started",
        "timestamp": NOW,
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "T-1"},
        "evse": {"id": 1, "connectorId": 1},
        "idToken": {"idToken": "X", "type": "ISO14443"},
    }
    return [2, "start", "TransactionEvent", event]


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
async def test_commands_naming_a_transaction_wait_for_the_answer_that_carries_it(
    quick: Harness, version: str
) -> None:
    """A stop and a cap decided while the start is being handled (the payment layer refusing an
    unknown token) reach the charger after the answer that tells it the transaction, in the
    order they were issued, and a command that names no transaction does not overtake them.
    Before, the stop overtook the answer and the charger rejected it."""
    issued: list[asyncio.Task[Any]] = []

    async def refuse(event: ChargingEvent) -> None:
        if isinstance(event, SessionStarted):
            commands = quick.central.commands("CP1")
            ref = event.transaction_ref
            issued.append(asyncio.create_task(commands.limit_transaction(1, ref, 3_700, 1001)))
            issued.append(asyncio.create_task(commands.remote_stop(ref)))
            issued.append(asyncio.create_task(commands.clear_power_limit(901)))

    async def slow_reader(event: ChargingEvent) -> None:
        if isinstance(event, SessionStarted):
            await asyncio.sleep(0.2)  # the payer stream's reads, say

    quick.service.subscribe(refuse)
    quick.service.subscribe(slow_reader)
    async with raw_client(quick.url(), version) as websocket:
        answer = await exchange(websocket, _transaction_start(version))
        assert answer[:2] == [3, "start"]
        ref = str(answer[2]["transactionId"]) if version == "1.6" else "T-1"
        actions = []
        for _ in range(3):
            call = await receive(websocket)
            actions.append(call[2])
            if call[2] in ("SetChargingProfile", "RemoteStopTransaction", "RequestStopTransaction"):
                named = call[3].get("csChargingProfiles", call[3].get("chargingProfile", call[3]))
                assert str(named["transactionId"]) == ref
            await websocket.send(json.dumps([3, call[1], {"status": "Accepted"}]))
        await asyncio.gather(*issued)
    stop = "RemoteStopTransaction" if version == "1.6" else "RequestStopTransaction"
    assert actions == ["SetChargingProfile", stop, "ClearChargingProfile"]
