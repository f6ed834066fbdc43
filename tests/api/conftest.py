"""The whole engine (OCPP server, API, embedded ledger, payments) on each database backend,
and an httpx client talking to its API over loopback, with helpers to become each role."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import pow_rs
from mobility.api.auth import ADMIN_SCOPES, FLEET_SCOPES, OPERATOR_SCOPES
from mobility.engine import Engine, EngineOptions
from mobility.ledger.config import LedgerSettings
from mobility.payments.settlement import SettlementPolicy
from mobility.settings import Settings
from mobility.wire.domains import LOGIN_DOMAIN, SIGNUP_DOMAIN

Headers = dict[str, str]
# Tests claim whatever is unclaimed on the next settlement pass rather than batching for hours.
SETTLE_AT_ONCE = SettlementPolicy(threshold=1, interval=dt.timedelta(0))


@contextlib.asynccontextmanager
async def running_engine(database_url: str, data_dir: Path) -> AsyncIterator[Engine]:
    """The whole engine on `database_url`: payments on, unknown chargers admitted, ports
    chosen by the OS, milestones issued by hand, claims made at once."""
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        ocpp_port=0,
        api_port=0,
        accept_unknown_chargers=True,
        payments_enabled=True,
    )
    ledger = LedgerSettings(min_pow_score=1.0, milestone_interval_seconds=3600)
    built = await asyncio.to_thread(Engine.build, settings, EngineOptions(), ledger)
    assert built.settler is not None
    built.settler.policy = SETTLE_AT_ONCE
    await built.start()
    try:
        yield built
    finally:
        await built.stop()


@pytest.fixture
async def engine(database_url: str, tmp_path: Path) -> AsyncIterator[Engine]:
    async with running_engine(database_url, tmp_path) as built:
        yield built


@pytest.fixture
async def http(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{engine.api_port}", timeout=30) as client:
        yield client


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def signup_body(key: pow_rs.SigningKey, name: str = "") -> dict[str, str]:
    """A sign-up request proving it holds `key`."""
    proof = key.sign(SIGNUP_DOMAIN + key.public_key).hex()
    return {"public_key": key.public_key.hex(), "name": name, "signature": proof}


async def sign_up(http: httpx.AsyncClient, key: pow_rs.SigningKey, name: str = "") -> str:
    response = await http.post("/driver/signup", json=signup_body(key, name))
    assert response.status_code == 201, response.text
    account_id: str = response.json()["account_id"]
    return account_id


async def log_in(http: httpx.AsyncClient, key: pow_rs.SigningKey) -> Headers:
    challenge = (await http.post("/driver/login/challenge", json={"public_key": key.public_key.hex()})).json()
    signature = key.sign(LOGIN_DOMAIN + bytes.fromhex(challenge["challenge"]))
    response = await http.post(
        "/driver/login",
        json={
            "public_key": key.public_key.hex(),
            "challenge": challenge["challenge"],
            "signature": signature.hex(),
        },
    )
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


async def driver(http: httpx.AsyncClient, seed_byte: int) -> tuple[pow_rs.SigningKey, str, Headers]:
    """A signed-up, logged-in driver: key, account ID, auth headers."""
    key = pow_rs.SigningKey(bytes([seed_byte]) * 32)
    account_id = await sign_up(http, key)
    return key, account_id, await log_in(http, key)


async def operator(engine: Engine, operator_id: str, scopes: frozenset[str] = OPERATOR_SCOPES) -> Headers:
    store = engine.api.state.context.api_store
    await asyncio.to_thread(store.add_operator, operator_id)
    return bearer((await asyncio.to_thread(store.add_api_key, "operator", operator_id, scopes)).key)


async def admin(engine: Engine, admin_id: str, scopes: frozenset[str] = ADMIN_SCOPES) -> Headers:
    """An engine-admin key (what `mobility admins add` prints)."""
    store = engine.api.state.context.api_store
    return bearer((await asyncio.to_thread(store.add_api_key, "admin", admin_id, scopes)).key)


async def fleet(engine: Engine, account_id: str, scopes: frozenset[str] = FLEET_SCOPES) -> Headers:
    context = engine.api.state.context
    await asyncio.to_thread(context.payment_store.add_account, account_id, "fleet")
    store = context.api_store
    return bearer((await asyncio.to_thread(store.add_api_key, "fleet", account_id, scopes)).key)
