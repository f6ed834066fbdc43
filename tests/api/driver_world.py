"""Helpers for the driver API tests: funded drivers with channels on the engine's embedded
ledger, placed chargers, a tariff, and a 1.6 charge point that starts what it is asked to."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlmodel import Session

from mobility.charging.models import ChargePointRecord
from mobility.devnet import faucet_seed
from mobility.engine import Engine
from mobility.ledger.client import InProcessClient
from mobility.payments.tariff import Tariff
from mobility.wallet.api_client import DriverApi
from mobility.wallet.ledger import Wallet
from ocpp_server._ocpp import call16
from tests.ocpp.clients import Client16
from tests.ocpp.conftest import library_client

TARIFF = Tariff.model_validate(
    {
        "id": "default",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 300_000, "vat_bp": 1900}]}],
    }
)
WINDOW = 178_500  # 0.5 kWh at 0.30 + 19 % VAT


def iso(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def meter(at: dt.datetime, register_wh: int) -> list[dict[str, Any]]:
    sample = {"value": str(register_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    return [{"timestamp": iso(at), "sampled_value": [sample]}]


async def milestone(engine: Engine) -> None:
    assert engine.coordinator is not None
    await asyncio.to_thread(engine.coordinator.issue)


async def add_tariff(engine: Engine, tariff: Tariff = TARIFF) -> None:
    store = engine.api.state.context.payment_store
    await asyncio.to_thread(store.add_tariff, tariff, dt.datetime.now(dt.UTC))


async def fund(engine: Engine, seeds: list[bytes], amount: int = 10_000_000) -> None:
    """Give each seed's address `amount` from the faucet (one milestone for all)."""
    client = InProcessClient(engine.node)
    faucet = Wallet(client, faucet_seed(engine.settings.data_dir))
    for seed in seeds:
        await faucet.transfer(Wallet(client, seed).address, amount)
        await milestone(engine)


async def driver_api(http: httpx.AsyncClient, seed_byte: int) -> DriverApi:
    """A signed-up, logged-in driver using the SDK."""
    api = DriverApi(http, bytes([seed_byte]) * 32)
    await api.sign_up()
    await api.log_in()
    await api.operator()
    return api


async def open_channel(engine: Engine, api: DriverApi, deposit: int, days: int = 30) -> bytes:
    """A channel of `deposit` from the driver to the operator, confirmed (not yet registered)."""
    expiry = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=days)
    _, channel_id = await api.open_channel(deposit, expiry)
    await milestone(engine)
    return channel_id


def place_charger(
    engine: Engine, charge_point_id: str, lat: float, lon: float, site: str = "", tariff_id: str | None = None
) -> None:
    """Register a charger with an operator, a site and a location (the operator API's job)."""
    store = engine.api.state.context.charging
    record = store.ensure_charge_point(charge_point_id)
    with Session(engine.api.state.context.payment_store.engine) as db:
        row = db.get(ChargePointRecord, record.id)
        assert row is not None
        row.operator_id, row.site, row.latitude, row.longitude, row.tariff_id = (
            "op",
            site,
            lat,
            lon,
            tariff_id,
        )
        db.add(row)
        db.commit()


@contextlib.asynccontextmanager
async def charger(engine: Engine, charge_point_id: str) -> AsyncIterator[Client16]:
    """A booted 1.6 charge point connected to the engine."""
    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/{charge_point_id}"
    async with library_client(url, "1.6", Client16, charge_point_id=charge_point_id) as cp:
        await cp.call(call16.BootNotification(charge_point_vendor="sim", charge_point_model="m1"))
        yield cp
