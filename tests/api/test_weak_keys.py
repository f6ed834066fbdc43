"""Small-order and non-canonical Ed25519 keys name nobody (issue 14, point 10): a driver signed
up with the all-zero key and the all-zero signature (ZIP-215 accepts it, for any message), after
which anyone could log in as it; the identity point was taken as a fleet payer key. Consensus
verification stays ZIP-215; identities refuse such keys."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mobility.engine import Engine
from mobility.wire.domains import LOGIN_DOMAIN, SIGNUP_DOMAIN
from tests.api.conftest import fleet

ZERO_KEY, ZERO_SIGNATURE = bytes(32), bytes(64)
IDENTITY = bytes([1]) + bytes(31)
# (key, a signature ZIP-215 takes for it over any message): R of small order, S = 0.
WEAK = [(ZERO_KEY, ZERO_SIGNATURE), (IDENTITY, IDENTITY + bytes(32))]


@pytest.mark.parametrize(("key", "signature"), WEAK)
async def test_a_small_order_key_cannot_sign_up(
    engine: Engine, http: httpx.AsyncClient, key: bytes, signature: bytes
) -> None:
    body = {"public_key": key.hex(), "signature": signature.hex(), "name": "mallory"}
    response = await http.post("/driver/signup", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:mobility:problem:weak-key"
    store = engine.api.state.context.api_store
    assert await asyncio.to_thread(store.driver_by_key, key) is None
    assert SIGNUP_DOMAIN  # the proof would have "verified": see the module docstring


async def test_a_weak_key_signed_up_before_cannot_log_in(engine: Engine, http: httpx.AsyncClient) -> None:
    store = engine.api.state.context.api_store
    await asyncio.to_thread(store.add_driver, ZERO_KEY, "signed up before the check")
    challenge = (await http.post("/driver/login/challenge", json={"public_key": ZERO_KEY.hex()})).json()
    assert LOGIN_DOMAIN
    body = {
        "public_key": ZERO_KEY.hex(),
        "challenge": challenge["challenge"],
        "signature": ZERO_SIGNATURE.hex(),
    }
    response = await http.post("/driver/login", json=body)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(("key", "signature"), WEAK)
async def test_a_small_order_key_is_no_fleet_payer_key(
    engine: Engine, http: httpx.AsyncClient, key: bytes, signature: bytes
) -> None:
    headers = await fleet(engine, "fleet-weak")
    body = {"public_key": key.hex(), "signature": signature.hex()}
    response = await http.post("/fleet/payer-keys", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert (await http.get("/fleet/payer-keys", headers=headers)).json()["total"] == 0
