"""The payment invariants over random sessions with faults (hypothesis), on a real ledger node.

Faults: duplicated and reordered readings, a payer who pays late or stops paying, replayed
vouchers, and engine restarts (a new service that reloads readings). After the sessions end
the operator settles. Then:

- money is conserved: payer + payee balances + what is still in the channel = what they began with;
- every session billed exactly the tariff of its readings; it is paid, or unpaid with its shortfall;
- the shortfalls add up to what the vouchers left unpaid, carried by the newest sessions;
- nothing is claimed twice: the payee gained exactly the channel's claimed amount, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mobility.charging.events import EndReason, MeterReading, SessionEnded, SessionStarted
from mobility.payments.pricing import MeterSample, price_session
from mobility.payments.service import PaymentRequest, PaymentService
from mobility.payments.settlement import SettlementPolicy, Settler
from mobility.payments.vouchers import VoucherRejectedError
from testkit.commands import Recorder
from tests.payments.ledger_world import TARIFF, Setup, make_setup, open_channel

Step = tuple[int, bool, bool, bool, bool]  # power kW, pays, duplicate, restart, replay


def session_steps() -> st.SearchStrategy[list[Step]]:
    mostly = st.integers(0, 4).map(bool)  # true four times in five
    rarely = st.integers(0, 4).map(lambda n: n == 0)
    step = st.tuples(st.integers(0, 22), mostly, rarely, rarely, rarely)
    return st.lists(step, min_size=1, max_size=12)


async def scenario(s: Setup, sessions: list[list[Step]], pay_every: int) -> None:
    channel_id = await open_channel(s)
    alice_before, bob_before = await s.alice.balance(), await s.bob.balance()
    truth: dict[int, list[MeterSample]] = {}
    service, nonce, requested = s.service, 0, [0]
    stopped: list[tuple[str, ...]] = []

    def restart() -> PaymentService:
        commands = Recorder(stopped)
        fresh = PaymentService(
            s.store,
            commands,
            tariff_for=lambda _cp: "city",
            readings_loader=lambda sid: list(truth[sid]),
            clock=s.clock,
        )
        fresh.subscribe(remember)
        return fresh

    async def remember(request: PaymentRequest) -> None:
        requested[0] = max(requested[0], request.amount)

    service = restart()
    starts: dict[int, dt.datetime] = {}
    for session_id, steps in enumerate(sessions, start=1):
        start = s.clock.now
        starts[session_id] = start
        truth[session_id] = []
        await service.handle(SessionStarted(session_id, "CP1", 1, f"tx{session_id}", "a11ce", 0, start))
        energy = 0
        for minute, (kw, pays, duplicate, do_restart, replay) in enumerate(steps, start=1):
            if pays and minute % pay_every == 0:
                nonce += 1
                voucher = s.alice.voucher(channel_id, nonce, requested[0])
                with contextlib.suppress(VoucherRejectedError):  # asks no more than already signed
                    await service.submit_voucher(voucher)
                if replay:
                    with pytest.raises(VoucherRejectedError):
                        await service.submit_voucher(voucher)
            if do_restart:
                service = restart()
            s.clock.now = start + dt.timedelta(minutes=minute)
            energy += kw * 1000 // 60
            sample = MeterSample(s.clock.now, energy)
            truth[session_id].append(sample)
            reading = MeterReading("CP1", 1, session_id, energy, energy, s.clock.now)
            await service.handle(reading)
            if duplicate:
                await service.handle(reading)
            await service.commands_sent()
            if ("stop", f"tx{session_id}") in stopped:
                break  # the charger obeys the remote stop
        s.clock.now += dt.timedelta(seconds=30)
        end = SessionEnded(
            session_id, "CP1", 1, f"tx{session_id}", energy, EndReason.LOCAL, False, s.clock.now
        )
        await service.handle(end)
        await service.handle(end)  # an offline replay of the end

    settler = Settler(s.store, s.bob, s.client, SettlementPolicy(threshold=1), clock=s.clock)
    for _ in range(6):
        records = await settler.run_once()
        if any(r.status == "submitted" for r in records):
            s.coordinator.issue()

    channel = s.store.channel(channel_id.hex())
    assert channel is not None
    on_ledger = await s.client.channel(channel_id)
    in_channel = on_ledger.deposit - on_ledger.claimed if on_ledger is not None else 0
    alice_after, bob_after = await s.alice.balance(), await s.bob.balance()
    # Money is conserved (the deposit left Alice's balance when the channel opened).
    assert alice_after + bob_after + in_channel == alice_before + bob_before + 1_000_000
    # Nothing claimed twice: Bob gained exactly what the channel says was claimed.
    assert bob_after - bob_before == channel.claimed == (on_ledger.claimed if on_ledger else channel.claimed)
    assert channel.claimed in (0, channel.paid)

    owed, shortfall, in_debt = 0, 0, False
    for session_id in starts:  # in the order they ended
        record = s.store.session(session_id)
        assert record is not None
        expected = price_session(TARIFF, starts[session_id], truth[session_id], ended_at=record.ended_at)
        assert record.billed == expected.total_incl_vat
        owed += record.billed
        shortfall += record.shortfall
        event(f"session {record.status}")
        if record.status == "paid":
            assert record.shortfall == 0
        else:
            assert record.status == "unpaid"
            assert record.shortfall > 0
        if in_debt:  # the paid total pays the oldest first: after an unpaid session, none is paid
            assert record.shortfall == record.billed
        in_debt = in_debt or record.shortfall > 0
    # Every micro-unit billed is paid by a voucher or recorded as a shortfall, once.
    assert shortfall == max(0, owed - channel.paid)
    event("stopped by enforcement" if stopped else "never stopped")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(sessions=st.lists(session_steps(), min_size=1, max_size=3), pay_every=st.integers(1, 3))
def test_payment_invariants_hold_under_faults(
    migrated_sqlite: Callable[[Path], str], sessions: list[list[Step]], pay_every: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        s = make_setup(migrated_sqlite(Path(folder) / "world.db"))
        try:
            asyncio.run(scenario(s, sessions, pay_every))
        finally:
            s.store.engine.dispose()
