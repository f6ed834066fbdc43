"""No arithmetic failure leaves a session unbilled (issue 14, point 4): a session whose bill
cannot be made still ends, billed as far as it can be, and is flagged for an operator.

Before: a tariff of 2**70 per kWh (stored before the API bounded prices) made a bill that did not
fit SQLite's INTEGER, and a reading a charger dated before the session's start made pricing
raise; either way every later reading and the end failed, and the session stayed `active`."""

from __future__ import annotations

import datetime as dt

import pytest

from mobility.charging.events import EndReason, MeterReading, SessionEnded
from mobility.charging.service import ChargingService
from mobility.charging.store import ChargingStore
from mobility.db import create_db_engine
from mobility.payments.models import ChannelRecord
from mobility.payments.service import PaymentService
from mobility.payments.store import PaymentStore
from mobility.payments.tariff import Tariff
from mobility.wire.codec import Ed25519Address
from testkit.clock import ManualClock
from testkit.commands import Recorder
from tests.payments.test_service import CHANNEL, DRIVER, T0, TARIFF, started

HUGE = Tariff.model_validate(
    {
        "id": "city",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 2**70}]}],
    }
)


def _store(database_url: str, tariff: Tariff) -> PaymentStore:
    store = PaymentStore(create_db_engine(database_url))
    store.add_tariff(tariff, T0)
    store.add_account("alice", "driver")
    store.add_id_token("04A2B3C4", "alice")
    payer = Ed25519Address.from_public_key(DRIVER.public_key).to_bytes().hex()
    store.add_channel(
        ChannelRecord(
            channel_id=CHANNEL.hex(),
            account_id="alice",
            payer_address=payer,
            deposit=20_000_000,
            expiry=T0 + dt.timedelta(days=30),
        )
    )
    return store


@pytest.fixture
def flags() -> list[tuple[int, str]]:
    return []


def _service(store: PaymentStore, flags: list[tuple[int, str]] | None = None) -> PaymentService:
    if flags is None:
        return PaymentService(store, Recorder(), lambda _cp: "city", clock=ManualClock(T0))

    def flag(session_id: int, reason: str) -> None:
        flags.append((session_id, reason))

    return PaymentService(store, Recorder(), lambda _cp: "city", clock=ManualClock(T0), flag_session=flag)


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


async def test_a_bill_too_large_to_store_still_ends_the_session(database_url: str) -> None:
    store = _store(database_url, HUGE)
    service = _service(store)
    await service.handle(started())
    await service.handle(MeterReading("CP1", 1, 1, 1_000, 1_000, _at(5)))
    await service.handle(SessionEnded(1, "CP1", 1, "tx1", 2_000, EndReason.LOCAL, False, _at(10)))
    record = store.session(1)
    assert record is not None
    assert record.status != "active"
    assert (record.ended_at, record.energy_wh, record.billed) == (_at(10), 2_000, 0)
    store.engine.dispose()


async def test_a_bill_too_large_is_flagged_once(database_url: str, flags: list[tuple[int, str]]) -> None:
    store = _store(database_url, HUGE)
    service = _service(store, flags)
    await service.handle(started())
    for minute in (1, 2, 3):
        await service.handle(MeterReading("CP1", 1, 1, 100 * minute, 100 * minute, _at(minute)))
    await service.handle(SessionEnded(1, "CP1", 1, "tx1", 400, EndReason.LOCAL, False, _at(4)))
    assert [session_id for session_id, _ in flags] == [1]
    assert "not priced" in flags[0][1]
    store.engine.dispose()


async def test_a_reading_dated_before_the_start_is_billed_and_flagged(
    database_url: str, flags: list[tuple[int, str]]
) -> None:
    store = _store(database_url, TARIFF)
    service = _service(store, flags)
    await service.handle(started())
    await service.handle(MeterReading("CP1", 1, 1, 500, 500, _at(-1)))  # the charger's clock moved back
    await service.handle(SessionEnded(1, "CP1", 1, "tx1", 2_000, EndReason.LOCAL, False, _at(10)))
    record = store.session(1)
    assert record is not None
    assert (record.ended_at, record.energy_wh) == (_at(10), 2_000)
    assert record.billed == 714_000  # 2 kWh at 0.30 + 19 % VAT: the last reading, priced alone
    assert [session_id for session_id, _ in flags] == [1]
    assert "last reading only" in flags[0][1]
    store.engine.dispose()


async def test_the_charging_session_carries_the_first_flag(database_url: str) -> None:
    engine = create_db_engine(database_url)
    store = ChargingStore(engine)
    store.register_charge_point("CP1", None)
    service = ChargingService(store)
    session = await service.start_session("CP1", 1, "04A2B3C4", 0, T0)
    assert session.id is not None
    service.flag_session(session.id, "not priced: OverflowError")
    service.flag_session(session.id, "a later reason")
    await service.journal.flushed()
    flagged = store.session(session.id)
    assert flagged is not None
    assert (flagged.flagged, flagged.flag_reason) == (True, "not priced: OverflowError")
    engine.dispose()
