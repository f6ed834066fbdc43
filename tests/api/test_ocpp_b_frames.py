"""The OCPP frames of reservations, local lists, the cache and operator remote control, on
1.6, 2.0.1 and 2.1, as a raw charger sees them: what each operator command sends, how the
answer is read, and how the engine answers the charger's own messages (a start on a connector
reserved for another token, ReservationStatusUpdate)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from mobility.engine import Engine
from testkit.clock import ManualClock
from tests.api.conftest import operator
from tests.api.operator_world import PASSWORD, register
from tests.api.station_world import START, VERSIONS, add_token
from tests.ocpp.conftest import raw_client
from tests.ocpp.frames import boot, exchange, receive

EXPIRES = START + dt.timedelta(hours=1)


async def _sent(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    ws: ClientConnection,
    cp: str,
    body: dict[str, Any],
    answer: dict[str, Any],
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """POST a command, answer the CALL it makes with `answer`: (action, payload, CommandOut)."""
    posted = asyncio.create_task(http.post(f"/operator/chargers/{cp}/commands", json=body, headers=headers))
    kind, message_id, action, payload = await receive(ws)
    assert kind == 2
    await ws.send(json.dumps([3, message_id, answer]))
    response = await posted
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return action, payload, out


def _start(
    version: str, connector_id: int, token: str, message_id: str, reservation_id: int | None = None
) -> list[Any]:
    if version == "1.6":
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "idTag": token,
            "meterStart": 0,
            "timestamp": "2026-06-01T08:00:00Z",
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
        return [2, message_id, "StartTransaction", payload]
    payload = {
        "eventType": "Started",
        "timestamp": "2026-06-01T08:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": f"tx-{message_id}"},
        "evse": {"id": connector_id, "connectorId": 1},
        "idToken": {"idToken": token, "type": "ISO14443"},
    }
    if reservation_id is not None:
        payload["reservationId"] = reservation_id
    return [2, message_id, "TransactionEvent", payload]


def _token_status(version: str, answer: list[Any]) -> str:
    assert answer[0] == 3, answer
    return str(answer[2]["idTagInfo" if version == "1.6" else "idTokenInfo"]["status"])


@pytest.mark.parametrize("version", VERSIONS)
async def test_frames_of_reservations_local_lists_and_remote_control(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    headers = await operator(engine, "op-frames")
    engine.charging.reservations.clock = ManualClock(START)
    await add_token(http, headers, "RESV-A")
    await add_token(http, headers, "CARD-X")  # Accepted, unbilled: the payment layer leaves it be
    await add_token(http, headers, "CARD-2", status="Blocked", expires_at="2027-01-01T00:00:00Z")
    cp = f"FR-{version}"
    await register(http, headers, cp)
    v16 = version == "1.6"
    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/{cp}"
    async with raw_client(url, version, cp, PASSWORD) as ws:
        assert (await exchange(ws, boot(version)))[2]["status"] == "Accepted"

        reserve = {
            "type": "reserve_now",
            "connector_id": 1,
            "id_token": "RESV-A",
            "expires_at": EXPIRES.isoformat(),
        }
        action, payload, out = await _sent(http, headers, ws, cp, reserve, {"status": "Accepted"})
        reservation_id = out["response"]["reservation_id"]
        expiry = "2026-06-01T09:00:00Z"
        assert action == "ReserveNow"
        if v16:
            assert payload == {
                "connectorId": 1,
                "expiryDate": expiry,
                "idTag": "RESV-A",
                "reservationId": reservation_id,
            }
        else:
            token = {"idToken": "RESV-A", "type": "Central"}
            assert payload == {"id": reservation_id, "expiryDateTime": expiry, "idToken": token, "evseId": 1}

        # A charger that ignores its reservation: the engine refuses another token's start there,
        # though the operator accepts that token anywhere else.
        assert _token_status(version, await exchange(ws, _start(version, 1, "CARD-X", "s1"))) == "Invalid"
        answer = await exchange(ws, _start(version, 1, "RESV-A", "s2", reservation_id))
        assert _token_status(version, answer) == "Accepted"
        used = await asyncio.to_thread(engine.charging.reservations.repository.get, cp, reservation_id)
        assert used is not None
        assert used.state == "used"

        second = {**reserve, "connector_id": 2}
        _, _, out = await _sent(http, headers, ws, cp, second, {"status": "Accepted"})
        second_id = out["response"]["reservation_id"]
        cancel = {"type": "cancel_reservation", "reservation_id": second_id}
        action, payload, out = await _sent(http, headers, ws, cp, cancel, {"status": "Accepted"})
        assert (action, payload, out["status"]) == (
            "CancelReservation",
            {"reservationId": second_id},
            "Accepted",
        )

        action, payload, out = await _sent(
            http, headers, ws, cp, {"type": "send_local_list"}, {"status": "Accepted"}
        )
        assert action == "SendLocalList"
        if v16:
            assert payload == {
                "listVersion": 1,
                "updateType": "Full",
                "localAuthorizationList": [
                    {
                        "idTag": "CARD-2",
                        "idTagInfo": {"status": "Blocked", "expiryDate": "2027-01-01T00:00:00Z"},
                    },
                    {"idTag": "CARD-X", "idTagInfo": {"status": "Accepted"}},
                    {"idTag": "RESV-A", "idTagInfo": {"status": "Accepted"}},
                ],
            }
        else:
            assert payload == {
                "versionNumber": 1,
                "updateType": "Full",
                "localAuthorizationList": [
                    {
                        "idToken": {"idToken": "CARD-2", "type": "ISO14443"},
                        "idTokenInfo": {"status": "Blocked", "cacheExpiryDateTime": "2027-01-01T00:00:00Z"},
                    },
                    {
                        "idToken": {"idToken": "CARD-X", "type": "ISO14443"},
                        "idTokenInfo": {"status": "Accepted"},
                    },
                    {
                        "idToken": {"idToken": "RESV-A", "type": "ISO14443"},
                        "idTokenInfo": {"status": "Accepted"},
                    },
                ],
            }
        assert (out["status"], out["response"]["version"]) == ("Accepted", 1)
        # A charger that refuses the list: the version it holds does not move.
        _, payload, out = await _sent(
            http, headers, ws, cp, {"type": "send_local_list"}, {"status": "Failed"}
        )
        assert payload["listVersion" if v16 else "versionNumber"] == 2
        assert out["status"] == "Failed"
        _, payload, _ = await _sent(
            http, headers, ws, cp, {"type": "send_local_list"}, {"status": "Accepted"}
        )
        assert payload["listVersion" if v16 else "versionNumber"] == 2

        version_answer = {"listVersion": 2} if v16 else {"versionNumber": 2}
        action, payload, out = await _sent(
            http, headers, ws, cp, {"type": "get_local_list_version"}, version_answer
        )
        assert (action, payload, out["status"]) == ("GetLocalListVersion", {}, "Accepted")
        action, payload, out = await _sent(
            http, headers, ws, cp, {"type": "clear_cache"}, {"status": "Rejected"}
        )
        assert (action, payload, out["status"]) == ("ClearCache", {}, "Rejected")

        start = {"type": "remote_start", "id_token": "RESV-A", "connector_id": 2}
        action, payload, out = await _sent(http, headers, ws, cp, start, {"status": "Accepted"})
        if v16:
            assert (action, payload) == ("RemoteStartTransaction", {"connectorId": 2, "idTag": "RESV-A"})
        else:
            assert action == "RequestStartTransaction"
            assert (payload["evseId"], payload["idToken"]) == (2, {"idToken": "RESV-A", "type": "Central"})
        ref = str(answer[2]["transactionId"]) if v16 else "tx-s2"
        stop = {"type": "remote_stop", "transaction_id": int(ref) if v16 else ref}
        action, payload, out = await _sent(http, headers, ws, cp, stop, {"status": "Accepted"})
        if v16:
            assert (action, payload) == ("RemoteStopTransaction", {"transactionId": int(ref)})
        else:
            assert (action, payload) == ("RequestStopTransaction", {"transactionId": ref})

        if not v16:
            # The station reports a reservation gone: answered with an empty payload, row updated.
            third = {**reserve, "connector_id": 2}
            _, _, out = await _sent(http, headers, ws, cp, third, {"status": "Accepted"})
            third_id = out["response"]["reservation_id"]
            update = {"reservationId": third_id, "reservationUpdateStatus": "Removed"}
            assert await exchange(ws, [2, "r1", "ReservationStatusUpdate", update]) == [3, "r1", {}]
            removed = await asyncio.to_thread(engine.charging.reservations.repository.get, cp, third_id)
            assert removed is not None
            assert removed.state == "removed"
            unknown = {"reservationId": 999_999, "reservationUpdateStatus": "Expired"}
            assert await exchange(ws, [2, "r2", "ReservationStatusUpdate", unknown]) == [3, "r2", {}]
            bad = {"reservationId": third_id, "reservationUpdateStatus": "Gone"}
            refused = await exchange(ws, [2, "r3", "ReservationStatusUpdate", bad])
            assert refused[:3] == [4, "r3", "PropertyConstraintViolation"]
