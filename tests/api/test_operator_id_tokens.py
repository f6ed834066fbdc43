"""Operator ID tokens: the routes (create, list, read, update, delete; one operator never sees
another's), and authorization honouring each OCPP status at the operator's charge points, on
every version, in raw frames."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from mobility.charging.auth_order import AuthorizationOrder
from mobility.engine import Engine
from testkit.clock import ManualClock
from tests.api.conftest import operator
from tests.api.operator_world import PASSWORD, register
from tests.api.station_world import START, VERSIONS, add_token
from tests.ocpp.conftest import raw_client
from tests.ocpp.frames import boot, exchange


async def test_tokens_are_the_operators_own(engine: Engine, http: httpx.AsyncClient) -> None:
    mine, theirs = await operator(engine, "op-t1"), await operator(engine, "op-t2")
    expires = "2027-01-01T00:00:00Z"
    created = await add_token(
        http, mine, "04a2b3c4", status="Blocked", expires_at=expires, token_type="ISO15693"
    )
    assert (created["id_token"], created["status"], created["token_type"]) == (
        "04A2B3C4",
        "Blocked",
        "ISO15693",
    )
    again = await http.post("/operator/id-tokens", json={"id_token": "04A2B3C4"}, headers=mine)
    assert again.status_code == 409
    assert (await http.get("/operator/id-tokens/04A2B3C4", headers=theirs)).status_code == 404
    await add_token(http, theirs, "04A2B3C4")  # the same token in another operator's list
    app = await http.post("/operator/id-tokens", json={"id_token": "APP0123456789ABCDEF"}, headers=mine)
    assert app.status_code == 422
    for bad in (
        {"id_token": ""},
        {"id_token": "a b"},
        {"id_token": "X" * 37},
        {"id_token": "X", "status": "Maybe"},
    ):
        assert (await http.post("/operator/id-tokens", json=bad, headers=mine)).status_code == 422

    patched = await http.patch(
        "/operator/id-tokens/04a2b3c4", json={"status": "Accepted", "expires_at": None}, headers=mine
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["status"], patched.json()["expires_at"]) == ("Accepted", None)
    assert (
        await http.patch("/operator/id-tokens/04A2B3C4", json={"status": None}, headers=mine)
    ).status_code == 422
    listed = (await http.get("/operator/id-tokens", headers=mine)).json()
    assert [t["id_token"] for t in listed["items"]] == ["04A2B3C4"]
    assert listed["total"] == 1
    theirs_now = (await http.get("/operator/id-tokens/04A2B3C4", headers=theirs)).json()
    assert (theirs_now["status"], theirs_now["token_type"]) == ("Accepted", "ISO14443")

    assert (await http.delete("/operator/id-tokens/04A2B3C4", headers=mine)).status_code == 204
    assert (await http.delete("/operator/id-tokens/04A2B3C4", headers=mine)).status_code == 404
    assert (await http.get("/operator/id-tokens/04A2B3C4", headers=mine)).status_code == 404
    assert (await http.get("/operator/id-tokens/04A2B3C4", headers=theirs)).status_code == 200
    read_only = await operator(engine, "op-t3", frozenset({"chargers:read"}))
    assert (
        await http.post("/operator/id-tokens", json={"id_token": "X1"}, headers=read_only)
    ).status_code == 403


def _authorize(version: str, token: str, message_id: str) -> list[Any]:
    if version == "1.6":
        return [2, message_id, "Authorize", {"idTag": token}]
    return [2, message_id, "Authorize", {"idToken": {"idToken": token, "type": "ISO14443"}}]


def _status(version: str, answer: list[Any]) -> str:
    assert answer[0] == 3, answer
    info = answer[2]["idTagInfo" if version == "1.6" else "idTokenInfo"]
    return str(info["status"])


@pytest.mark.parametrize("version", VERSIONS)
async def test_authorization_answers_each_listed_status(
    engine: Engine, http: httpx.AsyncClient, version: str
) -> None:
    headers, other = await operator(engine, "op-a1"), await operator(engine, "op-a2")
    clock = ManualClock(START)
    authorizer = engine.charging.authorizer
    assert isinstance(authorizer, AuthorizationOrder)
    authorizer.clock = clock
    soon = (START + dt.timedelta(hours=1)).isoformat()
    for token, status in (("ACC", "Accepted"), ("BLK", "Blocked"), ("INV", "Invalid"), ("EXP", "Expired")):
        await add_token(http, headers, token, status=status)
    await add_token(http, headers, "SOON", expires_at=soon)
    await add_token(http, other, "THEIRS")  # another operator's: not honoured here
    cp = f"AUTH-{version}"
    await register(http, headers, cp)
    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/{cp}"
    async with raw_client(url, version, cp, PASSWORD) as ws:
        assert (await exchange(ws, boot(version)))[2]["status"] == "Accepted"
        expected = {
            "acc": "Accepted",
            "BLK": "Blocked",
            "INV": "Invalid",
            "EXP": "Expired",
            "SOON": "Accepted",
            "THEIRS": "Invalid",
            "NOBODY": "Invalid",
        }
        seen = {
            token: _status(version, await exchange(ws, _authorize(version, token, f"a-{token}")))
            for token in expected
        }
        assert seen == expected
        clock.advance(hours=1)  # SOON's expiry
        assert _status(version, await exchange(ws, _authorize(version, "SOON", "later"))) == "Expired"
        blocked = await http.patch("/operator/id-tokens/ACC", json={"status": "Blocked"}, headers=headers)
        assert blocked.status_code == 200
        assert _status(version, await exchange(ws, _authorize(version, "ACC", "blocked"))) == "Blocked"
        assert (await http.delete("/operator/id-tokens/ACC", headers=headers)).status_code == 204
        # Unlisted, the payment rules decide: no account has this token.
        assert _status(version, await exchange(ws, _authorize(version, "ACC", "unlisted"))) == "Invalid"
