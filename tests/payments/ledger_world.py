"""A payment engine on a real in-process ledger node: payer and operator wallets, the
payment service, and helpers that open a channel and run a paid session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mobility.charging.events import EndReason, MeterReading, SessionEnded, SessionStarted
from mobility.db import create_db_engine
from mobility.ledger.client import InProcessClient
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import LedgerStore
from mobility.payments.models import ChannelRecord
from mobility.payments.service import PaymentService
from mobility.payments.store import PaymentStore
from mobility.payments.tariff import Tariff
from mobility.wallet.ledger import Wallet
from testkit.clock import ManualClock
from testkit.commands import Recorder
from testkit.ledger import COORDINATORS, GENESIS_TX, PARAMS
from tests.ledger.builders import genesis

ALICE_SEED = bytes([0xA1]) * 32  # funded by tests.ledger.builders.genesis
BOB_SEED = bytes([0xB0]) * 32
T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
TARIFF = Tariff.model_validate(
    {
        "id": "city",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 300_000}]}],
    }
)


@dataclass
class Setup:
    node: Node
    client: InProcessClient
    coordinator: Coordinator
    alice: Wallet
    bob: Wallet
    store: PaymentStore
    service: PaymentService
    clock: ManualClock


def make_setup(database_url: str) -> Setup:
    """A node with genesis funds, both wallets and the payment service on one database."""
    engine = create_db_engine(database_url)
    ledger = LedgerStore(engine)
    ledger.add_genesis(genesis(), GENESIS_TX)
    node = Node(ledger, PARAMS)
    client = InProcessClient(node)
    clock = ManualClock(T0)
    store = PaymentStore(engine)
    store.add_tariff(TARIFF, T0)
    store.add_account("alice", "driver")
    store.add_id_token("A11CE", "alice")
    service = PaymentService(store, Recorder(), tariff_for=lambda _cp: "city", clock=clock)
    coordinator = Coordinator(node, COORDINATORS[:2], clock=clock)
    return Setup(
        node, client, coordinator, Wallet(client, ALICE_SEED), Wallet(client, BOB_SEED), store, service, clock
    )


async def open_channel(s: Setup) -> bytes:
    block_id, channel_id = await s.alice.open_channel(s.bob.address, 1_000_000, T0 + dt.timedelta(days=30))
    s.coordinator.issue()
    assert (await s.client.metadata(block_id)) is not None
    s.store.add_channel(
        ChannelRecord(
            channel_id=channel_id.hex(),
            account_id="alice",
            payer_address=s.alice.address.to_bytes().hex(),
            deposit=1_000_000,
            expiry=T0 + dt.timedelta(days=30),
        )
    )
    return channel_id


async def charge(s: Setup, channel_id: bytes, session_id: int, kwh: int, first_nonce: int) -> int:
    """A paid session of `kwh` kWh; the last voucher nonce used."""
    requested: list[int] = []

    async def remember(request: object) -> None:
        requested.append(request.amount)  # type: ignore[attr-defined]

    s.service.subscribe(remember)
    start = s.clock.now
    await s.service.handle(SessionStarted(session_id, "CP1", 1, f"tx{session_id}", "a11ce", 0, start))
    nonce = first_nonce
    for minute in range(1, 6 * kwh + 1):  # 10 kW: 1 kWh per 6 minutes
        nonce += 1
        await s.service.submit_voucher(s.alice.voucher(channel_id, nonce, requested[-1]))
        s.clock.now = start + dt.timedelta(minutes=minute)
        energy = 10_000 * minute // 60
        await s.service.handle(MeterReading("CP1", 1, session_id, energy, energy, s.clock.now))
    await s.service.handle(
        SessionEnded(session_id, "CP1", 1, f"tx{session_id}", kwh * 1000, EndReason.LOCAL, False, s.clock.now)
    )
    return nonce
