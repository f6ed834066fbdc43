"""Ledger transactions per 1,000 sessions under the batching settlement policy, against one
claim per session (`SettlementPolicy(threshold=1, interval=0)`) in the same run.

1,000 seeded sessions (1-6 kWh at 3.7 kW, a meter reading every 7 minutes) spread over 100
payer channels and a simulated week go through the real `PaymentService`, answered by the
payers' wallets with vouchers, on a real SQLite file and an in-process ledger node with its
coordinator. The clock is injected: nothing sleeps. Every simulated 10 minutes the `Settler`
runs once, and a milestone is issued whenever a claim was submitted, so a claim is built,
submitted and confirmed over three ticks. After the week the ticks go on (a simulated day at
most) until every session is settled. The same sessions run under each policy, each on its own
database and ledger. Run: `.venv/bin/python benches/payments_settlement.py`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

import pow_rs
from mobility.charging.events import EndReason, MeterReading, SessionEnded, SessionStarted
from mobility.db import create_db_engine
from mobility.ledger.client import InProcessClient
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import LedgerStore
from mobility.migrate import upgrade
from mobility.payments.models import ChannelRecord, SessionPaymentRecord, SettlementRecord
from mobility.payments.service import PaymentRequest, PaymentService
from mobility.payments.settlement import SettlementPolicy, Settler
from mobility.payments.store import PaymentStore
from mobility.payments.tariff import Tariff
from mobility.wallet.ledger import Wallet
from mobility.wire.codec import BasicOutput, Output, output_id
from testkit.clock import ManualClock
from testkit.commands import Recorder
from testkit.ledger import COORDINATORS, GENESIS_TX, PARAMS

SESSIONS = 1_000
PAYERS = 100
WEEK = dt.timedelta(days=7)
TICK = dt.timedelta(minutes=10)
AFTER_WEEK = dt.timedelta(days=1)  # ticks go on at most this long after the week
POWER_W = 3_700
READING_EVERY = dt.timedelta(minutes=7)  # 432 Wh a reading: under the 0.5 kWh credit window
FUNDS = 200_000_000  # micro-units in genesis for each payer
DEPOSIT = 100_000_000
SEED = 5
T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
OPERATOR_SEED = bytes([0xB0]) * 32
TARIFF = Tariff.model_validate(
    {
        "id": "city",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 300_000}]}],
    }
)


@dataclass(frozen=True, slots=True)
class Plan:
    """One session to drive: who pays, when it starts, how much energy it takes."""

    session_id: int
    payer: int
    start: dt.datetime
    energy_wh: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one policy cost on the ledger."""

    name: str
    claims_submitted: int
    claims_confirmed: int
    claims_failed: int
    sessions_settled: int
    sessions_ended: int
    stops: int
    milestones: int
    seconds: float

    @property
    def sessions_per_claim(self) -> float:
        return self.sessions_settled / self.claims_submitted if self.claims_submitted else 0.0

    @property
    def per_thousand(self) -> float:
        return 1_000 * self.claims_submitted / self.sessions_settled if self.sessions_settled else 0.0


def plans() -> list[Plan]:
    """The seeded sessions, each ending within the week, in start order."""
    rng = random.Random(SEED)
    latest_start = WEEK - dt.timedelta(hours=2)
    planned = [
        Plan(
            session_id=0,
            payer=rng.randrange(PAYERS),
            start=T0 + dt.timedelta(seconds=rng.randrange(int(latest_start.total_seconds()))),
            energy_wh=rng.randrange(1_000, 6_001),
        )
        for _ in range(SESSIONS)
    ]
    planned.sort(key=lambda p: p.start)
    return [Plan(n + 1, p.payer, p.start, p.energy_wh) for n, p in enumerate(planned)]


def events(plan: Plan) -> list[tuple[dt.datetime, SessionStarted | MeterReading | SessionEnded]]:
    """Start, a reading every READING_EVERY at POWER_W until the energy is in, end."""
    cp, ref, token = f"CP{plan.session_id}", f"tx{plan.session_id}", f"TOKEN{plan.payer}"
    timeline: list[tuple[dt.datetime, SessionStarted | MeterReading | SessionEnded]] = [
        (plan.start, SessionStarted(plan.session_id, cp, 1, ref, token, 0, plan.start))
    ]
    at, energy = plan.start, 0
    while energy < plan.energy_wh:
        at += READING_EVERY
        seconds = (at - plan.start).total_seconds()
        energy = min(plan.energy_wh, int(POWER_W * seconds / 3_600))
        timeline.append((at, MeterReading(cp, 1, plan.session_id, energy, energy, at)))
    ended = SessionEnded(plan.session_id, cp, 1, ref, energy, EndReason.LOCAL, False, at)
    timeline.append((at, ended))
    return timeline


def seed_of(payer: int) -> bytes:
    return pow_rs.blake2b_256(b"bench payer %d" % payer)


def genesis(payers: list[Wallet], operator: Wallet) -> dict[bytes, Output]:
    """Funds for every payer and the operator's starting balance (the test genesis is too small)."""
    outputs: list[Output] = [BasicOutput(FUNDS, w.address) for w in payers]
    outputs.append(BasicOutput(300_000, operator.address))
    return {output_id(GENESIS_TX, index): output for index, output in enumerate(outputs)}


class World:
    """Node, coordinator, wallets and the payment engine on one SQLite file."""

    def __init__(self, database_url: str) -> None:
        upgrade(database_url)
        self.engine = create_db_engine(database_url)
        ledger = LedgerStore(self.engine)
        self.node = Node(ledger, PARAMS)
        self.client = InProcessClient(self.node)
        self.clock = ManualClock(T0)
        self.payers = [Wallet(self.client, seed_of(n)) for n in range(PAYERS)]
        self.operator = Wallet(self.client, OPERATOR_SEED)
        ledger.add_genesis(genesis(self.payers, self.operator), GENESIS_TX)
        self.coordinator = Coordinator(self.node, COORDINATORS[:2], clock=self.clock)
        self.milestones = 0
        self.store = PaymentStore(self.engine)
        self.store.add_tariff(TARIFF, T0)
        self.commands = Recorder()
        self.service = PaymentService(
            self.store, self.commands, tariff_for=lambda _cp: "city", clock=self.clock
        )
        self.channels: list[bytes] = []
        self.nonces: Counter[int] = Counter()
        self.paid: Counter[int] = Counter()
        self.requested: dict[str, int] = {}
        self.service.subscribe(self._remember)

    async def _remember(self, request: PaymentRequest) -> None:
        self.requested[request.channel_id] = request.amount

    def issue_milestones(self) -> None:
        """Milestones until every block is referenced (one approves at most 8 tips)."""
        self.coordinator.issue()
        self.milestones += 1
        while len(self.node.store.tips()) > 1:
            self.coordinator.issue()
            self.milestones += 1

    async def open_channels(self) -> None:
        expiry = T0 + dt.timedelta(days=30)
        opened = []
        for n, payer in enumerate(self.payers):
            self.store.add_account(f"payer{n}", "fleet")
            self.store.add_id_token(f"TOKEN{n}", f"payer{n}")
            opened.append(await payer.open_channel(self.operator.address, DEPOSIT, expiry))
        self.issue_milestones()
        for n, (block_id, channel_id) in enumerate(opened):
            meta = await self.client.metadata(block_id)
            assert meta is not None, "a channel opening is unknown to the node"
            assert meta.milestone_index is not None, "a channel opening is unconfirmed"
            self.store.add_channel(
                ChannelRecord(
                    channel_id=channel_id.hex(),
                    account_id=f"payer{n}",
                    payer_address=self.payers[n].address.to_bytes().hex(),
                    deposit=DEPOSIT,
                    expiry=expiry,
                )
            )
            self.channels.append(channel_id)

    async def pay(self, payer: int) -> None:
        """The payer's app answers the latest payment request of its channel with a voucher."""
        channel_id = self.channels[payer]
        wanted = self.requested.get(channel_id.hex(), 0)
        if wanted > self.paid[payer]:
            self.nonces[payer] += 1
            voucher = self.payers[payer].voucher(channel_id, self.nonces[payer], wanted)
            self.paid[payer] = await self.service.submit_voucher(voucher)


async def settle_tick(world: World, settler: Settler) -> None:
    """One scheduled run of the settler; a milestone when it submitted a claim."""
    advanced = await settler.run_once()
    if any(record.status == "submitted" and record.milestone_index is None for record in advanced):
        world.issue_milestones()


def unsettled(world: World) -> int:
    """Ended sessions whose claim is not confirmed yet (or which no claim covers)."""
    with Session(world.engine) as db:
        confirmed = set(
            db.exec(select(SettlementRecord.id).where(SettlementRecord.status == "confirmed")).all()
        )
        sessions = db.exec(select(SessionPaymentRecord).where(SessionPaymentRecord.status != "active")).all()
        return sum(1 for s in sessions if s.settlement_id not in confirmed)


async def run_policy(name: str, policy: SettlementPolicy, planned: list[Plan], folder: Path) -> Outcome:
    world = World(f"sqlite:///{folder / (name + '.db')}")
    await world.open_channels()
    settler = Settler(world.store, world.operator, world.client, policy, clock=world.clock)
    timeline = sorted(
        ((at, n, plan.payer, event) for plan in planned for n, (at, event) in enumerate(events(plan))),
        key=lambda item: (item[0], item[1] != 0, item[1]),
    )
    started = time.perf_counter()
    tick = T0 + TICK
    for at, _, payer, event in timeline:
        while tick <= at:
            world.clock.now = tick
            await settle_tick(world, settler)
            tick += TICK
        world.clock.now = at
        if isinstance(event, MeterReading):
            await world.pay(payer)  # the voucher asked for at the last reading, then the next one
        await world.service.handle(event)
        await world.pay(payer)
    end = T0 + WEEK + AFTER_WEEK
    while tick <= end:
        world.clock.now = tick
        await settle_tick(world, settler)
        tick += TICK
        if tick > T0 + WEEK and unsettled(world) == 0 and not world.store.settlements_in_flight():
            break
    await world.service.commands_sent()
    seconds = time.perf_counter() - started
    with Session(world.engine) as db:
        statuses = Counter(db.exec(select(SettlementRecord.status)).all())
        sessions = db.exec(select(SessionPaymentRecord)).all()
    ended = sum(1 for s in sessions if s.status != "active")
    settled = ended - unsettled(world)
    world.engine.dispose()
    return Outcome(
        name=name,
        claims_submitted=statuses["submitted"] + statuses["confirmed"] + statuses["failed"],
        claims_confirmed=statuses["confirmed"],
        claims_failed=statuses["failed"],
        sessions_settled=settled,
        sessions_ended=ended,
        stops=sum(1 for call in world.commands.calls if call[0] == "stop"),
        milestones=world.milestones,
        seconds=seconds,
    )


def report(outcome: Outcome) -> None:
    print(
        f"{outcome.name + ':':<11} {outcome.claims_submitted:>5} claims submitted"
        f" ({outcome.claims_confirmed} confirmed, {outcome.claims_failed} failed),"
        f" {outcome.sessions_settled}/{outcome.sessions_ended} sessions settled,"
        f" {outcome.sessions_per_claim:.2f} sessions per claim,"
        f" {outcome.per_thousand:,.0f} ledger transactions per 1,000 sessions"
        f" [{outcome.milestones} milestones, {outcome.stops} stops, {outcome.seconds:.0f} s]"
    )


async def main() -> None:
    planned = plans()
    batching = SettlementPolicy()
    print(
        f"{SESSIONS} sessions on {PAYERS} channels over a simulated week, settler every"
        f" {TICK.total_seconds() / 60:.0f} simulated minutes"
    )
    print(
        f"batching policy: threshold {batching.threshold:,} micro-units, interval {batching.interval},"
        f" expiry margin {batching.expiry_margin}; reference: one claim per session"
    )
    with tempfile.TemporaryDirectory() as folder:
        batched = await run_policy("batched", batching, planned, Path(folder))
        report(batched)
        single = await run_policy(
            "unbatched", SettlementPolicy(threshold=1, interval=dt.timedelta(0)), planned, Path(folder)
        )
        report(single)
    ratio = single.claims_submitted / batched.claims_submitted if batched.claims_submitted else 0.0
    naive = single.sessions_settled / batched.claims_submitted if batched.claims_submitted else 0.0
    print(
        f"unbatched / batched claims: {ratio:.2f}; sessions / batched claims (one claim per session"
        f" exactly): {naive:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
