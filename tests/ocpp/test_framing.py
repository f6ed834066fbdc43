"""OCPP-J errors with raw frames: every bad CALL gets the answer its version specifies,
and the connection stays up (a heartbeat afterwards is still answered)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from mobility.charging.authorization import AllowListAuthorizer, AuthorizationResult, AuthorizationStatus
from ocpp_server.frame_log import MAX_STORED_CHARS
from tests.ocpp.conftest import Harness, raw_client
from tests.ocpp.frames import NOW, boot, exchange, heartbeat

VERSIONS = ["1.6", "2.0.1", "2.1"]


async def _assert_still_up(websocket: Any) -> None:
    answer = await exchange(websocket, heartbeat("still-up"))
    assert answer[:2] == [3, "still-up"]
    assert "currentTime" in answer[2]


@pytest.mark.parametrize(
    ("version", "code"),
    [("1.6", "FormationViolation"), ("2.0.1", "RpcFrameworkError"), ("2.1", "RpcFrameworkError")],
)
async def test_unparseable_frame_gets_callerror_with_id_minus_one(
    quick: Harness, version: str, code: str
) -> None:
    # The ocpp library logs such a frame and answers nothing at all.
    async with raw_client(quick.url(), version) as websocket:
        answer = await exchange(websocket, '[2, "abc", "Heartbeat", {')
        assert answer[:3] == [4, "-1", code]
        await _assert_still_up(websocket)


@pytest.mark.parametrize("version", VERSIONS)
async def test_not_an_array_gets_callerror(quick: Harness, version: str) -> None:
    async with raw_client(quick.url(), version) as websocket:
        answer = await exchange(websocket, {"hello": 1})
        assert answer[0] == 4
        assert answer[1] == "-1"
        answer = await exchange(websocket, [2, "short", "Heartbeat"])
        assert answer[0] == 4
        assert answer[1] == "short"
        await _assert_still_up(websocket)


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_unknown_message_type_is_not_supported_in_2x(quick: Harness, version: str) -> None:
    async with raw_client(quick.url(), version) as websocket:
        answer = await exchange(websocket, [7, "m7", {}])
        assert answer[:3] == [4, "m7", "MessageTypeNotSupported"]
        await _assert_still_up(websocket)


async def test_21_send_and_callresulterror_are_not_answered(quick: Harness) -> None:
    async with raw_client(quick.url(), "2.1") as websocket:
        await websocket.send(
            '[6,"s1","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2026-01-01T00:00:00Z","data":[]}]'
        )
        await websocket.send('[5,"r1","InternalError","",{}]')
        await _assert_still_up(websocket)


async def test_unknown_message_type_is_ignored_in_16(quick: Harness) -> None:
    # OCPP-J 1.6 4.1.3: a message with an unknown type number is ignored.
    async with raw_client(quick.url(), "1.6") as websocket:
        await websocket.send('[7,"m7",{}]')
        await _assert_still_up(websocket)


@pytest.mark.parametrize(
    ("version", "code"),
    [("1.6", "FormationViolation"), ("2.0.1", "FormatViolation"), ("2.1", "FormatViolation")],
)
async def test_unexpected_field_is_formation_or_format_violation(
    quick: Harness, version: str, code: str
) -> None:
    # The library sends "FormatViolation" on 1.6 too; 1.6 spells it "FormationViolation".
    frame = boot(version, "b1")
    frame[3]["unexpected"] = 1
    async with raw_client(quick.url(), version) as websocket:
        assert (await exchange(websocket, frame))[:3] == [4, "b1", code]
        answer = await exchange(websocket, [2, "b2", "Heartbeat", []])
        assert answer[:3] == [4, "b2", code]
        await _assert_still_up(websocket)


@pytest.mark.parametrize(
    ("version", "code"),
    [
        ("1.6", "OccurenceConstraintViolation"),
        ("2.0.1", "OccurrenceConstraintViolation"),
        ("2.1", "OccurrenceConstraintViolation"),
    ],
)
async def test_missing_required_field_is_occurrence_violation(
    quick: Harness, version: str, code: str
) -> None:
    # The library answers ProtocolError here.
    frame = boot(version, "b1")
    frame[3] = {}
    async with raw_client(quick.url(), version) as websocket:
        assert (await exchange(websocket, frame))[:3] == [4, "b1", code]
        await _assert_still_up(websocket)


@pytest.mark.parametrize("version", VERSIONS)
async def test_wrong_type_is_type_constraint_violation(quick: Harness, version: str) -> None:
    if version == "1.6":
        frame: list[Any] = [2, "a1", "Authorize", {"idTag": 12}]
    else:
        frame = [2, "a1", "Authorize", {"idToken": {"idToken": 12, "type": "ISO14443"}}]
    async with raw_client(quick.url(), version) as websocket:
        assert (await exchange(websocket, frame))[:3] == [4, "a1", "TypeConstraintViolation"]
        await _assert_still_up(websocket)


@pytest.mark.parametrize("version", VERSIONS)
async def test_value_outside_enum_is_property_constraint_violation(quick: Harness, version: str) -> None:
    if version == "1.6":
        payload: dict[str, Any] = {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}
    else:
        payload = {"timestamp": NOW, "connectorStatus": "Sleeping", "evseId": 1, "connectorId": 1}
    async with raw_client(quick.url(), version) as websocket:
        answer = await exchange(websocket, [2, "s1", "StatusNotification", payload])
        assert answer[:3] == [4, "s1", "PropertyConstraintViolation"]
        await _assert_still_up(websocket)


@pytest.mark.parametrize("version", VERSIONS)
async def test_unknown_action_is_not_implemented(quick: Harness, version: str) -> None:
    # On 2.1 the library sends no answer at all for an action without a handler.
    async with raw_client(quick.url(), version) as websocket:
        assert (await exchange(websocket, [2, "u1", "FooBar", {}]))[:3] == [4, "u1", "NotImplemented"]
        # Known to the version but not handled (a central system's own message, sent by a
        # charger): NotSupported (tests/ocpp/test_malformed.py).
        reset = {"type": "Soft" if version == "1.6" else "Immediate"}
        answer = await exchange(websocket, [2, "u2", "Reset", reset])
        assert answer[:3] == [4, "u2", "NotSupported"]
        await _assert_still_up(websocket)


def _start(message_id: str, meter_start: int, at: str = NOW) -> list[Any]:
    payload = {"connectorId": 1, "idTag": "ALLOWED01", "meterStart": meter_start, "timestamp": at}
    return [2, message_id, "StartTransaction", payload]


async def test_retransmitted_call_gets_same_answer_and_applies_once(quick: Harness) -> None:
    async with raw_client(quick.url(), "1.6") as websocket:
        first = await exchange(websocket, _start("start-1", 1000))
        second = await exchange(websocket, _start("start-1", 1000))
    assert first == second
    assert first[0] == 3
    assert len(quick.store.sessions("CP1")) == 1


async def test_replayed_start_on_a_new_connection_applies_once(quick: Harness) -> None:
    # Across connections the session's own key (connector, meter start, time) dedupes it.
    async with raw_client(quick.url(), "1.6") as websocket:
        first = await exchange(websocket, _start("start-1", 1000))
    async with raw_client(quick.url(), "1.6") as websocket:
        second = await exchange(websocket, _start("q-7", 1000))
    assert first[2] == second[2]
    assert len(quick.store.sessions("CP1")) == 1


async def test_message_ids_are_unique_per_connection_only(quick: Harness) -> None:
    """A rebooted charger's message counter starts over: the same ID on a new connection is a new
    message. An answer cache kept across connections handed its new StartTransaction the old
    transaction ID, and the new session was never recorded."""
    async with raw_client(quick.url(), "1.6") as websocket:
        first = await exchange(websocket, _start("1", 1000))
    async with raw_client(quick.url(), "1.6") as websocket:
        second = await exchange(websocket, _start("1", 8000, "2026-01-01T13:00:00Z"))
    assert second[0] == 3
    assert second[2]["transactionId"] != first[2]["transactionId"]
    sessions = quick.store.sessions("CP1")
    assert [session.meter_start_wh for session in sessions] == [1000, 8000]


async def test_boot_after_disabling_is_rejected_even_with_a_reused_message_id(quick: Harness) -> None:
    async with raw_client(quick.url(), "1.6") as websocket:
        assert (await exchange(websocket, boot("1.6", "1")))[2]["status"] == "Accepted"
    quick.store.register_charge_point("CP1", "secret1", enabled=False)
    async with raw_client(quick.url(), "1.6") as websocket:
        assert (await exchange(websocket, boot("1.6", "1")))[2]["status"] == "Rejected"


async def test_malformed_response_is_dropped_and_connection_stays_up(quick: Harness) -> None:
    async with raw_client(quick.url(), "1.6") as websocket:
        await websocket.send('[3,"nobody-asked"]')
        await websocket.send('[4,"nobody-asked",5]')
        await _assert_still_up(websocket)


async def test_frames_are_logged(quick: Harness) -> None:
    async with raw_client(quick.url(), "1.6") as websocket:
        await exchange(websocket, heartbeat("logged"))
        await exchange(websocket, "not json")
    await quick.central.stop()
    frames = [(record.direction, record.frame) for record in quick.store.message_log("CP1")]
    assert ("in", '[2, "logged", "Heartbeat", {}]') in frames
    assert ("in", "not json") in frames
    assert any(direction == "out" and frame.startswith('[3,"logged"') for direction, frame in frames)
    assert any(direction == "out" and frame.startswith('[4,"-1"') for direction, frame in frames)


async def test_frames_are_logged_at_debug_only_and_stored_as_a_bounded_prefix(
    quick: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """One charger's large frames must not fill the log or the database (issue 14, point 5)."""
    caplog.set_level(logging.INFO)
    big = json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "y" * 200_000}])
    async with raw_client(quick.url(), "1.6") as websocket:
        await exchange(websocket, heartbeat("quiet"))
        assert not any("quiet" in record.getMessage() for record in caplog.records)
        caplog.set_level(logging.DEBUG, logger="ocpp_server.frames")
        await exchange(websocket, heartbeat("loud"))
        assert any("loud" in record.getMessage() for record in caplog.records)
        await exchange(websocket, big)
    await quick.central.stop()
    [kept] = [r.frame for r in quick.store.message_log("CP1") if r.direction == "in" and '"big"' in r.frame]
    assert len(kept) < MAX_STORED_CHARS + 100
    assert kept.endswith(f"[{len(big)} chars, truncated]")


async def test_responses_nobody_waits_for_are_dropped_and_logged_clipped(
    quick: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Unsolicited CALLRESULTs used to queue without bound until the next command, and a big
    malformed one was logged whole at WARNING."""
    caplog.set_level(logging.WARNING)
    async with raw_client(quick.url(), "1.6") as websocket:
        for n in range(50):
            await websocket.send(json.dumps([3, f"nobody-{n}", {"x": "y" * 1_000}]))
        await websocket.send(json.dumps([3, "x", "y" * 200_000]))
        await _assert_still_up(websocket)
        connection = quick.central._connections["CP1"]
        assert connection._response_queue.qsize() == 0
    assert caplog.records
    assert all(len(record.getMessage()) < 2_000 for record in caplog.records)


async def test_message_log_is_bounded(quick: Harness) -> None:
    from datetime import UTC, datetime

    store = quick.store
    store._log_keep = 20
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for batch in range(10):
        store.log_frames([("CP1", "in", f"{batch}-{index}", now) for index in range(10)])
    kept = store.message_log("CP1")
    assert 20 <= len(kept) <= 30
    assert kept[-1].frame == "9-9"


@pytest.mark.parametrize("version", VERSIONS)
async def test_handler_failure_is_internal_error_and_connection_stays_up(
    quick: Harness, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(charge_point_id: str, id_token: str) -> Any:
        raise RuntimeError("authorization backend down")

    monkeypatch.setattr(quick.service, "authorize", broken)
    if version == "1.6":
        frame: list[Any] = [2, "a1", "Authorize", {"idTag": "X"}]
    else:
        frame = [2, "a1", "Authorize", {"idToken": {"idToken": "X", "type": "ISO14443"}}]
    async with raw_client(quick.url(), version) as websocket:
        assert (await exchange(websocket, frame))[:3] == [4, "a1", "InternalError"]
        await _assert_still_up(websocket)


class _UsedUpPin(AllowListAuthorizer):
    """Like the payment layer with an app token: a new start is refused (its remote start's pin
    was used up by the session), the session it started goes on being accepted."""

    async def authorize(self, charge_point_id: str, id_token: str) -> AuthorizationResult:
        return AuthorizationResult(AuthorizationStatus.BLOCKED, "an app token without a remote start here")

    async def authorize_session(
        self, session_id: int, charge_point_id: str, id_token: str
    ) -> AuthorizationResult:
        return AuthorizationResult(AuthorizationStatus.ACCEPTED)


async def test_a_replayed_start_is_answered_for_its_session(quick: Harness) -> None:
    """1.6: the charger did not get the StartTransaction answer and sends the start again on a
    new connection. It is answered for the session it started (Accepted, the same transaction),
    not as a new start, which a used-up remote-start pin refused."""
    quick.service.authorizer = _UsedUpPin()
    async with raw_client(quick.url(), "1.6") as websocket:
        first = await exchange(websocket, _start("start-1", 1000))
    async with raw_client(quick.url(), "1.6") as websocket:
        again = await exchange(websocket, _start("start-9", 1000))
    assert again[2] == first[2]
    assert again[2]["idTagInfo"]["status"] == "Accepted"
