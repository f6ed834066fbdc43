"""A token has one owner (issue 14, point 11): a fleet could register a driver's app token
(`APP...`) before the driver first used it (201), and the driver's first remote start then
silently overwrote the fleet's entry. Both are 409 now, and nothing changes."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mobility.engine import Engine
from mobility.payments.accounts import app_id_token
from mobility.wallet.api_client import DriverApiError
from tests.api.conftest import fleet
from tests.api.driver_world import add_tariff, charger, driver_api, fund, open_channel, place_charger


async def _vehicle(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await http.post("/fleet/vehicles", json={"label": "van"}, headers=headers)
    assert response.status_code == 201, response.text
    vehicle_id: str = response.json()["id"]
    return vehicle_id


async def test_a_fleet_cannot_claim_a_drivers_app_token(engine: Engine, http: httpx.AsyncClient) -> None:
    victim = await driver_api(http, 0x63)
    token = app_id_token(victim.account_id or "")
    headers = await fleet(engine, "fleet-claims")
    vehicle = await _vehicle(http, headers)
    for spelling in (token, token.lower()):
        body = {"token": spelling, "driver_name": "mallory"}
        response = await http.post(f"/fleet/vehicles/{vehicle}/tokens", json=body, headers=headers)
        assert response.status_code == 409, response.text
    store = engine.api.state.context.payment_store
    assert await asyncio.to_thread(store.account_for_token, token) is None
    # Any token of that shape is the apps', used yet or not: no oracle for which accounts exist.
    body = {"token": "APP0123456789ABCDEF", "driver_name": "x"}
    assert (
        await http.post(f"/fleet/vehicles/{vehicle}/tokens", json=body, headers=headers)
    ).status_code == 409
    ordinary = {"token": "04A2B3C4D5", "driver_name": "x"}
    assert (
        await http.post(f"/fleet/vehicles/{vehicle}/tokens", json=ordinary, headers=headers)
    ).status_code == 201


async def test_a_remote_start_does_not_take_a_token_another_account_holds(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    # The clash as data from before the fix left it: the fleet holds the driver's app token.
    await add_tariff(engine)
    driver = await driver_api(http, 0x64)
    await fund(engine, [driver.seed])
    channel = await open_channel(engine, driver, 1_000_000)
    await driver.register_channel(channel)
    place_charger(engine, "CP-TOK", 48.1, 11.5)
    token = app_id_token(driver.account_id or "")
    context = engine.api.state.context
    await asyncio.to_thread(context.payment_store.add_account, "fleet-old", "fleet")
    await asyncio.to_thread(context.payment_store.add_id_token, token, "fleet-old")

    async with charger(engine, "CP-TOK") as cp:
        with pytest.raises(DriverApiError) as refused:
            await driver.start("CP-TOK", 1, channel)
        assert (refused.value.status, refused.value.kind) == (409, "token-taken")
        assert cp.received == []  # nothing reached the charger
    account = await asyncio.to_thread(context.payment_store.account_for_token, token)
    assert account is not None
    assert account.id == "fleet-old"  # the row is the fleet's still
