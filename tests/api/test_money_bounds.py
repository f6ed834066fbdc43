"""Money and energy fields are bounded at the API (issue 14, point 4): a tariff of 2**70 per kWh
was accepted, and the next session's bill overflowed the database. Refused with 422, nothing
stored; at the bounds, accepted."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

import pow_rs
from mobility.engine import Engine
from mobility.limits import MAX_PRICE
from mobility.wire.codec import Voucher, VoucherPayload
from tests.api.conftest import operator
from tests.api.driver_world import add_tariff, driver_api, fund, open_channel


def _tariff(component: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "bounded", "currency": "EUR", "elements": [{"price_components": [component]}], **extra}


ENERGY = {"type": "ENERGY", "price": 300_000, "vat_bp": 1900}
OVER = [
    _tariff({**ENERGY, "price": 2**70}),
    _tariff({**ENERGY, "price": MAX_PRICE + 1}),
    _tariff({"type": "FLAT", "price": MAX_PRICE + 1}),
    _tariff({**ENERGY, "vat_bp": 10_001}),
    _tariff({**ENERGY, "step_size": 10**6 + 1}),
    _tariff(ENERGY, min_price={"excl_vat": 2**63, "incl_vat": 2**63}),
    _tariff(ENERGY, version=2**40),
    {"id": "bounded", "currency": "EUR", "elements": [{"price_components": [ENERGY]}] * 101},
    {**_tariff(ENERGY), "elements": [{"price_components": [ENERGY], "restrictions": {"min_wh": 10**13}}]},
]


@pytest.mark.parametrize("body", OVER)
async def test_a_tariff_outside_the_bounds_is_refused(
    engine: Engine, http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    headers = await operator(engine, "op-b")
    response = await http.post("/operator/tariffs", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert (await http.get("/operator/tariffs", headers=headers)).json()["total"] == 0


async def test_a_tariff_at_the_bounds_is_taken(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await operator(engine, "op-b")
    top = {"price": MAX_PRICE, "vat_bp": 10_000, "step_size": 10**6}
    body = _tariff(
        {"type": "ENERGY", **top},
        min_price={"excl_vat": MAX_PRICE, "incl_vat": MAX_PRICE},
    )
    body["elements"].append(
        {"price_components": [{"type": "TIME", **top}, {"type": "FLAT", "price": MAX_PRICE}]}
    )
    response = await http.post("/operator/tariffs", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def test_a_voucher_nonce_beyond_a_signed_64_bit_integer_is_malformed(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    # It passed every check, then failed the database write and took the stream down.
    await add_tariff(engine)
    api = await driver_api(http, 0x62)
    await fund(engine, [api.seed])
    channel_id = await open_channel(engine, api, 1_000_000)
    await api.register_channel(channel_id)
    key = pow_rs.SigningKey(api.seed)
    body = Voucher(channel_id, 2**63, 1_000)
    payload = VoucherPayload(body, key.public_key, key.sign(body.signing_message()))
    url = f"ws://127.0.0.1:{engine.api_port}/driver/stream?token={api.token}"
    async with connect(url) as socket:
        assert json.loads(await socket.recv())["type"] == "ready"
        await socket.send(json.dumps({"type": "voucher", "id": 1, "voucher": payload.to_bytes().hex()}))
        answer = json.loads(await socket.recv())
        assert (answer["accepted"], answer["reason"]) == (False, "malformed")
        good = Voucher(channel_id, 1, 1_000)
        signed = VoucherPayload(good, key.public_key, key.sign(good.signing_message()))
        await socket.send(json.dumps({"type": "voucher", "id": 2, "voucher": signed.to_bytes().hex()}))
        assert json.loads(await socket.recv())["accepted"] is True
