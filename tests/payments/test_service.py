"""The payment service end to end on a real database: authorize, price, request, enforce."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, update

import pow_rs
from mobility.charging.authorization import AuthorizationStatus
from mobility.charging.events import EndReason, MeterReading, SessionEnded, SessionStarted
from mobility.db import create_db_engine
from mobility.journal import FunctionBatch
from mobility.payments.accounts import app_id_token
from mobility.payments.credit import Action, StopReason
from mobility.payments.models import ChannelRecord, SessionPaymentRecord
from mobility.payments.pricing import MeterSample, price_session
from mobility.payments.service import PaymentRequest, PaymentService, PaymentSettings
from mobility.payments.store import PaymentStore, StaleVoucherError, VoucherWrite
from mobility.payments.tariff import Tariff
from mobility.payments.vouchers import ChannelCredit, VoucherRejectedError, VoucherRejection
from mobility.wire.codec import Ed25519Address, Voucher, VoucherPayload
from testkit.clock import ManualClock
from testkit.commands import Recorder

T0 = dt.datetime(2026, 6, 3, 8, 0, tzinfo=dt.UTC)
DRIVER = pow_rs.SigningKey(bytes(range(32)))
CHANNEL = pow_rs.blake2b_256(b"driver channel")
TARIFF = Tariff.model_validate(
    {
        "id": "city",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 300_000, "vat_bp": 1900}]}],
    }
)
WINDOW = 178_500  # 0.5 kWh at 0.30 + 19 % VAT


@dataclass
class World:
    store: PaymentStore
    service: PaymentService
    commands: Recorder
    clock: ManualClock
    requests: list[PaymentRequest]


def make_service(
    store: PaymentStore, clock: ManualClock, commands: Recorder, loader: object = None
) -> PaymentService:
    return PaymentService(
        store,
        commands,
        tariff_for=lambda _cp: "city",
        settings=PaymentSettings(limit_after=dt.timedelta(seconds=30), stop_after=dt.timedelta(seconds=90)),
        readings_loader=loader,  # type: ignore[arg-type]
        clock=clock,
    )


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    engine = create_db_engine(database_url)
    store = PaymentStore(engine)
    store.add_tariff(TARIFF, T0)
    store.add_account("alice", "driver")
    store.add_id_token("04A2B3C4", "alice")
    store.add_channel(
        ChannelRecord(
            channel_id=CHANNEL.hex(),
            account_id="alice",
            payer_address=Ed25519Address.from_public_key(DRIVER.public_key).to_bytes().hex(),
            deposit=20_000_000,
            expiry=T0 + dt.timedelta(days=30),
        )
    )
    clock, commands, requests = ManualClock(T0), Recorder(), list[PaymentRequest]()
    service = make_service(store, clock, commands)

    async def collect(request: PaymentRequest) -> None:
        requests.append(request)

    service.subscribe(collect)
    yield World(store, service, commands, clock, requests)
    engine.dispose()


async def sent(world: World) -> list[tuple[str, ...]]:
    """The commands sent to chargers, once every decided command has gone out."""
    await world.service.commands_sent()
    return world.commands.calls


def voucher(nonce: int, amount: int, key: pow_rs.SigningKey = DRIVER) -> VoucherPayload:
    body = Voucher(CHANNEL, nonce, amount)
    return VoucherPayload(body, key.public_key, key.sign(body.signing_message()))


def started(session_id: int = 1, token: str | None = "04a2b3c4") -> SessionStarted:
    return SessionStarted(session_id, "CP1", 1, f"tx{session_id}", token, 0, T0)


def reading(minutes: int, energy_wh: int, session_id: int = 1) -> MeterReading:
    return MeterReading("CP1", 1, session_id, energy_wh, energy_wh, T0 + dt.timedelta(minutes=minutes))


async def test_authorization_reasons(world: World) -> None:
    assert (await world.service.authorize("CP1", "04a2b3c4")).status == AuthorizationStatus.ACCEPTED
    unknown = await world.service.authorize("CP1", "FFFF")
    assert (unknown.status, unknown.reason) == (AuthorizationStatus.INVALID, "unknown id token")
    world.store.add_account("bob", "driver")
    world.store.add_id_token("B0B", "bob")
    blocked = await world.service.authorize("CP1", "b0b")
    assert (blocked.status, blocked.reason) == (
        AuthorizationStatus.BLOCKED,
        "no open channel to this operator",
    )
    world.store.add_channel(
        ChannelRecord(
            channel_id="ab" * 32,
            account_id="bob",
            payer_address="00" * 33,
            deposit=WINDOW - 1,
            expiry=T0 + dt.timedelta(days=1),
        )
    )
    small = await world.service.authorize("CP1", "B0B")
    assert small.status == AuthorizationStatus.BLOCKED
    assert small.reason is not None
    assert "deposit too low" in small.reason


async def test_a_paying_driver_charges_to_the_end_and_pays_exactly_what_was_billed(world: World) -> None:
    service, nonce = world.service, 0
    await service.handle(started())
    assert world.requests[-1].amount == WINDOW
    for minute in range(1, 61):  # readings every minute: 0.18 kWh each, inside the 0.5 kWh window
        nonce += 1
        await service.submit_voucher(voucher(nonce, world.requests[-1].amount))
        world.clock.now = T0 + dt.timedelta(minutes=minute)
        await service.handle(reading(minute, 11_000 * minute // 60))
        assert world.requests[-1].action == Action.CONTINUE
    nonce += 1
    await service.submit_voucher(voucher(nonce, world.requests[-1].amount))
    await service.handle(
        SessionEnded(1, "CP1", 1, "tx1", 11_000, EndReason.LOCAL, False, T0 + dt.timedelta(hours=1))
    )
    record = world.store.session(1)
    assert record is not None
    samples = [MeterSample(T0 + dt.timedelta(minutes=m), 11_000 * m // 60) for m in range(1, 61)]
    expected = price_session(TARIFF, T0, samples, ended_at=T0 + dt.timedelta(hours=1)).total_incl_vat
    assert record.billed == expected == 3_927_000  # 11 kWh * 0.30 * 1.19
    assert (record.status, record.shortfall) == ("paid", 0)
    channel = world.store.channel(CHANNEL.hex())
    assert channel is not None
    assert record.billed <= channel.paid <= record.billed + WINDOW
    assert (await sent(world)) == []


async def test_a_driver_who_stops_paying_is_limited_then_stopped(world: World) -> None:
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    world.clock.now = T0 + dt.timedelta(minutes=1)
    await service.handle(reading(1, 200))  # 0.2 kWh: credit 107 100 >= half the window
    assert (await sent(world)) == []
    await service.handle(reading(2, 300))  # credit 71 400 < half: lagging from here
    await service.handle(reading(3, 310))  # 60 s lagging >= 30 s: limit
    assert (await sent(world)) == [("limit", "tx1", "3700")]
    await service.handle(reading(4, 320))
    await service.handle(reading(5, 330))  # 180 s lagging >= 90 s: stop
    assert (await sent(world))[-1] == ("stop", "tx1")
    assert world.requests[-1].reason == StopReason.PAYMENT_LAGGING
    record = world.store.session(1)
    assert record is not None
    assert record.enforcement == "stop:payment_lagging"


async def test_catching_up_lifts_the_limit(world: World) -> None:
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    await service.handle(reading(1, 300))
    await service.handle(reading(2, 310))
    assert (await sent(world)) == [("limit", "tx1", "3700")]
    await service.submit_voucher(voucher(2, world.requests[-1].amount))
    assert (await sent(world))[-1] == ("clear", "tx1")


async def test_credit_gone_stops_at_once_and_the_session_ends_unpaid(world: World) -> None:
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    await service.handle(reading(10, 1_000))  # 1 kWh costs 357 000 > 178 500 paid
    assert (await sent(world)) == [("stop", "tx1")]
    assert world.requests[-1].reason == StopReason.CREDIT_EXHAUSTED
    await service.handle(
        SessionEnded(1, "CP1", 1, "tx1", 1_000, EndReason.REMOTE, False, T0 + dt.timedelta(minutes=10))
    )
    record = world.store.session(1)
    assert record is not None
    assert (record.status, record.billed, record.shortfall) == ("unpaid", 357_000, 357_000 - WINDOW)


async def test_a_stop_is_not_held_against_the_next_session_on_the_channel(world: World) -> None:
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    for minute, energy in [(1, 300), (2, 310), (4, 320), (5, 330)]:  # lags, limited, then stopped
        await service.handle(reading(minute, energy))
    assert (await sent(world))[-1] == ("stop", "tx1")
    end = T0 + dt.timedelta(minutes=5)
    await service.handle(SessionEnded(1, "CP1", 1, "tx1", 330, EndReason.REMOTE, False, end))
    first = world.store.session(1)
    assert first is not None
    assert (first.status, first.shortfall) == ("paid", 0)  # stopped while still covered
    stops = len(await sent(world))
    world.clock.now = end + dt.timedelta(minutes=5)
    await service.handle(SessionStarted(2, "CP1", 1, "tx2", "04a2b3c4", 0, world.clock.now))
    await service.submit_voucher(voucher(2, world.requests[-1].amount))  # pays ahead at once
    await service.handle(reading(11, 100, session_id=2))
    assert len(await sent(world)) == stops  # the second session charges on
    assert world.requests[-1].action == "continue"


async def test_a_reading_before_the_first_voucher_caps_power_until_it_arrives(world: World) -> None:
    service = world.service
    await service.handle(started())
    early = T0 + dt.timedelta(seconds=5)
    await service.handle(MeterReading("CP1", 1, 1, 5, 5, early))  # 5 Wh before the wallet answered
    assert (await sent(world)) == [("limit", "tx1", "3700")]
    await service.submit_voucher(voucher(1, world.requests[-1].amount))
    assert (await sent(world))[-1] == ("clear", "tx1")
    record = world.store.session(1)
    assert record is not None
    assert record.status == "active"


async def test_a_cap_and_the_voucher_that_lifts_it_reach_the_charger_in_that_order(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading that caps and a voucher that covers it, evaluated at once: the cap was decided
    first, so the lift must follow it to the charger. When enforcement ran after the channel's
    lock was released, the voucher's lift could overtake a cap still being recorded, and the
    paying driver stayed capped. Here the cap's write is held until the voucher's evaluation
    has finished, or for a second if it cannot finish first (which is the right outcome)."""
    service, store = world.service, world.store
    await service.handle(started())
    loop = asyncio.get_running_loop()
    cap_held, voucher_done = asyncio.Event(), threading.Event()
    write_sessions = store.write_sessions

    def slow_cap(connection: Connection, rows: list[tuple[SessionPaymentRecord, bool]]) -> list[None]:
        if any(record.enforcement == "limit" for record, _ in rows):
            loop.call_soon_threadsafe(cap_held.set)
            voucher_done.wait(timeout=1.0)
        return write_sessions(connection, rows)

    service._sessions = FunctionBatch("payment_sessions", slow_cap)  # the service's session writes
    early = T0 + dt.timedelta(seconds=5)
    capping = asyncio.create_task(service.handle(MeterReading("CP1", 1, 1, 5, 5, early)))
    await cap_held.wait()  # the reading decided its cap, whose write is now held
    lifting = asyncio.create_task(service.submit_voucher(voucher(1, world.requests[-1].amount)))
    await asyncio.wait({lifting}, timeout=1.0)
    voucher_done.set()
    await asyncio.gather(capping, lifting)
    assert (await sent(world)) == [("limit", "tx1", "3700"), ("clear", "tx1")]
    record = store.session(1)
    assert record is not None
    assert record.enforcement is None


async def test_an_app_token_pays_only_for_the_session_its_remote_start_began(world: World) -> None:
    token = app_id_token("alice")
    world.store.add_id_token(token, "alice")
    service = world.service
    assert not (await service.authorize("CP1", token)).accepted  # no remote start here
    await service.pin_channel("CP1", token, CHANNEL.hex())
    assert (await service.authorize("CP1", token)).accepted  # 1.6 asks before the start
    await service.handle(SessionStarted(1, "CP1", 1, "tx1", token.lower(), 0, T0))
    # 2.x asks again in the event that started the session: yes for that session ...
    assert (await service.authorize_session(1, "CP1", token)).accepted
    # ... but the pin is used up: the token starts nothing else, on another connector either.
    assert not (await service.authorize("CP1", token)).accepted
    assert not (await service.authorize_session(2, "CP1", token)).accepted
    end = T0 + dt.timedelta(minutes=1)
    await service.handle(SessionEnded(1, "CP1", 1, "tx1", 0, EndReason.LOCAL, False, end))
    assert not (await service.authorize_session(1, "CP1", token)).accepted


async def test_a_remote_start_survives_a_restart_before_the_chargers_start(world: World) -> None:
    """The pin is on disk: an engine restarted between the RemoteStart command and the
    charger's start still accepts the app token there and bills the channel the driver chose."""
    token = app_id_token("alice")
    world.store.add_id_token(token, "alice")
    richer = pow_rs.blake2b_256(b"richer channel").hex()  # the best channel, were nothing pinned
    world.store.add_channel(
        ChannelRecord(
            channel_id=richer,
            account_id="alice",
            payer_address=Ed25519Address.from_public_key(DRIVER.public_key).to_bytes().hex(),
            deposit=90_000_000,
            expiry=T0 + dt.timedelta(days=30),
        )
    )
    await world.service.pin_channel("CP1", token, CHANNEL.hex())
    world.clock.now = T0 + dt.timedelta(minutes=2)
    # The restart: a new store and service over the same database, nothing kept in memory.
    store = PaymentStore(world.store.engine)
    restarted = make_service(store, world.clock, world.commands)
    assert (await restarted.authorize("CP1", token)).status == AuthorizationStatus.ACCEPTED
    await restarted.handle(SessionStarted(1, "CP1", 1, "tx1", token, 0, world.clock.now))
    record = store.session(1)
    assert record is not None
    assert (record.channel_id, record.status) == (CHANNEL.hex(), "active")
    await restarted.commands_sent()
    assert ("stop", "tx1") not in world.commands.calls
    # Used up by that session, on disk too: the next restart does not bring it back.
    assert store.remote_start_pin("CP1", token) is None
    again = make_service(PaymentStore(world.store.engine), world.clock, world.commands)
    assert not (await again.authorize("CP1", token)).accepted


async def test_an_expired_remote_start_pin_no_longer_authorizes(world: World) -> None:
    """A remote start the charger never began must not leave the app token usable there."""
    token = app_id_token("alice")
    world.store.add_id_token(token, "alice")
    service = world.service
    lifetime = service.settings.pin_lifetime
    assert lifetime == dt.timedelta(minutes=15)  # the default
    await service.pin_channel("CP1", token, CHANNEL.hex())
    world.clock.now = T0 + lifetime - dt.timedelta(seconds=1)
    assert (await service.authorize("CP1", token)).accepted
    world.clock.now = T0 + lifetime
    expired = await service.authorize("CP1", token)
    assert (expired.status, expired.reason) == (
        AuthorizationStatus.BLOCKED,
        "an app token without a remote start here",
    )
    await service.handle(SessionStarted(1, "CP1", 1, "tx1", token, 0, world.clock.now))
    assert (await sent(world)) == [("stop", "tx1")]  # a start that comes anyway is not paid for
    # An expired pin left behind goes with the next pin anywhere.
    await service.pin_channel("CP1", "04A2B3C4", CHANNEL.hex())
    world.clock.now = T0 + 2 * lifetime + dt.timedelta(seconds=1)
    await service.pin_channel("CP2", token, CHANNEL.hex())
    assert world.store.remote_start_pin("CP1", "04a2b3c4") is None
    pin = world.store.remote_start_pin("CP2", token)
    assert pin is not None
    assert (pin.channel_id, pin.created_at) == (CHANNEL.hex(), world.clock.now)


async def test_a_channel_with_an_unpaid_session_is_refused_until_paid(world: World) -> None:
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    await service.handle(reading(10, 1_000))  # credit gone: stopped, ends unpaid
    end = T0 + dt.timedelta(minutes=10)
    await service.handle(SessionEnded(1, "CP1", 1, "tx1", 1_000, EndReason.REMOTE, False, end))
    refused = await service.authorize("CP1", "04a2b3c4")
    assert not refused.accepted
    assert refused.reason == f"{357_000 - WINDOW} micro-units unpaid from earlier sessions: pay them first"
    await service.submit_voucher(voucher(2, 357_000))  # the driver settles the debt
    assert (await service.authorize("CP1", "04a2b3c4")).accepted


async def test_an_earlier_sessions_debt_is_not_counted_again_in_the_next(world: World) -> None:
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    await service.handle(reading(10, 1_000))  # stopped with 357 000 billed, WINDOW paid
    end = T0 + dt.timedelta(minutes=10)
    await service.handle(SessionEnded(1, "CP1", 1, "tx1", 1_000, EndReason.REMOTE, False, end))
    # A second session (started offline, so billed to the same channel) pays as much as it costs:
    # that pays the oldest debt first, and the second session carries the rest.
    world.clock.now = end + dt.timedelta(minutes=1)
    await service.handle(SessionStarted(2, "CP1", 1, "tx2", "04a2b3c4", 0, world.clock.now))
    await service.handle(reading(12, 100, session_id=2))  # 0.1 kWh: 35 700
    await service.submit_voucher(voucher(2, WINDOW + 35_700))
    await service.handle(
        SessionEnded(2, "CP1", 1, "tx2", 100, EndReason.REMOTE, False, T0 + dt.timedelta(minutes=12))
    )
    first, second = world.store.session(1), world.store.session(2)
    assert first is not None
    assert second is not None
    assert (first.status, first.shortfall) == ("unpaid", 357_000 - WINDOW - 35_700)
    assert (second.billed, second.status, second.shortfall) == (35_700, "unpaid", 35_700)
    assert first.shortfall + second.shortfall == 357_000 - WINDOW  # the debt, counted once


def ended(session_id: int, energy_wh: int, minutes: int) -> SessionEnded:
    """The session's end, with its final register (the only one a charger may report)."""
    at = T0 + dt.timedelta(minutes=minutes)
    return SessionEnded(session_id, "CP1", 1, f"tx{session_id}", energy_wh, EndReason.LOCAL, False, at)


def debts(world: World, *session_ids: int) -> list[tuple[str, int]]:
    """(status, shortfall) of each session."""
    records = [world.store.session(session_id) for session_id in session_ids]
    return [(record.status, record.shortfall) for record in records if record is not None]


async def test_a_final_bill_above_what_was_paid_is_asked_for_after_the_end(world: World) -> None:
    """A charger that reports energy only at the stop: the whole bill comes with the end, when
    no reading is left to trigger a request. The payer is asked for it all the same."""
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    asked = len(world.requests)
    await service.handle(ended(1, 2_000, 10))  # 2 kWh: 714 000
    assert debts(world, 1) == [("unpaid", 714_000 - WINDOW)]
    assert world.requests[asked:] == [
        PaymentRequest(CHANNEL.hex(), (1,), 714_000, 714_000, WINDOW, Action.CONTINUE, None)
    ]
    await service.handle(ended(1, 2_000, 10))  # a replayed end asks nothing more
    assert len(world.requests) == asked + 1


async def test_a_session_that_ends_paid_asks_for_nothing_more(world: World) -> None:
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    asked = len(world.requests)
    await service.handle(ended(1, 400, 10))  # 142 800, within the credit paid ahead
    assert len(world.requests) == asked


async def test_paying_the_final_bill_turns_the_session_paid_and_lets_the_payer_start_again(
    world: World,
) -> None:
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    await service.handle(ended(1, 2_000, 10))
    assert not (await service.authorize("CP1", "04a2b3c4")).accepted
    await service.submit_voucher(voucher(2, 500_000))  # part of it
    assert debts(world, 1) == [("unpaid", 214_000)]
    assert not (await service.authorize("CP1", "04a2b3c4")).accepted
    await service.submit_voucher(voucher(3, world.requests[-1].amount))  # the rest
    assert debts(world, 1) == [("paid", 0)]
    assert (await service.authorize("CP1", "04a2b3c4")).accepted


async def test_a_partial_voucher_pays_off_the_session_that_ended_first(world: World) -> None:
    """Two sessions at once on the channel (the second started offline), both reporting energy
    only at the stop; the second ends first, so it is the older debt, paid off first."""
    service = world.service
    await service.handle(started(1))
    await service.submit_voucher(voucher(1, WINDOW))
    await service.handle(SessionStarted(2, "CP1", 2, "tx2", "04a2b3c4", 0, T0))
    await service.handle(ended(2, 1_000, 5))  # 357 000: the paid WINDOW covers half
    await service.handle(ended(1, 1_000, 10))  # 357 000, none of it covered
    assert debts(world, 1, 2) == [("unpaid", 357_000), ("unpaid", 357_000 - WINDOW)]
    await service.submit_voucher(voucher(2, WINDOW + 200_000))
    assert debts(world, 1, 2) == [("unpaid", 357_000 - 21_500), ("paid", 0)]
    await service.submit_voucher(voucher(3, WINDOW + 200_000))  # the same total again: nothing new
    assert debts(world, 1, 2) == [("unpaid", 357_000 - 21_500), ("paid", 0)]
    await service.submit_voucher(voucher(4, 714_000))
    assert debts(world, 1, 2) == [("paid", 0), ("paid", 0)]


async def test_a_voucher_arriving_while_a_session_ends_pays_for_it(world: World) -> None:
    """A session's end and a voucher that covers it, taken at once: the channel's owner applies
    one after the other, whichever comes first, so the voucher's payment always lands on the
    session and it ends (or turns) paid."""
    service = world.service
    for n in range(1, 16):
        at = T0 + dt.timedelta(hours=n)
        await service.handle(SessionStarted(n, "CP1", 1, f"tx{n}", "04a2b3c4", 0, at))
        end = at + dt.timedelta(minutes=10)
        ending = SessionEnded(n, "CP1", 1, f"tx{n}", 280, EndReason.LOCAL, False, end)  # 99 960
        paying = service.submit_voucher(voucher(n, 99_960 * n))
        results = await asyncio.gather(service.handle(ending), paying)
        assert results[1] == 99_960 * n
        assert debts(world, *range(1, n + 1)) == [("paid", 0)] * n


async def test_a_session_started_offline_on_a_short_channel_is_still_billed(world: World) -> None:
    service = world.service
    await service.submit_voucher(voucher(1, 19_900_000))  # 100 000 of deposit left: below a window
    refused = await service.authorize("CP1", "04a2b3c4")
    assert not refused.accepted
    assert refused.reason is not None
    assert refused.reason.startswith("channel deposit too low")
    await service.handle(started())  # the charger started it anyway (offline, trusting the badge)
    await service.handle(reading(1, 100))
    record = world.store.session(1)
    assert record is not None  # billed to the channel, not dropped
    assert record.billed == 35_700


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (voucher(1, 500_000), VoucherRejection.REPLAYED),
        (voucher(3, 100_000), VoucherRejection.LOWER_AMOUNT),
        (voucher(3, 20_000_001), VoucherRejection.OVER_DEPOSIT),
        (voucher(3, 900_000, key=pow_rs.SigningKey(bytes(32))), VoucherRejection.NOT_FROM_PAYER),
    ],
)
async def test_bad_vouchers_change_nothing_on_disk(
    world: World, bad: VoucherPayload, reason: VoucherRejection
) -> None:
    await world.service.submit_voucher(voucher(1, 200_000))
    await world.service.submit_voucher(voucher(2, 300_000))
    with pytest.raises(VoucherRejectedError) as refused:
        await world.service.submit_voucher(bad)
    assert refused.value.reason == reason
    channel = world.store.channel(CHANNEL.hex())
    assert channel is not None
    assert (channel.paid, channel.voucher_nonce) == (300_000, 2)


async def test_a_session_without_payment_is_stopped(world: World) -> None:
    await world.service.handle(started(token="UNKNOWN"))
    assert (await sent(world)) == [("stop", "tx1")]
    assert world.store.session(1) is None


async def test_replayed_events_do_not_count_twice(world: World) -> None:
    service = world.service
    await service.handle(started())
    await service.handle(started())
    await service.submit_voucher(voucher(1, 5_000_000))
    for event in (reading(10, 2_000), reading(10, 2_000), reading(5, 1_000), reading(20, 4_000)):
        await service.handle(event)
    record = world.store.session(1)
    assert record is not None
    assert (record.energy_wh, record.billed) == (4_000, 1_428_000)


async def test_restart_keeps_vouchers_and_prices_from_stored_readings(world: World) -> None:
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, 2_000_000))
    await service.handle(reading(10, 1_000))
    stored = [MeterSample(T0 + dt.timedelta(minutes=10), 1_000)]
    restarted = make_service(world.store, world.clock, world.commands, loader=lambda _sid: list(stored))
    with pytest.raises(VoucherRejectedError):
        await restarted.submit_voucher(voucher(1, 2_000_000))  # the replay is still known
    await restarted.handle(reading(20, 2_000))
    await restarted.handle(
        SessionEnded(1, "CP1", 1, "tx1", 2_000, EndReason.LOCAL, False, T0 + dt.timedelta(minutes=20))
    )
    record = world.store.session(1)
    assert record is not None
    assert (record.billed, record.status) == (714_000, "paid")


async def test_a_batch_of_vouchers_is_judged_item_by_item(world: World) -> None:
    credit = world.store.channel_credit(CHANNEL.hex())
    assert credit is not None
    forged = VoucherPayload(Voucher(CHANNEL, 3, 900_000), DRIVER.public_key, bytes(64))
    not_a_point = VoucherPayload(Voucher(CHANNEL, 3, 900_000), bytes([2]) + bytes(31), bytes(64))
    [first] = world.store.store_vouchers([VoucherWrite(credit, voucher(1, 100_000))])
    assert isinstance(first, ChannelCredit)
    batch = [voucher(1, 100_000), forged, not_a_point, voucher(2, 200_000)]
    results = world.store.store_vouchers([VoucherWrite(first, payload) for payload in batch])
    reasons = [r.reason for r in results if isinstance(r, VoucherRejectedError)]
    assert reasons == [VoucherRejection.REPLAYED, VoucherRejection.BAD_SIGNATURE, VoucherRejection.MALFORMED]
    assert isinstance(results[3], ChannelCredit)
    assert results[3].paid == 200_000
    channel = world.store.channel(CHANNEL.hex())
    assert channel is not None
    assert (channel.paid, channel.voucher_nonce) == (200_000, 2)


async def test_a_voucher_for_an_unknown_channel_is_refused(world: World) -> None:
    unknown = VoucherPayload(Voucher(bytes(32), 1, 1), DRIVER.public_key, DRIVER.sign(b"x"))
    with pytest.raises(VoucherRejectedError) as refused:
        await world.service.submit_voucher(unknown)
    assert refused.value.reason == VoucherRejection.WRONG_CHANNEL


async def test_concurrent_vouchers_share_a_commit_and_all_count(world: World) -> None:
    results = await asyncio.gather(
        *(world.service.submit_voucher(voucher(n, 10_000 * n)) for n in range(1, 41))
    )
    assert results == [10_000 * n for n in range(1, 41)]
    channel = world.store.channel(CHANNEL.hex())
    assert channel is not None
    assert (channel.paid, channel.voucher_nonce) == (400_000, 40)


async def test_a_voucher_stored_by_another_process_fails_the_whole_batch(world: World) -> None:
    """The compare-and-set on the voucher nonce: all of a batch is written, or none of it."""
    fleet = pow_rs.SigningKey(bytes([7]) * 32)
    fleet_channel = pow_rs.blake2b_256(b"fleet channel")
    world.store.add_channel(
        ChannelRecord(
            channel_id=fleet_channel.hex(),
            account_id="alice",
            payer_address=Ed25519Address.from_public_key(fleet.public_key).to_bytes().hex(),
            deposit=20_000_000,
            expiry=T0 + dt.timedelta(days=30),
        )
    )

    def fleet_voucher(nonce: int, amount: int) -> VoucherPayload:
        body = Voucher(fleet_channel, nonce, amount)
        return VoucherPayload(body, fleet.public_key, fleet.sign(body.signing_message()))

    def on_disk(channel_id: bytes) -> tuple[int, int]:
        channel = world.store.channel(channel_id.hex())
        assert channel is not None
        return channel.paid, channel.voucher_nonce

    def credit_of(channel_id: bytes, store: PaymentStore) -> ChannelCredit:
        credit = store.channel_credit(channel_id.hex())
        assert credit is not None
        return credit

    def write(store: PaymentStore, *payloads: VoucherPayload) -> list[ChannelCredit]:
        writes = [VoucherWrite(credit_of(p.voucher.channel_id, store), p) for p in payloads]
        results = store.store_vouchers(writes)
        assert all(isinstance(result, ChannelCredit) for result in results)
        return [result for result in results if isinstance(result, ChannelCredit)]

    first = world.store
    after = write(first, voucher(1, 100_000), fleet_voucher(1, 50_000))
    assert [credit.paid for credit in after] == [100_000, 50_000]
    rival = PaymentStore(first.engine)  # a second engine process on the same database
    assert [credit.paid for credit in write(rival, voucher(2, 200_000))] == [200_000]
    stale = [VoucherWrite(after[0], voucher(3, 300_000)), VoucherWrite(after[1], fleet_voucher(2, 60_000))]
    with pytest.raises(StaleVoucherError):
        first.store_vouchers(stale)
    assert on_disk(CHANNEL) == (200_000, 2)
    assert on_disk(fleet_channel) == (50_000, 1)  # rolled back with the stale channel
    # Re-read after the failure, the same vouchers go through.
    assert [c.paid for c in write(first, voucher(3, 300_000), fleet_voucher(2, 60_000))] == [300_000, 60_000]
    assert (on_disk(CHANNEL), on_disk(fleet_channel)) == ((300_000, 3), (60_000, 2))


def retrying(world: World, commands: Recorder, pauses: tuple[float, ...]) -> PaymentService:
    settings = PaymentSettings(command_retry_delays=pauses)
    return PaymentService(world.store, commands, lambda _cp: "city", settings, clock=world.clock)


class Flaky(Recorder):
    """Refuses the first `refusals` stops (too early: the charger does not know the transaction
    yet), then takes them."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals
        self.tried = asyncio.Event()

    async def stop(self, charge_point_id: str, transaction_ref: str) -> bool:
        await super().stop(charge_point_id, transaction_ref)
        self.refusals -= 1
        self.tried.set()
        return self.refusals < 0


async def test_a_refused_stop_is_tried_again_until_the_charger_takes_it(world: World) -> None:
    """Before, a stop the charger refused (it came before the transaction's ID) was dropped and
    the unpaid session ran on."""
    commands = Flaky(refusals=2)
    service = retrying(world, commands, (0.0, 0.0, 0.0))
    await service.handle(started(token="FFFF"))  # an unknown token: stopped at once
    await service.commands_sent()
    assert commands.calls == [("stop", "tx1")] * 3


async def test_a_stop_is_not_retried_once_its_session_ended(world: World) -> None:
    commands = Flaky(refusals=100)
    service = retrying(world, commands, (0.05,) * 100)
    await service.handle(started(token="FFFF"))
    await commands.tried.wait()
    ended = SessionEnded(1, "CP1", 1, "tx1", 0, EndReason.LOCAL, False, world.clock())
    await service.handle(ended)
    await asyncio.wait_for(service.commands_sent(), 5)
    assert 1 <= len(commands.calls) < 10


async def test_an_end_the_payment_layer_never_applied_is_billed_when_the_engine_starts(world: World) -> None:
    """The charger's StopTransaction was answered (the charging side ended the session), then
    the process died before the channel's owner applied the end. Before, the session stayed
    `active` for good: its final energy never billed, nothing asked for, never settled."""
    await world.service.handle(started())
    await world.service.handle(reading(10, 1_000))
    end = T0 + dt.timedelta(minutes=20)

    def ended(session_ids: list[int]) -> dict[int, tuple[int, dt.datetime]]:
        return {1: (2_000, end)} if 1 in session_ids else {}

    settings = PaymentSettings(limit_after=dt.timedelta(seconds=30), stop_after=dt.timedelta(seconds=90))
    restarted = PaymentService(
        world.store, Recorder(), lambda _cp: "city", settings, clock=world.clock, ends_loader=ended
    )
    asked: list[PaymentRequest] = []

    async def collect(request: PaymentRequest) -> None:
        asked.append(request)

    restarted.subscribe(collect)
    await restarted.recover()
    record = world.store.session(1)
    assert record is not None
    assert (record.status, record.billed, record.shortfall, record.ended_at) == (
        "unpaid",
        714_000,
        714_000,
        end,
    )
    assert [(r.session_ids, r.amount) for r in asked] == [((1,), 714_000)]


async def test_a_debt_paid_just_before_a_crash_is_settled_when_its_channel_loads(world: World) -> None:
    """A voucher stored, and the process gone before the debt it pays was attributed: the payer
    must not be refused for a debt it paid, and the session must turn paid."""
    service = world.service
    await service.handle(started())
    await service.handle(reading(10, 1_000))
    await service.handle(
        SessionEnded(1, "CP1", 1, "tx1", 1_000, EndReason.LOCAL, False, T0 + dt.timedelta(minutes=10))
    )
    assert debts(world, 1) == [("unpaid", 357_000)]
    credit = world.store.channel_credit(CHANNEL.hex())
    assert credit is not None
    world.store.store_vouchers([VoucherWrite(credit, voucher(1, 357_000))])  # stored, then the crash
    restarted = make_service(world.store, world.clock, Recorder())
    assert (await restarted.authorize("CP1", "04a2b3c4")).accepted
    await restarted.idle()
    assert debts(world, 1) == [("paid", 0)]


async def test_a_cap_set_before_a_restart_is_lifted_by_the_voucher_after_it(world: World) -> None:
    """The owner loaded after a restart knows the session it capped (from its row): the voucher
    that covers the debt lifts the cap. Before, the cap was forgotten and stayed on the charger."""
    await world.service.handle(started())
    await world.service.handle(MeterReading("CP1", 1, 1, 5, 5, T0 + dt.timedelta(seconds=5)))
    assert (await sent(world)) == [("limit", "tx1", "3700")]
    commands = Recorder()
    restarted = make_service(world.store, world.clock, commands)
    await restarted.submit_voucher(voucher(1, world.requests[-1].amount))
    await restarted.commands_sent()
    assert commands.calls == [("clear", "tx1")]


async def test_a_price_lost_in_a_crash_is_restored_from_the_stored_readings(world: World) -> None:
    """A reading's new price is written without waiting for the commit; after a crash that lost
    it, the loaded owner prices the session again from its readings."""
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, 2_000_000))
    await service.handle(reading(10, 1_000))
    await service.idle()
    with world.store.engine.begin() as db:  # the crash: the last price never reached the disk
        db.execute(update(SessionPaymentRecord).values(billed=0, energy_wh=0))
    stored = [MeterSample(T0 + dt.timedelta(minutes=10), 1_000)]
    restarted = make_service(world.store, world.clock, world.commands, loader=lambda _sid: list(stored))
    await restarted.recover()
    record = world.store.session(1)
    assert record is not None
    assert (record.billed, record.energy_wh) == (357_000, 1_000)


async def test_an_idle_channels_owner_leaves_memory_and_comes_back_with_its_debt(world: World) -> None:
    """Owners were never dropped: an engine up for months kept one per channel it ever saw."""
    service = world.service
    await service.handle(started())
    await service.submit_voucher(voucher(1, WINDOW))
    world.clock.now = T0 + dt.timedelta(minutes=30)
    assert service.evict_idle_owners() == 0  # a session runs on it
    await service.handle(ended(1, 2_000, 10))
    await service.idle()
    assert service.evict_idle_owners() == 0  # used just now
    world.clock.now += PaymentSettings().idle_owner_after + dt.timedelta(seconds=1)
    assert service.evict_idle_owners() == 1
    assert service.owners_in_memory == 0
    assert not (await service.authorize("CP1", "04a2b3c4")).accepted  # the debt was kept
    await service.submit_voucher(voucher(2, world.requests[-1].amount))  # loads it again
    assert service.owners_in_memory == 1
    assert debts(world, 1) == [("paid", 0)]
    assert (await service.authorize("CP1", "04a2b3c4")).accepted
