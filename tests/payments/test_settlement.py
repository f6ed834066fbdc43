"""Settlement against a real ledger node: a session's vouchers claimed in one transaction,
confirmed by a milestone, with an inclusion proof a fleet can check with pow_rs alone."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import pow_rs
from mobility.charging.events import EndReason, MeterReading, SessionEnded, SessionStarted
from mobility.db import create_db_engine
from mobility.ledger.client import InProcessClient
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import LedgerStore
from mobility.ledger.wallet import Wallet
from mobility.payments.models import ChannelRecord
from mobility.payments.service import PaymentService
from mobility.payments.settlement import SettlementPolicy, Settler
from mobility.payments.store import PaymentStore
from mobility.payments.tariff import Tariff
from tests.ledger.builders import COORDINATORS, GENESIS_TX, PARAMS, genesis
from tests.payments.test_service import Recorder

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


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Setup:
    node: Node
    client: InProcessClient
    coordinator: Coordinator
    alice: Wallet
    bob: Wallet
    store: PaymentStore
    service: PaymentService
    clock: Clock


@pytest.fixture
def setup(database_url: str) -> Iterator[Setup]:
    engine = create_db_engine(database_url)
    ledger = LedgerStore(engine)
    ledger.create_tables()
    ledger.add_genesis(genesis(), GENESIS_TX)
    node = Node(ledger, PARAMS)
    client = InProcessClient(node)
    clock = Clock()
    store = PaymentStore(engine)
    store.add_tariff(TARIFF, T0)
    store.add_account("alice", "driver")
    store.add_id_token("A11CE", "alice")
    service = PaymentService(store, Recorder(), tariff_for=lambda _cp: "city", clock=clock)
    coordinator = Coordinator(node, COORDINATORS[:2], clock=clock)
    yield Setup(
        node, client, coordinator, Wallet(client, ALICE_SEED), Wallet(client, BOB_SEED), store, service, clock
    )
    engine.dispose()


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


async def test_sessions_settle_in_one_claim_with_a_checkable_proof(setup: Setup) -> None:
    s = setup
    channel_id = await open_channel(s)
    nonce = await charge(s, channel_id, 1, 1, 0)
    await charge(s, channel_id, 2, 2, nonce)
    paid = s.store.channel(channel_id.hex())
    assert paid is not None
    assert paid.paid >= 900_000  # 3 kWh at 0.30

    settler = Settler(s.store, s.bob, s.client, SettlementPolicy(threshold=1), clock=s.clock)
    steps = [r.status for r in await settler.run_once()]
    assert steps == ["built"]
    assert [r.status for r in await settler.run_once()] == ["submitted"]
    assert [r.status for r in await settler.run_once()] == ["submitted"]  # waits for a milestone
    s.coordinator.issue()
    (confirmed,) = await settler.run_once()
    assert confirmed.status == "confirmed"
    assert confirmed.amount == paid.paid

    for session_id in (1, 2):
        session = s.store.session(session_id)
        assert session is not None
        assert session.settlement_id == confirmed.id
    on_ledger = await s.client.channel(channel_id)
    assert on_ledger is not None
    assert on_ledger.claimed == paid.paid
    assert await s.bob.balance() == 300_000 + paid.paid

    proof = json.loads(confirmed.proof or "{}")
    assert proof["block_id"] == confirmed.block_id
    assert pow_rs.merkle_verify(
        bytes.fromhex(proof["inclusion_merkle_root"]),
        bytes.fromhex(proof["block_id"]),
        proof["index"],
        proof["count"],
        [bytes.fromhex(h) for h in proof["path"]],
    )
    assert await settler.run_once() == []  # nothing new: no second claim


async def test_a_crash_at_any_step_resumes_without_a_second_claim(setup: Setup) -> None:
    s = setup
    channel_id = await open_channel(s)
    await charge(s, channel_id, 1, 1, 0)
    policy = SettlementPolicy(threshold=1)

    (built,) = await Settler(s.store, s.bob, s.client, policy, clock=s.clock).run_once()
    assert built.status == "built"
    assert built.block is not None
    # The process dies right after submitting, before it records "submitted".
    await s.client.submit(built.block)
    (resumed,) = await Settler(s.store, s.bob, s.client, policy, clock=s.clock).run_once()
    assert (resumed.status, resumed.block_id) == ("submitted", built.block_id)
    s.coordinator.issue()
    (confirmed,) = await Settler(s.store, s.bob, s.client, policy, clock=s.clock).run_once()
    assert confirmed.status == "confirmed"
    assert await s.bob.balance() == 300_000 + confirmed.amount  # claimed once
