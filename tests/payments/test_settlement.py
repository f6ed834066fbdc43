"""Settlement against a real ledger node: a session's vouchers claimed in one transaction,
confirmed by a milestone, with an inclusion proof a fleet can check with pow_rs alone."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import event

import pow_rs
from mobility.charging.events import EndReason, MeterReading, SessionEnded, SessionStarted
from mobility.payments.models import ChannelRecord, SettlementRecord
from mobility.payments.settlement import SettlementPolicy, Settler
from tests.payments.ledger_world import Setup, charge, open_channel


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


async def test_ended_sessions_wait_one_interval_and_share_a_claim(setup: Setup) -> None:
    s = setup
    channel_id = await open_channel(s)
    policy = SettlementPolicy(threshold=10_000_000, interval=dt.timedelta(hours=1))
    settler = Settler(s.store, s.bob, s.client, policy, clock=s.clock)
    nonce = await charge(s, channel_id, 1, 1, 0)
    first_end = s.clock.now
    assert await settler.run_once() == []  # ended just now: not due yet
    s.clock.now = first_end + dt.timedelta(minutes=20)
    await charge(s, channel_id, 2, 1, nonce)
    assert await settler.run_once() == []  # the oldest ended 20 + 6 minutes ago
    s.clock.now = first_end + dt.timedelta(hours=1)
    (claim,) = await settler.run_once()  # an hour after the first ended: one claim for both
    await settler.run_once()  # submitted
    s.coordinator.issue()
    (confirmed,) = await settler.run_once()
    assert confirmed.id == claim.id
    assert confirmed.status == "confirmed"
    assert {s.store.session(i).settlement_id for i in (1, 2)} == {claim.id}  # type: ignore[union-attr]


async def test_the_prepaid_credit_of_a_running_session_alone_is_not_claimed(setup: Setup) -> None:
    s = setup
    channel_id = await open_channel(s)
    settler = Settler(s.store, s.bob, s.client, SettlementPolicy(interval=dt.timedelta(0)), clock=s.clock)
    requested: list[int] = []

    async def remember(request: object) -> None:
        requested.append(request.amount)  # type: ignore[attr-defined]

    s.service.subscribe(remember)
    await s.service.handle(SessionStarted(9, "CP1", 1, "tx9", "a11ce", 0, s.clock.now))
    await s.service.submit_voucher(s.alice.voucher(channel_id, 1, requested[-1]))
    channel = s.store.channel(channel_id.hex())
    assert channel is not None
    assert channel.paid > channel.claimed  # a credit window is paid ahead
    assert await settler.run_once() == []


async def test_a_session_ended_within_an_already_claimed_credit_is_attached_to_that_claim(
    setup: Setup,
) -> None:
    s = setup
    channel_id = await open_channel(s)
    settler = Settler(s.store, s.bob, s.client, SettlementPolicy(threshold=1), clock=s.clock)
    requested: list[int] = []

    async def remember(request: object) -> None:
        requested.append(request.amount)  # type: ignore[attr-defined]

    s.service.subscribe(remember)
    await s.service.handle(SessionStarted(7, "CP1", 1, "tx7", "a11ce", 0, s.clock.now))
    await s.service.submit_voucher(s.alice.voucher(channel_id, 1, requested[-1]))  # the credit window
    (claim,) = await settler.run_once()  # claims the prepaid credit while the session runs
    await settler.run_once()
    s.coordinator.issue()
    (confirmed,) = await settler.run_once()
    assert confirmed.status == "confirmed"
    s.clock.now += dt.timedelta(minutes=1)
    await s.service.handle(MeterReading("CP1", 1, 7, 100, 100, s.clock.now))  # 100 Wh: within the credit
    await s.service.handle(SessionEnded(7, "CP1", 1, "tx7", 100, EndReason.LOCAL, False, s.clock.now))
    session = s.store.session(7)
    assert session is not None
    assert (session.status, session.settlement_id) == ("paid", None)
    assert await settler.run_once() == []  # nothing new to claim ...
    attached = s.store.session(7)
    assert attached is not None
    assert attached.settlement_id == claim.id  # ... and the session is settled by the earlier claim


async def test_a_debt_paid_after_its_claim_is_settled_by_the_claim_of_the_voucher_that_paid_it(
    setup: Setup,
) -> None:
    """A session ends owing its final bill and is claimed for the part paid then; the payer pays
    the rest later. The session is paid now, and the claim of that later voucher covers it."""
    s = setup
    channel_id = await open_channel(s)
    settler = Settler(s.store, s.bob, s.client, SettlementPolicy(threshold=1), clock=s.clock)
    requested: list[int] = []

    async def remember(request: object) -> None:
        requested.append(request.amount)  # type: ignore[attr-defined]

    s.service.subscribe(remember)
    await s.service.handle(SessionStarted(5, "CP1", 1, "tx5", "a11ce", 0, s.clock.now))
    await s.service.submit_voucher(s.alice.voucher(channel_id, 1, requested[-1]))  # the credit window
    s.clock.now += dt.timedelta(minutes=12)
    await s.service.handle(SessionEnded(5, "CP1", 1, "tx5", 2_000, EndReason.LOCAL, False, s.clock.now))
    assert requested[-1] == 600_000  # the final bill: 2 kWh, reported only at the stop

    async def settle() -> SettlementRecord:
        await settler.run_once()  # built
        await settler.run_once()  # submitted
        s.coordinator.issue()
        (confirmed,) = await settler.run_once()
        assert confirmed.status == "confirmed"
        return confirmed

    first = await settle()
    unpaid = s.store.session(5)
    assert unpaid is not None
    assert (unpaid.status, unpaid.shortfall, unpaid.settlement_id) == ("unpaid", 450_000, first.id)

    await s.service.submit_voucher(s.alice.voucher(channel_id, 2, requested[-1]))
    paid = s.store.session(5)
    assert paid is not None
    assert (paid.status, paid.shortfall, paid.settlement_id) == (
        "paid",
        0,
        None,
    )  # the first claim fell short
    second = await settle()
    assert second.amount == 600_000
    settled = s.store.session(5)
    assert settled is not None
    assert settled.settlement_id == second.id
    assert await s.bob.balance() == 300_000 + 600_000


async def test_a_pass_over_quiet_channels_costs_the_same_however_many_there_are(setup: Setup) -> None:
    """The pass runs every interval over every channel: what it reads for channels with nothing
    to claim is read for all of them at once, not per channel."""
    s = setup
    channel_id = await open_channel(s)
    await charge(s, channel_id, 1, 1, 0)  # one channel with an ended session waiting
    settler = Settler(s.store, s.bob, s.client, SettlementPolicy(threshold=10**12), clock=s.clock)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(s.store.engine, "before_cursor_execute", count)
    try:
        await settler.run_once()
        few = len(statements)
        for n in range(20):  # channels nobody has used yet
            s.store.add_channel(
                ChannelRecord(
                    channel_id=f"{n:064x}",
                    account_id="alice",
                    payer_address="00" * 33,
                    deposit=1_000_000,
                    expiry=s.clock.now + dt.timedelta(days=30),
                )
            )
        statements.clear()
        await settler.run_once()
        assert len(statements) == few
    finally:
        event.remove(s.store.engine, "before_cursor_execute", count)
