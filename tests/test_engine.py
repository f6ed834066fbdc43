"""The whole engine in one process, driven from outside: a 1.6 charge point over a real
websocket, a driver paying through a channel on the embedded ledger, settlement confirmed by
the embedded coordinator."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mobility.devnet import faucet_seed, operator_seed
from mobility.engine import Engine
from mobility.ledger.client import InProcessClient
from mobility.payments.models import ChannelRecord
from mobility.payments.pricing import MeterSample, price_session
from mobility.payments.service import PaymentRequest
from mobility.payments.tariff import Tariff
from mobility.wallet.ledger import Wallet
from ocpp_server._ocpp import call16
from tests.api.conftest import running_engine
from tests.ocpp.clients import Client16
from tests.ocpp.conftest import library_client

DRIVER_SEED = bytes([0x5E]) * 32
TARIFF = Tariff.model_validate(
    {
        "id": "default",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 300_000, "vat_bp": 1900}]}],
    }
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with running_engine(f"sqlite:///{tmp_path / 'engine.db'}", tmp_path) as built:
        yield built


async def milestone(engine: Engine) -> None:
    assert engine.coordinator is not None
    await asyncio.to_thread(engine.coordinator.issue)


def iso(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def meter(at: dt.datetime, register_wh: int) -> list[dict[str, Any]]:
    sample = {"value": str(register_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    return [{"timestamp": iso(at), "sampled_value": [sample]}]


async def paying_driver(engine: Engine, data_dir: Path) -> tuple[Wallet, Wallet, bytes, dt.datetime]:
    """A funded driver with a channel to the operator, registered with the payment layer."""
    assert engine.payments is not None
    client = InProcessClient(engine.node)
    faucet, driver = Wallet(client, faucet_seed(data_dir)), Wallet(client, DRIVER_SEED)
    operator = Wallet(client, operator_seed(data_dir))
    await faucet.transfer(driver.address, 5_000_000)
    await milestone(engine)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    _, channel_id = await driver.open_channel(operator.address, 2_000_000, now + dt.timedelta(days=30))
    await milestone(engine)
    store = engine.payments.store
    store.add_tariff(TARIFF, now)
    store.add_account("driver", "driver")
    store.add_id_token("D71VER", "driver")
    store.add_channel(
        ChannelRecord(
            channel_id=channel_id.hex(),
            account_id="driver",
            payer_address=driver.address.to_bytes().hex(),
            deposit=2_000_000,
            expiry=now + dt.timedelta(days=30),
        )
    )
    return driver, operator, channel_id, now


async def test_a_paid_session_over_ocpp_settles_on_the_embedded_ledger(
    engine: Engine, tmp_path: Path
) -> None:
    assert engine.payments is not None
    assert engine.settler is not None
    driver, operator, channel_id, now = await paying_driver(engine, tmp_path)
    store = engine.payments.store
    requests: list[PaymentRequest] = []

    async def remember(request: PaymentRequest) -> None:
        requests.append(request)

    engine.payments.subscribe(remember)
    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/CP-7"
    async with library_client(url, "1.6", Client16, charge_point_id="CP-7") as cp:
        await cp.call(call16.BootNotification(charge_point_vendor="sim", charge_point_model="m1"))
        refused = await cp.call(call16.Authorize(id_tag="STRANGER"))
        assert refused.id_tag_info["status"] == "Invalid"
        assert (await cp.call(call16.Authorize(id_tag="d71ver"))).id_tag_info["status"] == "Accepted"
        started = await cp.call(
            call16.StartTransaction(connector_id=1, id_tag="d71ver", meter_start=50_000, timestamp=iso(now))
        )
        tx = started.transaction_id
        samples = []
        for minute in range(1, 11):  # 11 kW: 183 Wh a minute
            nonce = minute
            await engine.payments.submit_voucher(driver.voucher(channel_id, nonce, requests[-1].amount))
            at = now + dt.timedelta(minutes=minute)
            energy = 11_000 * minute // 60
            samples.append(MeterSample(at, energy))
            await cp.call(
                call16.MeterValues(connector_id=1, transaction_id=tx, meter_value=meter(at, 50_000 + energy))
            )
        await engine.payments.submit_voucher(driver.voucher(channel_id, 11, requests[-1].amount))
        end = now + dt.timedelta(minutes=10)
        await cp.call(
            call16.StopTransaction(transaction_id=tx, meter_stop=50_000 + energy, timestamp=iso(end))
        )
        await engine.payments.commands_sent()
        assert cp.received == []  # a paying driver is never limited or stopped

    (session,) = [s for s in [store.session(i) for i in range(1, 5)] if s is not None]
    assert session.billed == price_session(TARIFF, now, samples, ended_at=end).total_incl_vat
    assert session.status == "paid"

    for _ in range(2):
        await engine.settler.run_once()
    await milestone(engine)
    (confirmed,) = await engine.settler.run_once()
    assert confirmed.status == "confirmed"
    assert await operator.balance() == confirmed.amount


async def test_a_driver_who_stops_paying_is_stopped_over_ocpp(engine: Engine, tmp_path: Path) -> None:
    assert engine.payments is not None
    _, _, _, now = await paying_driver(engine, tmp_path)
    url = f"ws://127.0.0.1:{engine.central.port}/ocpp/CP-8"
    async with library_client(url, "1.6", Client16, charge_point_id="CP-8") as cp:
        await cp.call(call16.BootNotification(charge_point_vendor="sim", charge_point_model="m1"))
        started = await cp.call(
            call16.StartTransaction(connector_id=1, id_tag="D71VER", meter_start=0, timestamp=iso(now))
        )
        at = now + dt.timedelta(minutes=5)  # 1 kWh and not a single voucher: no credit left
        await cp.call(
            call16.MeterValues(
                connector_id=1, transaction_id=started.transaction_id, meter_value=meter(at, 1_000)
            )
        )
        await engine.payments.commands_sent()  # the stop goes out after the MeterValues answer
        assert cp.received == [("RemoteStopTransaction", {"transaction_id": started.transaction_id})]
